import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import {
  ERROR_SCHEMA,
  GROUP_SCHEMA,
  LIST_SCHEMA,
  PATCH_SCHEMA,
  USER_SCHEMA,
  patchBody,
  q,
  useScimRoster,
  userBody,
  type ScimHarness,
} from '../helpers/scim.js';

/** Bad input gets a SCIM error body with the right status and scimType, never a 500, and changes nothing. */
const roster = useScimRoster();

const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';

function expectScimError(r: { status: number; body: any; text: string }, status: number, scimType?: string) {
  expect(r.status, r.text).toBe(status);
  expect(r.body).toMatchObject({ schemas: [ERROR_SCHEMA], status: String(status) });
  if (scimType) expect(r.body.scimType).toBe(scimType);
  expect(typeof r.body.detail).toBe('string');
}

async function orgState(h: ScimHarness, orgId: string) {
  return {
    users: await h.count('scim_users', `org_id = '${orgId}'`),
    memberships: await h.count('memberships', `org_id = '${orgId}'`),
    audit: await h.count('audit_events', `org_id = '${orgId}'`),
  };
}

describe('request bodies', () => {
  it('malformed JSON is 400 invalidSyntax and creates nothing', async () => {
    const h = roster();
    const { org, token, mail } = await h.newOrgWithToken();
    const u = await h.scim(token, 'POST', '/Users', userBody(mail('json')));
    const before = await orgState(h, org.id);
    for (const [method, path] of [
      ['POST', '/Users'],
      ['PUT', `/Users/${u.body.id}`],
      ['PATCH', `/Users/${u.body.id}`],
      ['POST', '/Groups'],
    ] as const) {
      expectScimError(await h.scim(token, method, path, '{"userName": "broken@example.com",'), 400, 'invalidSyntax');
    }
    expectScimError(await h.scim(token, 'POST', '/Users', '"just a string"'), 400, 'invalidSyntax');
    expectScimError(await h.scim(token, 'POST', '/Users', '[{"userName":"a@example.com"}]'), 400, 'invalidSyntax');
    expect(await orgState(h, org.id)).toEqual(before);
  });

  it('a content type other than application/scim+json or application/json is 415; a charset parameter is fine', async () => {
    const h = roster();
    const { org, token, mail } = await h.newOrgWithToken();
    const email = mail('ct');
    const body = JSON.stringify(userBody(email));
    const before = await orgState(h, org.id);
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/xml']) {
      expectScimError(await h.scim(token, 'POST', '/Users', body, { 'content-type': type }), 415);
    }
    expect(await orgState(h, org.id)).toEqual(before);

    const okta = await h.scim(token, 'POST', '/Users', body, { 'content-type': 'application/scim+json; charset=utf-8' });
    expect(okta.status, okta.text).toBe(201);
    const plainJson = await h.scim(token, 'PATCH', `/Users/${okta.body.id}`, JSON.stringify(patchBody({ op: 'replace', path: 'displayName', value: 'Json' })), {
      'content-type': 'application/json',
    });
    expect(plainJson.status, plainJson.text).toBe(200);
    expect(plainJson.body.displayName).toBe('Json');
  });

  it('a filter sent with a POST or PUT is held to the filter rules (400 invalidFilter, nothing created), never a 500', async () => {
    const h = roster();
    const { org, token, mail } = await h.newOrgWithToken();
    const before = await orgState(h, org.id);
    for (const filter of ['userName', '(', '']) {
      const r = await h.scim(token, 'POST', `/Users?filter=${encodeURIComponent(filter)}`, userBody(mail('filtered')));
      expectScimError(r, 400, 'invalidFilter');
      const g = await h.scim(token, 'POST', `/Groups?filter=${encodeURIComponent(filter)}`, { schemas: [GROUP_SCHEMA], displayName: `G ${h.tag()}` });
      expectScimError(g, 400, 'invalidFilter');
    }
    const twice = await h.scim(token, 'POST', '/Users?filter=userName%20pr&filter=active%20pr', userBody(mail('twice')));
    expectScimError(twice, 400, 'invalidFilter');
    expect(await orgState(h, org.id)).toEqual(before);
  });

  it('a body over 1 MB is 413 and creates nothing', async () => {
    const h = roster();
    const { org, token } = await h.newOrgWithToken();
    const before = await orgState(h, org.id);
    const r = await h.scim(token, 'POST', '/Users', userBody(`big.${h.tag()}@example.com`, { displayName: 'x'.repeat(1_100_000) }));
    expectScimError(r, 413);
    expect(r.body.detail).toMatch(/larger than/i);
    expect(await orgState(h, org.id)).toEqual(before);
  });

  it('wrong attribute types and missing required attributes are 400 and create nothing', async () => {
    const h = roster();
    const { org, token } = await h.newOrgWithToken();
    const before = await orgState(h, org.id);
    const email = `types.${h.tag()}@example.com`;
    for (const body of [
      userBody(email, { active: 'maybe' }),
      { ...userBody(email), userName: 42 },
      { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], displayName: 'No userName' },
      userBody(email, { displayName: 'x'.repeat(300) }),
      userBody(email, { emails: 'not-a-list' }),
    ]) {
      expectScimError(await h.scim(token, 'POST', '/Users', body), 400, 'invalidValue');
    }
    expectScimError(await h.scim(token, 'POST', '/Users', { schemas: ['urn:example:not-a-user'], userName: email }), 400);
    expectScimError(await h.scim(token, 'POST', '/Groups', { schemas: [GROUP_SCHEMA], members: [] }), 400, 'invalidValue');
    expect(await orgState(h, org.id)).toEqual(before);
  });

  it('a PATCH with a wrong type, a bad path or no operations is 400 and changes nothing', async () => {
    const h = roster();
    const { org, token, mail } = await h.newOrgWithToken();
    const email = mail('patch');
    const u = await h.scim(token, 'POST', '/Users', userBody(email, { displayName: 'Unchanged' }));
    const before = await orgState(h, org.id);
    for (const body of [
      patchBody({ op: 'replace', path: 'active', value: 'maybe' }),
      patchBody({ op: 'replace', path: 'userName', value: 42 }),
      patchBody({ op: 'remove', path: 'userName' }),
      patchBody({ op: 'replace', path: 'nonsense[', value: 1 }),
      { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'] },
    ]) {
      const r = await h.scim(token, 'PATCH', `/Users/${u.body.id}`, body);
      expectScimError(r, 400);
    }
    expect(await orgState(h, org.id)).toEqual(before);
    expect((await h.scim(token, 'GET', `/Users/${u.body.id}`)).body).toMatchObject({ userName: email, displayName: 'Unchanged', active: true });
    expect((await h.memberByEmail(org, email))!.status).toBe('active');
  });
});

describe('filters', () => {
  it('a filter that does not parse is 400 invalidFilter, never a 500 or an empty list', async () => {
    const h = roster();
    const { token, mail } = await h.newOrgWithToken();
    await h.scim(token, 'POST', '/Users', userBody(mail('filter')));
    for (const filter of [
      'userName eq',
      'bogus((',
      'userName',
      '"x"',
      'or',
      'and',
      '()',
      'userName eq "a" or',
      'userName eq "a" and (',
      'userName eq "a" or ()',
      'userName zz "a"',
      'userName eq "a" userName eq "b"',
      'active eq "maybe"',
      'meta.created gt "not a date"',
    ]) {
      const r = await h.scim(token, 'GET', `/Users?filter=${q(filter)}`);
      expect(r.status, `${filter}: ${r.text}`).toBe(400);
      expect(r.body, filter).toMatchObject({ schemas: [ERROR_SCHEMA], status: '400', scimType: 'invalidFilter' });
    }
    for (const filter of ['displayName eq', 'displayName((', 'or']) {
      const r = await h.scim(token, 'GET', `/Groups?filter=${q(filter)}`);
      expect(r.status, `${filter}: ${r.text}`).toBe(400);
      expect(r.body.scimType).toBe('invalidFilter');
    }
  });

  it('a filter on an attribute /Schemas does not have is 400 invalidFilter, naming the attribute', async () => {
    const h = roster();
    const { token } = await h.newOrgWithToken();
    for (const [path, filter, attr] of [
      ['/Users', 'shoeSize eq "x"', 'shoeSize'],
      ['/Users', 'name.nickname eq "x"', 'name.nickname'],
      ['/Users', 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:shoeSize eq "x"', 'shoeSize'],
      ['/Groups', 'owner eq "x"', 'owner'],
    ] as const) {
      const r = await h.scim(token, 'GET', `${path}?filter=${q(filter)}`);
      expect(r.status, `${filter}: ${r.text}`).toBe(400);
      expect(r.body.scimType).toBe('invalidFilter');
      expect(r.body.detail).toContain(attr);
    }
  });

  it('a valid filter that matches nothing is an empty list, not an error', async () => {
    const h = roster();
    const { token } = await h.newOrgWithToken();
    const r = await h.scim(token, 'GET', `/Users?filter=${q('userName eq "nobody@example.com" and active eq True')}`);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ schemas: [LIST_SCHEMA], totalResults: 0, Resources: [] });
  });
});

describe('ids', () => {
  it('an unknown or non-uuid id is 404 for every method on Users and Groups', async () => {
    const h = roster();
    const { org, token } = await h.newOrgWithToken();
    const before = await orgState(h, org.id);
    for (const id of [UNKNOWN_ID, 'not-a-uuid', '1']) {
      expectScimError(await h.scim(token, 'GET', `/Users/${id}`), 404);
      expectScimError(await h.scim(token, 'PUT', `/Users/${id}`, userBody(`put.${h.tag()}@example.com`)), 404);
      expectScimError(await h.scim(token, 'PATCH', `/Users/${id}`, patchBody({ op: 'replace', value: { active: false } })), 404);
      expectScimError(await h.scim(token, 'DELETE', `/Users/${id}`), 404);
      expectScimError(await h.scim(token, 'GET', `/Groups/${id}`), 404);
      expectScimError(await h.scim(token, 'PUT', `/Groups/${id}`, { schemas: [GROUP_SCHEMA], displayName: 'X', members: [] }), 404);
      expectScimError(await h.scim(token, 'PATCH', `/Groups/${id}`, patchBody({ op: 'replace', path: 'displayName', value: 'Y' })), 404);
      expectScimError(await h.scim(token, 'DELETE', `/Groups/${id}`), 404);
    }
    expect(await orgState(h, org.id)).toEqual(before);
  });
});

describe('authentication', () => {
  it('a missing, malformed, wrong or revoked token is 401 with a SCIM error body and WWW-Authenticate', async () => {
    const h = roster();
    const { org, owner, token } = await h.newOrgWithToken();
    const before = await orgState(h, org.id);
    const attempts: [string | null, Record<string, string>][] = [
      [null, {}],
      [null, { authorization: 'Basic Zm9vOmJhcg==' }],
      [null, { authorization: `Bearer` }],
      ['not-a-roster-token', {}],
      [`rst_${'A'.repeat(43)}`, {}],
      [token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A'), {}],
    ];
    for (const [t, headers] of attempts) {
      for (const [method, path, body] of [
        ['GET', '/Users', undefined],
        ['POST', '/Users', userBody(`auth.${h.tag()}@example.com`)],
        ['GET', '/ServiceProviderConfig', undefined],
      ] as const) {
        const r = await h.scim(t, method, path, body, headers);
        expectScimError(r, 401);
        expect(r.headers.get('www-authenticate')).toMatch(/^Bearer/);
      }
    }
    expect(await orgState(h, org.id)).toEqual(before);

    await h.domain.scimTokens.revoke(owner.actor, org.id, 'idp');
    const revoked = await h.scim(token, 'GET', '/Users');
    expectScimError(revoked, 401);
    expect(revoked.body.detail).toMatch(/revoked/);
  });
});

describe('discovery', () => {
  it('ServiceProviderConfig tells the truth: patch and filter (max 1000) yes; bulk, sort, etag, changePassword no; bearer tokens', async () => {
    const h = roster();
    const { token } = await h.newOrgWithToken();
    const r = await h.scim(token, 'GET', '/ServiceProviderConfig');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'],
      patch: { supported: true },
      filter: { supported: true, maxResults: 1000 },
      bulk: { supported: false },
      sort: { supported: false },
      etag: { supported: false },
      changePassword: { supported: false },
    });
    expect(r.body.authenticationSchemes.map((s: { type: string }) => s.type)).toEqual(['oauthbearertoken']);
  });

  it('what ServiceProviderConfig says is what the endpoints do', async () => {
    const h = roster();
    const { token, mail } = await h.newOrgWithToken();
    // patch: supported (a PATCH works); filter: supported; sort: not applied; bulk and .search: not implemented.
    const u = await h.scim(token, 'POST', '/Users', userBody(mail('truth')));
    expect((await h.scim(token, 'PATCH', `/Users/${u.body.id}`, patchBody({ op: 'replace', path: 'displayName', value: 'P' }))).status).toBe(200);
    expect((await h.scim(token, 'GET', `/Users?filter=${q(`id eq "${u.body.id}"`)}`)).body.totalResults).toBe(1);
    expectScimError(await h.scim(token, 'POST', '/Bulk', { schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'], Operations: [] }), 501);
    expectScimError(await h.scim(token, 'POST', '/.search', { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'] }), 501);
    expectScimError(await h.scim(token, 'POST', '/Users/.search', { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'] }), 501);
    // The token is the org's, not a user's: /Me is not implemented (RFC 7644 §3.11), not "user not found".
    expectScimError(await h.scim(token, 'GET', '/Me'), 501);
    // A page never holds more than filter.maxResults, whatever count asks for.
    const big = await h.scim(token, 'GET', '/Users?count=5000');
    expect(big.status).toBe(200);
    expect(big.body.itemsPerPage).toBeLessThanOrEqual(1000);
  });

  it('ResourceTypes and Schemas describe Users (with the enterprise extension) and Groups', async () => {
    const h = roster();
    const { token } = await h.newOrgWithToken();
    const types = await h.scim(token, 'GET', '/ResourceTypes');
    expect(types.status).toBe(200);
    const byId = Object.fromEntries(types.body.Resources.map((t: { id: string }) => [t.id, t]));
    expect(byId.User).toMatchObject({
      endpoint: '/Users',
      schema: 'urn:ietf:params:scim:schemas:core:2.0:User',
      schemaExtensions: [{ schema: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User', required: false }],
    });
    expect(byId.Group).toMatchObject({ endpoint: '/Groups', schema: 'urn:ietf:params:scim:schemas:core:2.0:Group' });

    const schemas = await h.scim(token, 'GET', '/Schemas');
    expect(schemas.status).toBe(200);
    const ids = schemas.body.Resources.map((s: { id: string }) => s.id);
    expect(ids).toEqual(
      expect.arrayContaining([
        'urn:ietf:params:scim:schemas:core:2.0:User',
        'urn:ietf:params:scim:schemas:core:2.0:Group',
        'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
      ]),
    );
    const user = schemas.body.Resources.find((s: { id: string }) => s.id === 'urn:ietf:params:scim:schemas:core:2.0:User');
    // userName compares case-insensitively, as Roster does (caseExact false).
    expect(user.attributes.find((a: { name: string }) => a.name === 'userName')).toMatchObject({ required: true, caseExact: false, uniqueness: 'server' });
  });
});

/**
 * Hostile input (issue 10 §2): each of these once answered 500, or an HTML page with a stack. Every one
 * is a 400 SCIM error with the right scimType, and nothing changes.
 */
describe('hostile input', () => {
  const NUL = '\u0000';

  it('a NUL in userName, displayName, externalId, emails or a group displayName is a 400 invalidValue that names the field and changes nothing', async () => {
    const h = roster();
    const { org, token, mail } = await h.newOrgWithToken();
    const email = mail('nul');
    const u = await h.scim(token, 'POST', '/Users', userBody(email, { displayName: 'Kept' }));
    expect(u.status, u.text).toBe(201);
    const g = await h.scim(token, 'POST', '/Groups', { schemas: [GROUP_SCHEMA], displayName: `Kept ${h.tag()}`, members: [] });
    expect(g.status, g.text).toBe(201);
    const before = await orgState(h, org.id);
    const other = mail('other');
    for (const [body, field] of [
      [userBody(`a${NUL}b@example.com`), 'userName'],
      [userBody(other, { displayName: `Ana${NUL}` }), 'displayName'],
      [userBody(other, { externalId: `ext${NUL}1` }), 'externalId'],
      [userBody(other, { emails: [{ value: `x${NUL}@example.com`, type: 'work', primary: true }] }), 'emails'],
      [userBody(other, { name: { givenName: `G${NUL}`, familyName: 'F' } }), 'givenName'],
    ] as const) {
      const r = await h.scim(token, 'POST', '/Users', body);
      expectScimError(r, 400, 'invalidValue');
      expect(r.body.detail, r.text).toContain(field);
      expect(r.body.detail).toMatch(/control character/);
      expectScimError(
        await h.scim(token, 'PUT', `/Users/${u.body.id}`, { ...body, userName: (body as any).userName === other ? email : (body as any).userName }),
        400,
        'invalidValue',
      );
    }
    expectScimError(
      await h.scim(token, 'PATCH', `/Users/${u.body.id}`, patchBody({ op: 'replace', path: 'displayName', value: `x${NUL}` })),
      400,
      'invalidValue',
    );
    expectScimError(
      await h.scim(token, 'PATCH', `/Users/${u.body.id}`, patchBody({ op: 'replace', value: { userName: `y${NUL}@example.com` } })),
      400,
      'invalidValue',
    );
    const gr = await h.scim(token, 'POST', '/Groups', { schemas: [GROUP_SCHEMA], displayName: `Eng${NUL}`, members: [] });
    expectScimError(gr, 400, 'invalidValue');
    expect(gr.body.detail).toContain('displayName');
    expectScimError(
      await h.scim(token, 'PATCH', `/Groups/${g.body.id}`, patchBody({ op: 'replace', path: 'displayName', value: `Eng${NUL}` })),
      400,
      'invalidValue',
    );
    expectScimError(
      await h.scim(token, 'POST', '/Groups', { schemas: [GROUP_SCHEMA], displayName: 'Ok', externalId: `e${NUL}`, members: [] }),
      400,
      'invalidValue',
    );
    expect(await orgState(h, org.id)).toEqual(before);
    expect((await h.scim(token, 'GET', `/Users/${u.body.id}`)).body).toMatchObject({ userName: email, displayName: 'Kept' });
  });

  it('a PATCH is held to the rule only for what it changes: a value stored before the rule existed does not block deactivating the user', async () => {
    const h = roster();
    const { org, token, mail } = await h.newOrgWithToken();
    const email = mail('legacy');
    const u = await h.scim(token, 'POST', '/Users', userBody(email));
    const g = await h.scim(token, 'POST', '/Groups', { schemas: [GROUP_SCHEMA], displayName: `Legacy ${h.tag()}`, members: [] });
    await h.db.db.execute(sql`update scim_users set display_name = ${'Legacy\tName\u0007'} where id = ${u.body.id}`);
    await h.db.db.execute(sql`update scim_groups set display_name = ${'Legacy\u0085Group'} where id = ${g.body.id}`);
    const off = await h.scim(token, 'PATCH', `/Users/${u.body.id}`, patchBody({ op: 'replace', path: 'active', value: false }));
    expect(off.status, off.text).toBe(200);
    expect((await h.memberByEmail(org, email))!.status).toBe('suspended');
    const add = await h.scim(token, 'PATCH', `/Groups/${g.body.id}`, patchBody({ op: 'add', path: 'members', value: [{ value: u.body.id }] }));
    expect(add.status, add.text).toBe(200);
    // What the PATCH itself brings is checked.
    expectScimError(
      await h.scim(token, 'PATCH', `/Users/${u.body.id}`, patchBody({ op: 'replace', path: 'externalId', value: `x${NUL}` })),
      400,
      'invalidValue',
    );
    const fixed = await h.scim(token, 'PATCH', `/Users/${u.body.id}`, patchBody({ op: 'replace', path: 'displayName', value: 'Clean Name' }));
    expect(fixed.status, fixed.text).toBe(200);
    expect(fixed.body.displayName).toBe('Clean Name');
  });

  it('a lone surrogate in userName is a 400 invalidValue and changes nothing', async () => {
    const h = roster();
    const { org, token } = await h.newOrgWithToken();
    const before = await orgState(h, org.id);
    for (const userName of ['\ud800@example.com', `lone.${h.tag()}\udc00@example.com`, `x@example.com\ud83d`]) {
      const r = await h.scim(token, 'POST', '/Users', userBody(userName, { emails: [{ value: `fine.${h.tag()}@example.com`, type: 'work', primary: true }] }));
      expectScimError(r, 400, 'invalidValue');
      expect(r.body.detail).toMatch(/userName.*surrogate/);
    }
    expectScimError(await h.scim(token, 'POST', '/Users', userBody(`s.${h.tag()}@example.com`, { displayName: 'A\udfffB' })), 400, 'invalidValue');
    expect(await orgState(h, org.id)).toEqual(before);
  });

  it('every C0 control, DEL and C1 control is refused in SCIM strings; tabs and new lines too; ordinary Unicode (accents, CJK, emoji) is kept', async () => {
    const h = roster();
    const { org, token, mail } = await h.newOrgWithToken();
    const before = await orgState(h, org.id);
    for (const c of ['\u0001', '\u0007', '\t', '\n', '\r', '\u001b', '\u001f', '\u007f', '\u0080', '\u0085', '\u009b', '\u009f']) {
      const r = await h.scim(token, 'POST', '/Users', userBody(`c.${h.tag()}@example.com`, { displayName: `A${c}B` }));
      expectScimError(r, 400, 'invalidValue');
      expect(r.body.detail).toContain(`U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`);
    }
    expect(await orgState(h, org.id)).toEqual(before);
    const fine = await h.scim(token, 'POST', '/Users', userBody(mail('zoë'), { displayName: 'Zoë 日本 😀 ‎x' }));
    expect(fine.status, fine.text).toBe(201);
    expect(fine.body.displayName).toBe('Zoë 日本 😀 ‎x');
  });

  it('a NUL or another control character in a filter value, or a date PostgreSQL cannot hold, is a 400 invalidFilter', async () => {
    const h = roster();
    const { token } = await h.newOrgWithToken();
    for (const [path, filter] of [
      ['/Users', `userName eq "a${NUL}b"`],
      ['/Users', `externalId eq "${NUL}"`],
      ['/Users', `displayName co "x${NUL}"`],
      ['/Users', 'userName sw "\u0085"'],
      ['/Groups', `displayName eq "Eng${NUL}"`],
    ] as const) {
      const r = await h.scim(token, 'GET', `${path}?filter=${q(filter)}`);
      expectScimError(r, 400, 'invalidFilter');
      expect(r.body.detail).toMatch(/control character/);
    }
    // A date JavaScript reads but PostgreSQL's timestamps cannot hold.
    for (const filter of ['meta.created gt "-100000-01-01T00:00:00Z"', 'meta.lastModified lt "+200000-01-01T00:00:00Z"']) {
      const r = await h.scim(token, 'GET', `/Users?filter=${q(filter)}`);
      expectScimError(r, 400, 'invalidFilter');
      expect(r.body.detail).toMatch(/between the years 1 and 9999/);
    }
    // A surrogate cannot be percent-encoded; its CESU-8 bytes decode to replacement characters: no match, no error.
    const cesu = await h.scim(token, 'GET', '/Users?filter=userName%20eq%20%22%ED%A0%80%22');
    expect(cesu.status, cesu.text).toBe(200);
    expect(cesu.body.totalResults).toBe(0);
  });

  it('JSON nested deeper than 32 levels is a 400 invalidSyntax, answered at once, on every method that takes a body', async () => {
    const h = roster();
    const { org, token, mail } = await h.newOrgWithToken();
    const u = await h.scim(token, 'POST', '/Users', userBody(mail('deep')));
    const before = await orgState(h, org.id);
    const deepArrays = '['.repeat(50_000) + ']'.repeat(50_000);
    const deepObjects = '{"a":'.repeat(30_000) + '1' + '}'.repeat(30_000);
    const started = performance.now();
    for (const [method, path, body] of [
      ['POST', '/Users', `{"schemas":["${USER_SCHEMA}"],"userName":"d@example.com","x":${deepArrays}}`],
      ['POST', '/Users', deepObjects],
      ['PUT', `/Users/${u.body.id}`, `{"userName":"d@example.com","name":${deepObjects}}`],
      ['PATCH', `/Users/${u.body.id}`, `{"schemas":["${PATCH_SCHEMA}"],"Operations":[{"op":"add","path":"displayName","value":${deepArrays}}]}`],
      ['POST', '/Groups', `{"displayName":"G","members":${deepArrays}}`],
      ['POST', '/Users', '['.repeat(33) + ']'.repeat(33)],
    ] as const) {
      const r = await h.scim(token, method, path, body);
      expectScimError(r, 400, 'invalidSyntax');
      expect(r.body.detail).toMatch(/nests .* more than 32 levels/);
    }
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(await orgState(h, org.id)).toEqual(before);
    // Brackets inside strings are text, not nesting.
    const inString = await h.scim(token, 'POST', '/Users', userBody(mail('brackets'), { displayName: '[[[[{{{{'.repeat(10) }));
    expect(inString.status, inString.text).toBe(201);
  });

  it('a startIndex at or beyond 2^63 (or any startIndex past 2^53) is a 400 invalidValue on /Users and /Groups', async () => {
    const h = roster();
    const { token } = await h.newOrgWithToken();
    for (const path of ['/Users', '/Groups']) {
      for (const startIndex of ['9223372036854775808', '18446744073709551616', '9007199254740993', '1' + '0'.repeat(400)]) {
        const r = await h.scim(token, 'GET', `${path}?startIndex=${startIndex}`);
        expectScimError(r, 400, 'invalidValue');
        expect(r.body.detail).toMatch(/startIndex/);
      }
      // Within range, past the end: an empty page, as RFC 7644 says.
      const far = await h.scim(token, 'GET', `${path}?startIndex=9007199254740991&count=${'9'.repeat(30)}`);
      expect(far.status, far.text).toBe(200);
      expect(far.body).toMatchObject({ Resources: [], startIndex: 9007199254740991 });
    }
  });

  it('attributes and excludedAttributes are checked like filters: 2,500 items, or an item that is no attribute name, is a 400 invalidFilter', async () => {
    const h = roster();
    const { token, mail } = await h.newOrgWithToken();
    const u = await h.scim(token, 'POST', '/Users', userBody(mail('attrs')));
    const many = Array.from({ length: 2_500 }, () => 'id').join(',');
    for (const param of ['attributes', 'excludedAttributes']) {
      // "and", "or", "not", "true", "false" read as filter words: SCIMMY crashed on them (a 500).
      for (const value of [
        many,
        'userName) or (id',
        'userName eq "x"',
        `user${NUL}Name`,
        ',,,',
        'name..givenName',
        'and',
        'userName,Not',
        'true',
        'FALSE',
        'or',
      ]) {
        for (const path of ['/Users', `/Users/${u.body.id}`, '/Groups']) {
          const r = await h.scim(token, 'GET', `${path}?${param}=${q(value)}`);
          expectScimError(r, 400, 'invalidFilter');
        }
      }
    }
    const ok = await h.scim(
      token,
      'GET',
      `/Users/${u.body.id}?attributes=${q('userName, name.givenName,urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department')}`,
    );
    expect(ok.status, ok.text).toBe(200);
    expect(ok.body.userName).toBe(u.body.userName);
  });

  it('a path that does not decode (GET /Users/%) is a 400 SCIM error, never an HTML page with a stack', async () => {
    const h = roster();
    const { token } = await h.newOrgWithToken();
    for (const path of ['/Users/%', '/Users/%E0%A4%A', '/Groups/%zz', '/Users/%25%', '/Groups/%']) {
      for (const method of ['GET', 'DELETE']) {
        const r = await h.scim(token, method, path);
        expectScimError(r, 400, 'invalidSyntax');
        expect(r.headers.get('content-type')).toMatch(/application\/scim\+json/);
        expect(r.text).not.toMatch(/\n\s+at |node_modules|URIError|<html/i);
      }
    }
    // No route takes two segments there: a SCIM 404, not an HTML page either.
    expectScimError(await h.scim(token, 'GET', '/Users/%/x'), 404);
  });
});
