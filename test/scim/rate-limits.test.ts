import { describe, expect, it } from 'vitest';
import { ERROR_SCHEMA, USER_SCHEMA, q, useScimRoster, userBody } from '../helpers/scim.js';

// Abuse limits on SCIM (per process): a budget per token, and a block for an address that keeps
// presenting bad tokens. Client addresses come from X-Forwarded-For, trusted from loopback here.

const harness = useScimRoster({ SCIM_RATE_LIMIT: '5', SCIM_AUTH_FAILURE_LIMIT: '3', TRUST_PROXY: 'loopback' });

let address = 0;
const newAddress = () => ({ 'x-forwarded-for': `203.0.113.${++address}` });

describe('SCIM rate limits', () => {
  it('a token past its budget for the minute gets 429 with Retry-After in a SCIM error body, and changes nothing', async () => {
    const h = harness();
    const { token, org } = await h.newOrgWithToken();
    const from = newAddress();
    for (let i = 0; i < 5; i++) expect((await h.scim(token, 'GET', `/Users?filter=${q('userName eq "x@y.test"')}`, undefined, from)).status).toBe(200);
    const refused = await h.scim(token, 'POST', '/Users', userBody(`over.${h.tag()}@example.com`), from);
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({ schemas: [ERROR_SCHEMA], status: '429' });
    expect(refused.body.detail).toMatch(/at most 5 a minute/);
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(await h.count('scim_users', `org_id = '${org.id}'`)).toBe(0);
  });

  it("one token's budget is its own: another org's token, from the same address, is still served", async () => {
    const h = harness();
    const a = await h.newOrgWithToken();
    const b = await h.newOrgWithToken();
    const from = newAddress();
    for (let i = 0; i < 6; i++) await h.scim(a.token, 'GET', '/Users?count=1', undefined, from);
    expect((await h.scim(a.token, 'GET', '/Users?count=1', undefined, from)).status).toBe(429);
    const created = await h.scim(b.token, 'POST', '/Users', { schemas: [USER_SCHEMA], userName: `b.${h.tag()}@example.com` }, from);
    expect(created.status).toBe(201);
  });

  it("the budget is the token's, however its header is spelled (bearer, BEARER, extra spaces)", async () => {
    const h = harness();
    const { token } = await h.newOrgWithToken();
    const from = newAddress();
    const spellings = [`Bearer ${token}`, `bearer ${token}`, `BEARER  ${token}`, `Bearer ${token} `, `bEaReR\t${token}`, `Bearer   ${token}`];
    const statuses = [];
    for (const authorization of spellings) statuses.push((await h.scim(null, 'GET', '/Users?count=1', undefined, { ...from, authorization })).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
  });

  it('an address that keeps presenting bad tokens gets 429 for its bad tokens for 5 minutes, while a good token from it is still served', async () => {
    const h = harness();
    const { token } = await h.newOrgWithToken();
    const shared = newAddress(); // say, an IdP's egress address that several tenants share
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await h.scim(`guess-${i}-${h.tag()}`, 'GET', '/Users', undefined, shared)).status);
    expect(statuses).toEqual([401, 401, 401]);
    const blocked = await h.scim(`guess-4-${h.tag()}`, 'GET', '/Users', undefined, shared);
    expect(blocked.status).toBe(429);
    expect(blocked.body).toMatchObject({ schemas: [ERROR_SCHEMA], status: '429' });
    expect(blocked.body.detail).toMatch(/invalid token/);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(240);
    expect((await h.scim(`guess-5-${h.tag()}`, 'GET', '/Users', undefined, shared)).status).toBe(429);
    // Another tenant's valid token from the same address is not locked out.
    expect((await h.scim(token, 'GET', '/Users', undefined, shared)).status).toBe(200);
  });

  it('bad tokens sent all at once are each counted: no more than the limit get a 401', async () => {
    const h = harness();
    const from = newAddress();
    const statuses = await Promise.all(
      Array.from({ length: 10 }, (_, i) => h.scim(`burst-${i}-${h.tag()}`, 'GET', '/Users', undefined, from).then((r) => r.status)),
    );
    expect(statuses.filter((s) => s === 401)).toHaveLength(3);
    expect(statuses.filter((s) => s === 429)).toHaveLength(7);
  });
});
