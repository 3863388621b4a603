import { describe, expect, it } from 'vitest';
import { GROUP_SCHEMA, useScimRoster, userBody } from '../helpers/scim.js';

/**
 * RFC 7643/7644 where they say SHALL, and where SCIMMY's defaults said otherwise (issue 15 §1): each test
 * sends the request an IdP sends and checks the exact answer.
 */
const roster = useScimRoster();

describe('SCIM: what RFC 7644 requires of responses', () => {
  it('a 201 for a created user or group carries Location, the same URI as its meta.location (RFC 7644 §3.3)', async () => {
    const h = roster();
    const { token, mail } = await h.newOrgWithToken();
    const user = await h.scim(token, 'POST', '/Users', userBody(mail('loc')));
    expect(user.status).toBe(201);
    expect(user.body.meta.location).toBe(`${h.baseUrl.replace(/^http:\/\/127\.0\.0\.1:\d+/, 'https://roster.test')}/scim/v2/Users/${user.body.id}`);
    expect(user.headers.get('location')).toBe(user.body.meta.location);
    const group = await h.scim(token, 'POST', '/Groups', { schemas: [GROUP_SCHEMA], displayName: `Loc ${h.tag()}` });
    expect(group.status).toBe(201);
    expect(group.headers.get('location')).toBe(group.body.meta.location);
    expect(group.body.meta.location).toMatch(new RegExp(`/scim/v2/Groups/${group.body.id}$`));
    // Not on other answers: a refused create has no Location.
    const again = await h.scim(token, 'POST', '/Users', userBody(user.body.userName));
    expect(again.status).toBe(409);
    expect(again.headers.get('location')).toBeNull();
  });

  it('no ETag is sent and If-None-Match gets the resource, not 304: /ServiceProviderConfig says ETags are not supported', async () => {
    const h = roster();
    const { token, mail } = await h.newOrgWithToken();
    const config = await h.scim(token, 'GET', '/ServiceProviderConfig');
    expect(config.body.etag).toEqual({ supported: false });
    const user = await h.scim(token, 'POST', '/Users', userBody(mail('etag')));
    for (const path of [`/Users/${user.body.id}`, '/Users', '/ServiceProviderConfig', `/Users/${user.body.id}?attributes=userName`]) {
      const first = await h.scim(token, 'GET', path);
      expect(first.status, path).toBe(200);
      expect(first.headers.get('etag'), path).toBeNull();
      const second = await h.scim(token, 'GET', path, undefined, { 'if-none-match': 'W/"anything"' });
      expect(second.status, path).toBe(200);
      expect(second.headers.get('x-powered-by'), path).toBeNull();
    }
  });
});

describe('SCIM: canonical values are suggestions (RFC 7643 §7)', () => {
  it('a user with Entra’s roles[].type and an x509Certificates[].type is accepted and keeps its membership', async () => {
    const h = roster();
    const { token, mail, org } = await h.newOrgWithToken();
    const email = mail('roles');
    const r = await h.scim(
      token,
      'POST',
      '/Users',
      userBody(email, {
        roles: [{ value: 'Reader', display: 'Reader', type: 'WindowsAzureActiveDirectoryRole', primary: false }],
        x509Certificates: [{ value: 'TUlJQ2RqQ0NBZDhDQ1FE', type: 'signing' }],
      }),
    );
    expect(r.status, r.text).toBe(201);
    expect((await h.memberByEmail(org, email))?.status).toBe('active');
  });
});

describe('SCIM: discovery lists', () => {
  it('/ResourceTypes and /Schemas are list responses whose itemsPerPage counts what they hold', async () => {
    const h = roster();
    const { token } = await h.newOrgWithToken();
    for (const path of ['/ResourceTypes', '/Schemas']) {
      const r = await h.scim(token, 'GET', path);
      expect(r.status, path).toBe(200);
      expect(r.body.Resources.length, path).toBeGreaterThan(1);
      expect(r.body, path).toMatchObject({ totalResults: r.body.Resources.length, itemsPerPage: r.body.Resources.length, startIndex: 1 });
    }
  });
});

describe('SCIM: group PATCH members', () => {
  it('members given as plain strings get a 400 that says to send objects with a value', async () => {
    const h = roster();
    const { token, mail } = await h.newOrgWithToken();
    const user = await h.scim(token, 'POST', '/Users', userBody(mail('plain')));
    const group = await h.scim(token, 'POST', '/Groups', { schemas: [GROUP_SCHEMA], displayName: `Plain ${h.tag()}` });
    const patch = (op: Record<string, unknown>) =>
      h.scim(token, 'PATCH', `/Groups/${group.body.id}`, { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [op] });
    for (const op of [
      { op: 'add', path: 'members', value: [user.body.id] },
      { op: 'add', path: 'members', value: user.body.id },
      { op: 'replace', value: { members: [user.body.id] } },
    ]) {
      const r = await patch(op);
      expect(r.status, JSON.stringify(op)).toBe(400);
      expect(r.body).toMatchObject({
        scimType: 'invalidValue',
        detail: `Operation 1: each member must be an object such as {"value": "<SCIM user id>"}, not "${user.body.id}".`,
      });
    }
    expect((await h.scim(token, 'GET', `/Groups/${group.body.id}`)).body.members ?? []).toEqual([]);
    // The object form works.
    expect((await patch({ op: 'add', path: 'members', value: [{ value: user.body.id }] })).status).toBeLessThan(300);
  });
});
