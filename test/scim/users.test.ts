import { describe, expect, it } from 'vitest';
import { accountActor } from '../../src/domain/context.js';
import { joinByInvite } from '../helpers/fixtures.js';
import { ERROR_SCHEMA, patchBody, q, useScimRoster, userBody, type ScimHarness } from '../helpers/scim.js';

/**
 * /Users: what each request does to Roster's accounts and memberships (SPEC §6). The people are on the
 * org's verified domain (`mail`), where its IdP grants access at once (§10; the other case is consent.test.ts).
 */
const roster = useScimRoster();

async function provision(h: ScimHarness, token: string, userName: string, extra: Record<string, unknown> = {}) {
  const r = await h.scim(token, 'POST', '/Users', userBody(userName, extra));
  expect(r.status, r.text).toBe(201);
  return r.body as { id: string; userName: string } & Record<string, any>;
}

describe('POST /Users', () => {
  it('creates the account and a membership with the org default SCIM role', async () => {
    const h = roster();
    const { org, owner, token, mail } = await h.newOrgWithToken();
    await h.domain.scim.updateSettings(owner.actor, org.id, { defaultRole: 'developer' });
    const email = mail('new.person');
    const accountsBefore = await h.count('accounts');

    const u = await provision(h, token, email, { displayName: 'New Person' });

    expect(await h.count('accounts')).toBe(accountsBefore + 1);
    expect(await h.memberByEmail(org, email)).toMatchObject({
      displayName: 'New Person',
      role: 'developer',
      status: 'active',
      source: 'scim',
      scimBaseRole: null,
    });
    expect(await h.count('scim_users', `id = '${u.id}' and org_id = '${org.id}'`)).toBe(1);
  });

  it('a user created with active=false gets a suspended membership', async () => {
    const h = roster();
    const { org, token, mail } = await h.newOrgWithToken();
    const email = mail('inactive');
    const u = await provision(h, token, email, { active: false });
    expect(u.active).toBe(false);
    expect(await h.memberByEmail(org, email)).toMatchObject({ status: 'suspended', source: 'scim' });
  });

  it('links an existing account with the same email in any case instead of creating one', async () => {
    const h = roster();
    const { org, token, mail } = await h.newOrgWithToken();
    const known = await h.domain.accounts.findOrCreateByEmail(mail('known.person'), 'Known Person');
    const accountsBefore = await h.count('accounts');

    const u = await provision(h, token, known.email!.toUpperCase());

    expect(await h.count('accounts')).toBe(accountsBefore);
    expect(await h.count('scim_users', `id = '${u.id}' and account_id = '${known.id}'`)).toBe(1);
    const m = await h.memberByEmail(org, known.email!);
    // In the org the IdP's name shows; the account keeps the name the person gave it.
    expect(m).toMatchObject({ accountId: known.id, displayName: 'Test User', source: 'scim', status: 'active' });
    expect((await h.domain.accounts.get(known.id)).displayName).toBe('Known Person');
    // The account is the person's own: they act in the org as themselves.
    await expect(h.domain.members.list(accountActor(known.id, 'api'), org.id)).resolves.toHaveLength(2);
  });

  it('links a member who joined by invite, keeps their role, and DELETE leaves their membership', async () => {
    const h = roster();
    const { org, owner, token } = await h.newOrgWithToken();
    const invited = await h.member(org, owner.actor, 'admin');
    const membersBefore = await h.count('memberships', `org_id = '${org.id}'`);

    const u = await provision(h, token, invited.account.email!);
    expect(await h.count('memberships', `org_id = '${org.id}'`)).toBe(membersBefore);
    expect(await h.memberByEmail(org, invited.account.email!)).toMatchObject({ role: 'admin', source: 'invite', status: 'active' });

    const del = await h.scim(token, 'DELETE', `/Users/${u.id}`);
    expect(del.status, del.text).toBe(204);
    // SCIM only takes away what it granted: the invited admin stays an admin.
    expect(await h.memberByEmail(org, invited.account.email!)).toMatchObject({ role: 'admin', source: 'invite', status: 'active' });
    expect(await h.count('scim_users', `id = '${u.id}'`)).toBe(0);
    await expect(h.domain.members.list(invited.actor, org.id)).resolves.toHaveLength(2);
  });

  it('a duplicate userName (any case) is 409 uniqueness and creates nothing', async () => {
    const h = roster();
    const { org, token, mail } = await h.newOrgWithToken();
    const userName = mail('dup');
    await provision(h, token, userName);
    const audit = await h.count('audit_events', `org_id = '${org.id}'`);

    const again = await h.scim(token, 'POST', '/Users', userBody(userName.toUpperCase(), { emails: [{ value: mail('other'), type: 'work', primary: true }] }));

    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ schemas: [ERROR_SCHEMA], status: '409', scimType: 'uniqueness' });
    expect(again.body.detail).toMatch(/already exists/);
    expect(await h.count('scim_users', `org_id = '${org.id}'`)).toBe(1);
    expect(await h.count('memberships', `org_id = '${org.id}'`)).toBe(2);
    expect(await h.count('audit_events', `org_id = '${org.id}'`)).toBe(audit);
  });

  it('a second userName for a person already provisioned (same email) is 409 uniqueness', async () => {
    const h = roster();
    const { org, token, mail } = await h.newOrgWithToken();
    const email = mail('twice');
    await provision(h, token, email);
    const r = await h.scim(
      token,
      'POST',
      '/Users',
      userBody(`another-name-${h.tag()}`, { emails: [{ value: email.toUpperCase(), type: 'work', primary: true }] }),
    );
    expect(r.status, r.text).toBe(409);
    expect(r.body.scimType).toBe('uniqueness');
    expect(r.body.detail).toMatch(/already provisioned/);
    expect(await h.count('scim_users', `org_id = '${org.id}'`)).toBe(1);
  });

  it('the same user posted twice at once is created once; the other request gets 409, not 500', async () => {
    const h = roster();
    const { org, token, mail } = await h.newOrgWithToken();
    const email = mail('race');
    const results = await Promise.all([0, 1, 2].map(() => h.scim(token, 'POST', '/Users', userBody(email))));
    expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409]);
    expect(await h.count('scim_users', `org_id = '${org.id}'`)).toBe(1);
    expect(await h.count('accounts', `lower(email) = lower('${email}')`)).toBe(1);
    expect(await h.count('memberships', `org_id = '${org.id}'`)).toBe(2);
  });

  it('emails given and none of them an address is 400 invalidValue and creates nothing', async () => {
    const h = roster();
    const { org, token } = await h.newOrgWithToken();
    const accounts = await h.count('accounts');

    for (const body of [
      userBody(`still-not-${h.tag()}`, { emails: [{ value: 'nope', type: 'work', primary: true }] }),
      userBody(`neither-${h.tag()}`, { emails: [{ value: 'nope' }, { value: 'also nope', type: 'home' }] }),
    ]) {
      const r = await h.scim(token, 'POST', '/Users', body);
      expect(r.status, r.text).toBe(400);
      expect(r.body).toMatchObject({ schemas: [ERROR_SCHEMA], status: '400', scimType: 'invalidValue' });
      expect(r.body.detail).toMatch(/email/i);
    }
    expect(await h.count('accounts')).toBe(accounts);
    expect(await h.count('scim_users', `org_id = '${org.id}'`)).toBe(0);
    expect(await h.count('memberships', `org_id = '${org.id}'`)).toBe(1);
  });

  it('a userName that is an email is enough when emails are missing', async () => {
    const h = roster();
    const { org, token, mail } = await h.newOrgWithToken();
    const email = mail('only.username');
    const r = await h.scim(token, 'POST', '/Users', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: email });
    expect(r.status, r.text).toBe(201);
    // Answered as sent (no emails), and the userName is the email Roster keys the person by.
    expect(r.body.emails).toBeUndefined();
    expect(await h.memberByEmail(org, email)).toMatchObject({ source: 'scim', status: 'active' });
  });

  it('past the seat limit is 403 and creates neither account, SCIM user nor membership', async () => {
    const h = roster();
    const { org, owner, token, mail } = await h.newOrgWithToken();
    await h.domain.orgs.updateSettings(owner.actor, org.id, { seatLimit: 2 });
    await provision(h, token, mail('user'));
    const accounts = await h.count('accounts');

    const email = mail('one.too.many');
    const r = await h.scim(token, 'POST', '/Users', userBody(email));

    expect(r.status, r.text).toBe(403);
    expect(r.body).toMatchObject({ schemas: [ERROR_SCHEMA], status: '403' });
    expect(r.body.detail).toMatch(/seat/i);
    expect(await h.count('accounts')).toBe(accounts);
    expect(await h.count('scim_users', `org_id = '${org.id}'`)).toBe(1);
    expect(await h.count('memberships', `org_id = '${org.id}'`)).toBe(2);
    expect(await h.count('audit_events', `org_id = '${org.id}' and action = 'scim.user_provisioned'`)).toBe(1);

    // Requests racing for the last seats never overshoot the limit.
    await h.domain.orgs.updateSettings(owner.actor, org.id, { seatLimit: 4 });
    const race = await Promise.all([0, 1, 2, 3, 4].map((i) => h.scim(token, 'POST', '/Users', userBody(mail(`seat.${i}`)))));
    expect(race.map((r) => r.status).sort()).toEqual([201, 201, 403, 403, 403]);
    expect(await h.count('memberships', `org_id = '${org.id}'`)).toBe(4);

    // An existing member takes no new seat: linking them still works at the limit.
    await h.domain.orgs.updateSettings(owner.actor, org.id, { seatLimit: 5 });
    const invited = await h.member(org, owner.actor, 'member');
    const link = await h.scim(token, 'POST', '/Users', userBody(invited.account.email!));
    expect(link.status, link.text).toBe(201);
  });
});

describe('GET /Users', () => {
  it('reads one user by id', async () => {
    const h = roster();
    const { token, mail } = await h.newOrgWithToken();
    const u = await provision(h, token, mail('read'), { externalId: 'ext-1', displayName: 'Read Me' });
    const r = await h.scim(token, 'GET', `/Users/${u.id}`);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      id: u.id,
      userName: u.userName,
      externalId: 'ext-1',
      displayName: 'Read Me',
      active: true,
      name: { givenName: 'Test', familyName: 'User' },
      meta: { resourceType: 'User', location: `https://roster.test/scim/v2/Users/${u.id}` },
    });
  });

  it('pages a list of 25 users with startIndex and count, and totalResults counts them all', async () => {
    const h = roster();
    const { token, mail } = await h.newOrgWithToken();
    const created: string[] = [];
    for (let i = 0; i < 25; i++) {
      created.push((await provision(h, token, mail(`page.${i}`))).id);
      h.clock.advance(1000);
    }

    const seen: string[] = [];
    for (const [start, size] of [
      [1, 10],
      [11, 10],
      [21, 5],
    ] as const) {
      const r = await h.scim(token, 'GET', `/Users?startIndex=${start}&count=10`);
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ totalResults: 25, startIndex: start, itemsPerPage: size });
      expect(r.body.Resources).toHaveLength(size);
      seen.push(...r.body.Resources.map((x: { id: string }) => x.id));
    }
    // Every user once, in creation order, none twice.
    expect(seen).toEqual(created);

    const past = await h.scim(token, 'GET', '/Users?startIndex=26&count=10');
    expect(past.body).toMatchObject({ totalResults: 25, itemsPerPage: 0, Resources: [] });
    const countOnly = await h.scim(token, 'GET', '/Users?count=0');
    expect(countOnly.body).toMatchObject({ totalResults: 25, itemsPerPage: 0 });
    const defaults = await h.scim(token, 'GET', '/Users');
    expect(defaults.body).toMatchObject({ totalResults: 25, startIndex: 1, itemsPerPage: 25 });
    // A filtered page counts the matches, not the org.
    const filtered = await h.scim(token, 'GET', `/Users?filter=${q('userName sw "page.1"')}&count=3`);
    expect(filtered.body.totalResults).toBe(11); // page.1 and page.10 … page.19
    expect(filtered.body.itemsPerPage).toBe(3);
  });

  it('filters with or/and, co/sw/ew/pr and active, case-insensitively for userName and emails', async () => {
    const h = roster();
    const { token, domain } = await h.newOrgWithToken();
    const t = h.tag();
    const a = await provision(h, token, `Alice.${t}@${domain.replace('example', 'Example')}`, { externalId: `A-${t}` });
    h.clock.advance(5000);
    const b = await provision(h, token, `bob.${t}@${domain}`, { active: false, displayName: 'Bob' });
    const ids = async (filter: string) => {
      const r = await h.scim(token, 'GET', `/Users?filter=${q(filter)}`);
      expect(r.status, `${filter}: ${r.text}`).toBe(200);
      return r.body.Resources.map((x: { id: string }) => x.id).sort();
    };
    expect(await ids(`userName eq "alice.${t}@${domain}"`)).toEqual([a.id]);
    expect(await ids(`emails.value eq "ALICE.${t}@${domain.toUpperCase()}"`)).toEqual([a.id]);
    expect(await ids(`externalId eq "A-${t}"`)).toEqual([a.id]);
    // externalId is caseExact: another case is another id.
    expect(await ids(`externalId eq "a-${t}"`)).toEqual([]);
    expect(await ids(`userName eq "alice.${t}@${domain}" or userName eq "BOB.${t}@${domain}"`)).toEqual([a.id, b.id].sort());
    expect(await ids(`userName co "${t}" and active eq true`)).toEqual([a.id]);
    expect(await ids(`userName co "${t}" and active eq false`)).toEqual([b.id]);
    expect(await ids(`userName sw "BOB.${t}"`)).toEqual([b.id]);
    expect(await ids(`userName ew "${t}@${domain.replace('example', 'EXAMPLE')}" and displayName pr`)).toEqual([b.id]);
    expect(await ids(`userName ne "bob.${t}@${domain}" and userName co "${t}"`)).toEqual([a.id]);
    expect(await ids(`id eq "${b.id}"`)).toEqual([b.id]);
    // meta.created and meta.lastModified compare as times.
    const created = new Date(b.meta.created);
    expect(await ids(`userName co "${t}" and meta.created ge "${created.toISOString()}"`)).toEqual([b.id]);
    expect(await ids(`userName co "${t}" and meta.created lt "${created.toISOString()}"`)).toEqual([a.id]);
    expect(await ids(`userName co "${t}" and meta.lastModified gt "2000-01-01T00:00:00Z"`)).toEqual([a.id, b.id].sort());
    // LIKE wildcards in a value are literal characters.
    expect(await ids(`userName co "%"`)).toEqual([]);
    expect(await ids(`userName co "_"`)).toEqual([]);
  });

  it('returns only the attributes asked for, and leaves out excludedAttributes', async () => {
    const h = roster();
    const { token, mail } = await h.newOrgWithToken();
    const u = await provision(h, token, mail('attrs'), { displayName: 'Attr Person' });

    const only = await h.scim(token, 'GET', `/Users?filter=${q(`id eq "${u.id}"`)}&attributes=userName`);
    expect(only.status).toBe(200);
    expect(Object.keys(only.body.Resources[0]).sort()).toEqual(['id', 'userName']);

    const without = await h.scim(token, 'GET', `/Users?filter=${q(`id eq "${u.id}"`)}&excludedAttributes=emails,name,groups`);
    const res = without.body.Resources[0];
    expect(res).toMatchObject({ id: u.id, userName: u.userName, displayName: 'Attr Person', active: true });
    expect(res).not.toHaveProperty('emails');
    expect(res).not.toHaveProperty('name');
    expect(res).not.toHaveProperty('groups');

    const one = await h.scim(token, 'GET', `/Users/${u.id}?attributes=displayName`);
    expect(one.status).toBe(200);
    expect(Object.keys(one.body).sort()).toEqual(['displayName', 'id']);
  });
});

describe('PUT /Users/{id}', () => {
  it('replaces the user: changed attributes change, omitted optional ones go, active=false suspends', async () => {
    const h = roster();
    const { org, token, mail } = await h.newOrgWithToken();
    const email = mail('put');
    const u = await provision(h, token, email, { externalId: 'keep-me?', displayName: 'Before' });

    const r = await h.scim(token, 'PUT', `/Users/${u.id}`, userBody(email, { name: { givenName: 'After', familyName: 'Put' }, active: false }));
    expect(r.status, r.text).toBe(200);
    expect(r.body).toMatchObject({ id: u.id, name: { givenName: 'After', familyName: 'Put' }, active: false });
    expect(r.body).not.toHaveProperty('externalId');
    expect(r.body).not.toHaveProperty('displayName');
    expect(await h.memberByEmail(org, email)).toMatchObject({ status: 'suspended' });

    const back = await h.scim(token, 'PUT', `/Users/${u.id}`, userBody(email));
    expect(back.body.active).toBe(true);
    expect(await h.memberByEmail(org, email)).toMatchObject({ status: 'active' });
  });

  it('PUT to a userName another user has is 409 and changes nothing', async () => {
    const h = roster();
    const { token, mail } = await h.newOrgWithToken();
    const a = await provision(h, token, mail('a'));
    const b = await provision(h, token, mail('b'));
    const r = await h.scim(
      token,
      'PUT',
      `/Users/${b.id}`,
      userBody(a.userName.toUpperCase(), { emails: [{ value: b.userName, type: 'work', primary: true }] }),
    );
    expect(r.status, r.text).toBe(409);
    expect(r.body.scimType).toBe('uniqueness');
    expect((await h.scim(token, 'GET', `/Users/${b.id}`)).body.userName).toBe(b.userName);
  });
});

describe('PATCH /Users/{id}', () => {
  it('a path-less value object replaces the attributes it names', async () => {
    const h = roster();
    const { token, mail } = await h.newOrgWithToken();
    const u = await provision(h, token, mail('user'));
    const r = await h.scim(
      token,
      'PATCH',
      `/Users/${u.id}`,
      patchBody({ op: 'replace', value: { displayName: 'No Path', 'name.givenName': 'Given', externalId: 'x-9' } }),
    );
    expect(r.status, r.text).toBe(200);
    expect(r.body).toMatchObject({ displayName: 'No Path', externalId: 'x-9', name: { givenName: 'Given', familyName: 'User' } });
    expect((await h.scim(token, 'GET', `/Users/${u.id}`)).body).toMatchObject({ displayName: 'No Path', externalId: 'x-9' });
  });

  it('a value-path filter replaces the work email', async () => {
    const h = roster();
    const { token, mail } = await h.newOrgWithToken();
    const u = await provision(h, token, mail('user'));
    const next = mail('changed');
    const r = await h.scim(token, 'PATCH', `/Users/${u.id}`, patchBody({ op: 'replace', path: 'emails[type eq "work"].value', value: next }));
    expect(r.status, r.text).toBe(200);
    expect(r.body.emails).toEqual([{ value: next, type: 'work', primary: true }]);
    expect((await h.scim(token, 'GET', `/Users?filter=${q(`emails[type eq "work"].value eq "${next}"`)}`)).body.totalResults).toBe(1);
  });

  it('remove takes an optional attribute away', async () => {
    const h = roster();
    const { token, mail } = await h.newOrgWithToken();
    const u = await provision(h, token, mail('user'), { displayName: 'Going Away', externalId: 'gone-too' });
    const r = await h.scim(token, 'PATCH', `/Users/${u.id}`, patchBody({ op: 'remove', path: 'displayName' }, { op: 'remove', path: 'externalId' }));
    expect(r.status, r.text).toBe(200);
    expect(r.body).not.toHaveProperty('displayName');
    expect(r.body).not.toHaveProperty('externalId');
    const after = (await h.scim(token, 'GET', `/Users/${u.id}`)).body;
    expect(after).not.toHaveProperty('displayName');
    expect(after.userName).toBe(u.userName);
  });

  it('capitalized ops and "True"/"False" strings work like their lowercase and boolean forms', async () => {
    const h = roster();
    const { org, token, mail } = await h.newOrgWithToken();
    const u = await provision(h, token, mail('user'));
    const status = async () => (await h.memberByEmail(org, u.userName))!.status;

    let r = await h.scim(token, 'PATCH', `/Users/${u.id}`, patchBody({ op: 'Replace', path: 'active', value: 'False' }));
    expect(r.status, r.text).toBe(200);
    expect(r.body.active).toBe(false);
    expect(await status()).toBe('suspended');

    r = await h.scim(token, 'PATCH', `/Users/${u.id}`, patchBody({ op: 'Add', path: 'active', value: 'true' }));
    expect(r.body.active).toBe(true);
    expect(await status()).toBe('active');

    r = await h.scim(token, 'PATCH', `/Users/${u.id}`, patchBody({ op: 'REPLACE', value: { active: 'FALSE' } }));
    expect(r.body.active).toBe(false);
    expect(await status()).toBe('suspended');

    r = await h.scim(
      token,
      'PATCH',
      `/Users/${u.id}`,
      patchBody({ op: 'Replace', value: { active: true, displayName: 'Back' } }, { op: 'Remove', path: 'displayName' }),
    );
    expect(r.status, r.text).toBe(200);
    expect(r.body.active).toBe(true);
    expect(r.body).not.toHaveProperty('displayName');
    expect(await status()).toBe('active');
  });

  it('parallel PATCHes of different attributes all apply (no lost updates)', async () => {
    const h = roster();
    const { org, token, mail } = await h.newOrgWithToken();
    const u = await provision(h, token, mail('user'), { displayName: 'Before' });
    const results = await Promise.all([
      h.scim(token, 'PATCH', `/Users/${u.id}`, patchBody({ op: 'Replace', path: 'displayName', value: 'After' })),
      h.scim(token, 'PATCH', `/Users/${u.id}`, patchBody({ op: 'Replace', path: 'externalId', value: 'ext-parallel' })),
      h.scim(token, 'PATCH', `/Users/${u.id}`, patchBody({ op: 'Replace', path: 'name.familyName', value: 'Parallel' })),
      h.scim(token, 'PATCH', `/Users/${u.id}`, patchBody({ op: 'Replace', path: 'active', value: 'False' })),
    ]);
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    const after = (await h.scim(token, 'GET', `/Users/${u.id}`)).body;
    expect(after).toMatchObject({ displayName: 'After', externalId: 'ext-parallel', name: { givenName: 'Test', familyName: 'Parallel' }, active: false });
    expect((await h.memberByEmail(org, u.userName))!.status).toBe('suspended');
  });

  it('an unknown op is 400 and changes nothing', async () => {
    const h = roster();
    const { org, token, mail } = await h.newOrgWithToken();
    const u = await provision(h, token, mail('user'));
    const r = await h.scim(token, 'PATCH', `/Users/${u.id}`, patchBody({ op: 'explode', path: 'active', value: false }));
    expect(r.status).toBe(400);
    expect(r.body.schemas).toEqual([ERROR_SCHEMA]);
    expect((await h.memberByEmail(org, u.userName))!.status).toBe('active');
  });
});

describe('the primary owner', () => {
  it('cannot be deactivated or deleted through SCIM (400 mutability), and stays in charge', async () => {
    const h = roster();
    const { org, owner, token } = await h.newOrgWithToken();
    const u = await provision(h, token, owner.account.email!);
    expect(await h.memberByEmail(org, owner.account.email!)).toMatchObject({ role: 'owner', source: 'creator', isPrimaryOwner: true });

    for (const [method, body] of [
      ['PATCH', patchBody({ op: 'replace', value: { active: false } })],
      ['PUT', userBody(owner.account.email!, { active: false })],
      ['DELETE', undefined],
    ] as const) {
      const r = await h.scim(token, method, `/Users/${u.id}`, body);
      expect(r.status, `${method}: ${r.text}`).toBe(400);
      expect(r.body).toMatchObject({ schemas: [ERROR_SCHEMA], scimType: 'mutability' });
      expect(r.body.detail).toMatch(/primary owner/i);
    }
    expect(await h.memberByEmail(org, owner.account.email!)).toMatchObject({ role: 'owner', status: 'active' });
    expect((await h.scim(token, 'GET', `/Users/${u.id}`)).body.active).toBe(true);
    await expect(h.domain.members.list(accountActor(owner.account.id, 'api'), org.id)).resolves.toHaveLength(1);
    expect(await h.count('audit_events', `org_id = '${org.id}' and action in ('member.suspended', 'scim.user_deprovisioned', 'scim.user_updated')`)).toBe(0);
  });
});

describe('DELETE /Users/{id}', () => {
  it('removes a SCIM-created membership at once and a second DELETE is 404', async () => {
    const h = roster();
    const { org, token, mail } = await h.newOrgWithToken();
    const u = await provision(h, token, mail('user'));
    const m = await h.memberByEmail(org, u.userName);
    expect((await h.scim(token, 'DELETE', `/Users/${u.id}`)).status).toBe(204);
    expect(await h.memberByEmail(org, u.userName)).toBeUndefined();
    await expect(h.domain.members.list(accountActor(m!.accountId, 'api'), org.id)).rejects.toMatchObject({ code: 'not_a_member' });
    const again = await h.scim(token, 'DELETE', `/Users/${u.id}`);
    expect(again.status).toBe(404);
    expect(again.body).toMatchObject({ schemas: [ERROR_SCHEMA], status: '404' });
    // The person's account remains (they may belong elsewhere); only this org's access went.
    expect(await h.count('accounts', `id = '${m!.accountId}'`)).toBe(1);
  });
});

describe('a deployment with MEMBERSHIP_MODE=single', () => {
  const single = useScimRoster({ MEMBERSHIP_MODE: 'single' });

  it('provisioning someone who already belongs to another org is 403 and creates nothing', async () => {
    const h = single();
    const { org, token, mail } = await h.newOrgWithToken('Second');
    const elsewhere = await h.newOrgWithToken('First');
    // On Second's verified domain (its IdP speaks for them), and already a member of First by invite.
    const email = mail('first.member');
    const account = await h.domain.accounts.findOrCreateByEmail(email, 'First Member');
    await joinByInvite(h.domain, elsewhere.org, elsewhere.owner.actor, { actor: accountActor(account.id, 'api'), email }, 'member');

    const r = await h.scim(token, 'POST', '/Users', userBody(email));
    expect(r.status, r.text).toBe(403);
    expect(r.body).toMatchObject({ schemas: [ERROR_SCHEMA], status: '403' });
    expect(r.body.detail).toMatch(/already belong/i);
    expect(await h.count('scim_users', `org_id = '${org.id}'`)).toBe(0);
    expect(await h.memberByEmail(org, email)).toBeUndefined();

    const fresh = mail('single');
    expect((await h.scim(token, 'POST', '/Users', userBody(fresh))).status).toBe(201);
    expect(await h.memberByEmail(org, fresh)).toMatchObject({ source: 'scim', status: 'active' });
  });
});
