import { describe, expect, it } from 'vitest';
import { ENTERPRISE_SCHEMA, patchBody, q, USER_SCHEMA, useScimRoster } from '../helpers/scim.js';

/**
 * Issue 15 §1: every attribute /Schemas advertises as writable round-trips, as the IdP sent it; PATCH
 * applies Entra's and Okta's forms to it; filters reach it. Each test sends what the IdP sends and
 * checks the exact answer.
 */
const roster = useScimRoster();

/** A user as Entra ID provisions one with its default attribute mappings (and a few more). */
function entraUser(email: string, home: string) {
  return {
    schemas: [USER_SCHEMA, ENTERPRISE_SCHEMA],
    externalId: `ext-${email}`,
    userName: email,
    active: true,
    displayName: 'Barbara Jensen',
    nickName: 'Babs',
    title: 'Tour Guide',
    userType: 'Employee',
    preferredLanguage: 'en-US',
    locale: 'en-US',
    timezone: 'America/Los_Angeles',
    name: { formatted: 'Ms. Barbara J Jensen III', familyName: 'Jensen', givenName: 'Barbara', middleName: 'Jane', honorificPrefix: 'Ms.' },
    emails: [
      { value: home, type: 'home' },
      { value: email, type: 'work', primary: true },
    ],
    phoneNumbers: [
      { value: '+1 555 555 5555', type: 'work' },
      { value: '+1 555 555 4444', type: 'mobile' },
    ],
    addresses: [
      { type: 'work', streetAddress: '100 Universal City Plaza', locality: 'Hollywood', region: 'CA', postalCode: '91608', country: 'USA', primary: true },
    ],
    roles: [{ value: 'Admin', type: 'WindowsAzureActiveDirectoryRole', primary: true }],
    [ENTERPRISE_SCHEMA]: {
      employeeNumber: '701984',
      costCenter: '4130',
      organization: 'Universal Studios',
      division: 'Theme Park',
      department: 'Tour Operations',
      manager: { value: '26118915-6090-4610-87e4-49d8ca9f808d' },
    },
  };
}

/** The response without what the server adds (id, meta, groups, schemas). */
function sent(body: Record<string, unknown>) {
  const { id: _i, meta: _m, groups: _g, schemas: _s, ...rest } = body;
  return rest;
}

describe('SCIM fidelity: the user as the IdP sent it', () => {
  it('every writable attribute of a full Entra user round-trips on POST, GET by id and in a filtered list, with its email types', async () => {
    const h = roster();
    const { org, token, mail } = await h.newOrgWithToken();
    const email = mail('babs');
    const body = entraUser(email, `babs.${h.tag()}@home.example.com`);
    const created = await h.scim(token, 'POST', '/Users', body);
    expect(created.status, created.text).toBe(201);
    const { schemas: _, ...expected } = body;
    expect(sent(created.body)).toEqual(expected);
    expect(created.body.schemas).toEqual([USER_SCHEMA, ENTERPRISE_SCHEMA]);
    const byId = await h.scim(token, 'GET', `/Users/${created.body.id}`);
    expect(byId.body).toEqual(created.body);
    const listed = await h.scim(token, 'GET', `/Users?filter=${q(`userName eq "${email}"`)}`);
    expect(listed.body.Resources[0]).toEqual(created.body);
    // The primary work email is the one Roster keys the person by.
    expect(await h.memberByEmail(org, email)).toMatchObject({ source: 'scim', status: 'active' });
  });

  it('Entra ID PATCH forms apply to the kept user: enterprise-URN paths, manager by id, new phone and address by type, pathless replace', async () => {
    const h = roster();
    const { token, mail } = await h.newOrgWithToken();
    const email = mail('entra.patch');
    const created = await h.scim(token, 'POST', '/Users', { schemas: [USER_SCHEMA], userName: email, emails: [{ value: email, type: 'work', primary: true }] });
    expect(created.status, created.text).toBe(201);
    const id = created.body.id as string;
    const r = await h.scim(
      token,
      'PATCH',
      `/Users/${id}`,
      patchBody(
        { op: 'Add', path: `${ENTERPRISE_SCHEMA}:employeeNumber`, value: '1234' },
        { op: 'Replace', path: `${ENTERPRISE_SCHEMA}:department`, value: 'Sales' },
        { op: 'Add', path: `${ENTERPRISE_SCHEMA}:manager`, value: 'manager-object-id' },
        { op: 'Add', path: 'phoneNumbers[type eq "work"].value', value: '+1 555 0100' },
        { op: 'Add', path: 'phoneNumbers[type eq "mobile"].value', value: '+1 555 0199' },
        { op: 'Add', path: 'addresses[type eq "work"].formatted', value: '1 Main St, Springfield' },
        { op: 'Add', path: 'addresses[type eq "work"].locality', value: 'Springfield' },
        { op: 'Replace', path: 'title', value: 'Account Executive' },
        { op: 'Replace', value: { 'name.givenName': 'Ada', 'name.familyName': 'Lovelace', 'name.formatted': 'Ada Lovelace', active: 'True' } },
      ),
    );
    expect(r.status, r.text).toBe(200);
    expect(r.body).toMatchObject({
      title: 'Account Executive',
      name: { formatted: 'Ada Lovelace', familyName: 'Lovelace', givenName: 'Ada' },
      phoneNumbers: [
        { value: '+1 555 0100', type: 'work' },
        { value: '+1 555 0199', type: 'mobile' },
      ],
      addresses: [{ formatted: '1 Main St, Springfield', locality: 'Springfield', type: 'work' }],
      [ENTERPRISE_SCHEMA]: { employeeNumber: '1234', department: 'Sales', manager: { value: 'manager-object-id' } },
    });
    expect(r.body.schemas).toEqual([USER_SCHEMA, ENTERPRISE_SCHEMA]);
    expect((await h.scim(token, 'GET', `/Users/${id}`)).body).toEqual(r.body);

    // A phone of that type now exists: replacing its value changes it, and adds no second one.
    const again = await h.scim(token, 'PATCH', `/Users/${id}`, patchBody({ op: 'Replace', path: 'phoneNumbers[type eq "work"].value', value: '+1 555 0111' }));
    expect(again.body.phoneNumbers).toEqual([
      { value: '+1 555 0111', type: 'work' },
      { value: '+1 555 0199', type: 'mobile' },
    ]);
    const removed = await h.scim(token, 'PATCH', `/Users/${id}`, patchBody({ op: 'Remove', path: `${ENTERPRISE_SCHEMA}:manager` }));
    expect(removed.body[ENTERPRISE_SCHEMA]).toEqual({ employeeNumber: '1234', department: 'Sales' });
    const noExtension = await h.scim(
      token,
      'PATCH',
      `/Users/${id}`,
      patchBody({ op: 'Remove', path: `${ENTERPRISE_SCHEMA}:employeeNumber` }, { op: 'Remove', path: `${ENTERPRISE_SCHEMA}:department` }),
    );
    expect(noExtension.body[ENTERPRISE_SCHEMA]).toBeUndefined();
    expect(noExtension.body.schemas).toEqual([USER_SCHEMA]);
  });

  it("Okta's profile update (PUT of the whole user) replaces the kept user: changed attributes change, omitted ones go", async () => {
    const h = roster();
    const { token, mail } = await h.newOrgWithToken();
    const email = mail('okta.put');
    const body = entraUser(email, `okta.${h.tag()}@home.example.com`);
    const created = await h.scim(token, 'POST', '/Users', body);
    const id = created.body.id as string;
    const { nickName: _n, phoneNumbers: _p, [ENTERPRISE_SCHEMA]: _e, ...rest } = body;
    const put = await h.scim(token, 'PUT', `/Users/${id}`, {
      ...rest,
      schemas: [USER_SCHEMA],
      id,
      title: 'Head Guide',
      name: { ...body.name, givenName: 'Babs' },
    });
    expect(put.status, put.text).toBe(200);
    expect(put.body.title).toBe('Head Guide');
    expect(put.body.name.givenName).toBe('Babs');
    for (const gone of ['nickName', 'phoneNumbers', ENTERPRISE_SCHEMA]) expect(put.body[gone], gone).toBeUndefined();
    expect((await h.scim(token, 'GET', `/Users/${id}`)).body).toEqual(put.body);
  });

  it('filters reach the kept attributes Entra and Okta filter on: any email, one email by type, enterprise attributes, phones', async () => {
    const h = roster();
    const { token, mail } = await h.newOrgWithToken();
    const email = mail('filtered');
    const home = `filtered.${h.tag()}@home.example.com`;
    const created = await h.scim(token, 'POST', '/Users', entraUser(email, home));
    const other = await h.scim(token, 'POST', '/Users', { schemas: [USER_SCHEMA], userName: mail('other') });
    expect(other.status, other.text).toBe(201);
    const ids = async (filter: string) => {
      const r = await h.scim(token, 'GET', `/Users?filter=${q(filter)}`);
      expect(r.status, `${filter}: ${r.text}`).toBe(200);
      return r.body.Resources.map((u: { id: string }) => u.id);
    };
    const me = [created.body.id];
    expect(await ids(`emails.value eq "${home.toUpperCase()}"`)).toEqual(me);
    expect(await ids(`emails[type eq "home"].value eq "${home}"`)).toEqual(me);
    expect(await ids(`emails[type eq "work" and value eq "${email}"]`)).toEqual(me);
    // The two comparisons hold for one email, not for two different ones.
    expect(await ids(`emails[type eq "work" and value eq "${home}"]`)).toEqual([]);
    expect(await ids(`${ENTERPRISE_SCHEMA}:employeeNumber eq "701984"`)).toEqual(me);
    expect(await ids(`${ENTERPRISE_SCHEMA}:manager.value eq "26118915-6090-4610-87e4-49d8ca9f808d"`)).toEqual(me);
    expect(await ids(`title eq "tour guide" and phoneNumbers[type eq "mobile"].value co "4444"`)).toEqual(me);
    expect(await ids('roles[primary eq true].value eq "Admin"')).toEqual(me);
    expect(await ids(`nickName pr and userName eq "${email}"`)).toEqual(me);
  });

  it('a userName that is no email with no emails is kept with no membership, listed, and joins the org once an email arrives', async () => {
    const h = roster();
    const { org, token, mail } = await h.newOrgWithToken();
    const members = await h.count('memberships', `org_id = '${org.id}'`);
    const userName = `jdoe${h.tag()}`;
    const created = await h.scim(token, 'POST', '/Users', { schemas: [USER_SCHEMA], userName, name: { givenName: 'Jane', familyName: 'Doe' } });
    expect(created.status, created.text).toBe(201);
    expect(created.body).toMatchObject({ userName, active: true, name: { givenName: 'Jane', familyName: 'Doe' } });
    expect(await h.count('memberships', `org_id = '${org.id}'`)).toBe(members);
    const listed = await h.scim(token, 'GET', `/Users?filter=${q(`userName eq "${userName}"`)}`);
    expect(listed.body.Resources).toEqual([created.body]);

    const email = mail('jdoe');
    const patched = await h.scim(
      token,
      'PATCH',
      `/Users/${created.body.id}`,
      patchBody({ op: 'add', path: 'emails', value: [{ value: email, type: 'work', primary: true }] }),
    );
    expect(patched.status, patched.text).toBe(200);
    expect(await h.memberByEmail(org, email)).toMatchObject({ source: 'scim', status: 'active' });
    expect(await h.count('memberships', `org_id = '${org.id}'`)).toBe(members + 1);
    // Deprovisioned, the membership SCIM granted goes with it.
    expect((await h.scim(token, 'DELETE', `/Users/${created.body.id}`)).status).toBe(204);
    expect(await h.count('memberships', `org_id = '${org.id}'`)).toBe(members);
  });

  it('a user kept without an email can be deactivated and deleted (no membership to suspend or end)', async () => {
    const h = roster();
    const { token } = await h.newOrgWithToken();
    const created = await h.scim(token, 'POST', '/Users', { schemas: [USER_SCHEMA], userName: `kiosk${h.tag()}`, active: false });
    expect(created.status, created.text).toBe(201);
    const off = await h.scim(token, 'PATCH', `/Users/${created.body.id}`, patchBody({ op: 'replace', value: { active: true } }));
    expect(off.status, off.text).toBe(200);
    expect(off.body.active).toBe(true);
    expect((await h.scim(token, 'DELETE', `/Users/${created.body.id}`)).status).toBe(204);
  });

  it('a second SCIM user with the email of another in the org is 409 uniqueness, and /Schemas says why', async () => {
    const h = roster();
    const { token, mail } = await h.newOrgWithToken();
    const email = mail('twice');
    expect((await h.scim(token, 'POST', '/Users', { schemas: [USER_SCHEMA], userName: `first${h.tag()}`, emails: [{ value: email }] })).status).toBe(201);
    const second = await h.scim(token, 'POST', '/Users', { schemas: [USER_SCHEMA], userName: `second${h.tag()}`, emails: [{ value: email }] });
    expect(second.status, second.text).toBe(409);
    expect(second.body).toMatchObject({ scimType: 'uniqueness', detail: expect.stringContaining(email) });
    const schema = await h.scim(token, 'GET', `/Schemas/${USER_SCHEMA}`);
    const emails = schema.body.attributes.find((a: { name: string }) => a.name === 'emails');
    expect(emails.description).toMatch(/409/);
  });

  it('a PATCH that changes nothing writes nothing: no audit event, same lastModified', async () => {
    const h = roster();
    const { org, token, mail } = await h.newOrgWithToken();
    const created = await h.scim(token, 'POST', '/Users', { schemas: [USER_SCHEMA], userName: mail('same'), title: 'Guide' });
    const events = await h.count('audit_events', `org_id = '${org.id}'`);
    const r = await h.scim(token, 'PATCH', `/Users/${created.body.id}`, patchBody({ op: 'replace', value: { title: 'Guide', active: true } }));
    expect(r.status, r.text).toBe(200);
    expect(r.body.meta.lastModified).toBe(created.body.meta.lastModified);
    expect(await h.count('audit_events', `org_id = '${org.id}'`)).toBe(events);
  });

  it('parallel PATCHes of one user (an IdP sends them) each apply to what the one before wrote: none is lost', async () => {
    const h = roster();
    const { token, mail } = await h.newOrgWithToken();
    const created = await h.scim(token, 'POST', '/Users', { schemas: [USER_SCHEMA], userName: mail('parallel') });
    const id = created.body.id as string;
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        h.scim(token, 'PATCH', `/Users/${id}`, patchBody({ op: 'add', path: 'phoneNumbers', value: [{ value: `+1 555 01${i}0`, type: 'work' }] })),
      ),
    );
    for (const r of results) expect(r.status, r.text).toBe(200);
    const final = await h.scim(token, 'GET', `/Users/${id}`);
    expect(final.body.phoneNumbers.map((p: { value: string }) => p.value).sort()).toEqual(Array.from({ length: 8 }, (_, i) => `+1 555 01${i}0`));
  });

  it('a kept attribute with a control character is 400 naming it; a user of more than 64 kB is 400; neither is stored', async () => {
    const h = roster();
    const { org, token, mail } = await h.newOrgWithToken();
    const bad = await h.scim(token, 'POST', '/Users', { schemas: [USER_SCHEMA], userName: mail('ctl'), addresses: [{ streetAddress: 'a\u0007b' }] });
    expect(bad.status, bad.text).toBe(400);
    expect(bad.body.detail).toContain('addresses[0].streetAddress');
    const big = await h.scim(token, 'POST', '/Users', { schemas: [USER_SCHEMA], userName: mail('big'), title: 'x'.repeat(70_000) });
    expect(big.status, big.text).toBe(400);
    expect(big.body.detail).toMatch(/64 kB/);
    expect(await h.count('scim_users', `org_id = '${org.id}'`)).toBe(0);
  });
});
