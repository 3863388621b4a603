import { Validator } from '@seriousme/openapi-schema-validator';
import { describe, expect, it } from 'vitest';
import { apiRoutes } from '../../src/api/router.js';
import { openApiPath } from '../../src/api/route.js';
import { accountActor, systemActor } from '../../src/domain/context.js';
import { joinByInvite, uniq } from '../helpers/fixtures.js';
import { useRoster } from '../helpers/roster.js';

/**
 * The host product's API (issue 14 §1): org and operator keys, authorize, organizations and members, problem
 * details for every refusal, and the OpenAPI document generated from the schemas that validate requests.
 */
const harness = useRoster({}, (r) => r);
const operator = systemActor('cli');

async function api(path: string, key: string | undefined, init: { method?: string; body?: unknown; raw?: string } = {}) {
  const res = await fetch(`${harness().baseUrl}/api/v1${path}`, {
    method: init.method ?? (init.body || init.raw ? 'POST' : 'GET'),
    headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(init.body || init.raw ? { 'content-type': 'application/json' } : {}) },
    ...(init.raw ? { body: init.raw } : init.body ? { body: JSON.stringify(init.body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, type: res.headers.get('content-type') ?? '', headers: res.headers, json: text ? JSON.parse(text) : undefined };
}

/** An org with an owner, an admin and a member (real invites), and a key for it. */
async function orgWithKey(scope: 'read' | 'write' = 'write') {
  const { domain } = harness();
  const tag = uniq();
  const owner = await domain.accounts.findOrCreateByEmail(`owner.${tag}@api.test`, 'Owner');
  const org = await domain.orgs.create(accountActor(owner.id, 'cli'), { name: `Api Org ${tag}` });
  const people: Record<string, { id: string; email: string }> = { owner: { id: owner.id, email: owner.email! } };
  for (const role of ['admin', 'member'] as const) {
    const email = `${role}.${tag}@api.test`;
    const a = await domain.accounts.findOrCreateByEmail(email, role);
    await joinByInvite(domain, org, accountActor(owner.id, 'cli'), { actor: accountActor(a.id, 'web'), email }, role);
    people[role] = { id: a.id, email };
  }
  const { key } = await domain.apiKeys.create(operator, org.id, { name: `backend-${tag}`, scope });
  return { org, key, people };
}

describe('API keys', () => {
  it('a request without a key, or with a wrong one, is 401 problem+json and says what to send', async () => {
    const none = await api('/orgs/x', undefined);
    expect(none.status).toBe(401);
    expect(none.type).toContain('application/problem+json');
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(none.json).toMatchObject({ status: 401, code: 'api_unauthorized', detail: expect.stringContaining('Authorization: Bearer') });
    const wrong = await api('/orgs/x', `rk_${'A'.repeat(43)}`);
    expect(wrong.status).toBe(401);
  });

  it('an address guessing keys is refused with 429 and Retry-After once past the limit', async () => {
    // Its own process (limits are per process), so the other tests' address is not blocked.
    const base = await harness().another({ SCIM_AUTH_FAILURE_LIMIT: '5' });
    const guess = () => fetch(`${base}/api/v1/orgs/x`, { headers: { authorization: `Bearer rk_${'B'.repeat(43)}` } });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await guess()).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401]);
    const last = await guess();
    expect(last.status).toBe(429);
    expect(Number(last.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await guess()).status).toBe(429);
  });

  it('a revoked key stops at once; a rotated one keeps working for 24 hours, the new one from now', async () => {
    const { domain, clock } = harness();
    const { org, key } = await orgWithKey();
    const [view] = await domain.apiKeys.list(operator, org.id);
    const rotated = await domain.apiKeys.rotate(operator, org.id, view!.name);
    expect((await api(`/orgs/${org.slug}`, key)).status).toBe(200);
    expect((await api(`/orgs/${org.slug}`, rotated.key)).status).toBe(200);
    clock.advance(25 * 3_600_000);
    try {
      expect((await api(`/orgs/${org.slug}`, key)).status).toBe(401);
      await domain.apiKeys.revoke(operator, org.id, view!.name);
      expect((await api(`/orgs/${org.slug}`, rotated.key)).status).toBe(401);
    } finally {
      clock.advance(-25 * 3_600_000);
    }
  });

  it('only an owner (or the operator) manages an org’s keys; keys are stored hashed', async () => {
    const { domain, db } = harness();
    const { org, key, people } = await orgWithKey();
    await expect(domain.apiKeys.create(accountActor(people.admin!.id, 'slack'), org.id, { name: 'x' })).rejects.toMatchObject({ code: 'forbidden' });
    await expect(domain.apiKeys.create(accountActor(people.owner!.id, 'slack'), org.id, { name: 'mine' })).resolves.toMatchObject({ view: { name: 'mine' } });
    const rows = await db.pool.query(`select key_hash from api_keys where org_id = $1`, [org.id]);
    expect(rows.rows.map((r) => r.key_hash)).not.toContain(key);
    await expect(domain.apiKeys.create(operator, org.id, { name: 'mine' })).rejects.toMatchObject({ code: 'api_key_name_taken' });
    await expect(domain.apiKeys.create(operator, org.id, { name: 'y', scope: 'admin' })).rejects.toMatchObject({ code: 'invalid_input' });
  });
});

describe('organizations and members', () => {
  it('an org key reads its org by id or URL name; any other org is 404, exactly as one that does not exist', async () => {
    const { org, key } = await orgWithKey();
    const other = await orgWithKey();
    const bySlug = await api(`/orgs/${org.slug}`, key);
    expect(bySlug.status).toBe(200);
    expect(bySlug.json).toMatchObject({ id: org.id, name: org.name, slug: org.slug });
    expect((await api(`/orgs/${org.id}`, key)).json.id).toBe(org.id);
    const foreign = await api(`/orgs/${other.org.slug}`, key);
    const missing = await api(`/orgs/no-such-org-${uniq()}`, key);
    expect(foreign.status).toBe(404);
    expect(missing.status).toBe(404);
    expect(foreign.json).toEqual(missing.json);
    expect((await api(`/orgs/${other.org.id}/members`, key)).status).toBe(404);
    expect((await api(`/orgs/${other.org.id}/authorize`, key, { body: { user: { email: other.people.owner!.email }, permission: 'org:view' } })).status).toBe(
      404,
    );
  });

  it('members are paged with an opaque cursor; a cursor the API did not give out is 400', async () => {
    const { org, key, people } = await orgWithKey('read');
    const first = await api(`/orgs/${org.slug}/members?limit=2`, key);
    expect(first.status).toBe(200);
    expect(first.json.members).toHaveLength(2);
    expect(first.json.members[0]).toMatchObject({ accountId: people.owner!.id, role: 'owner', isPrimaryOwner: true, managedByIdp: false });
    const second = await api(`/orgs/${org.slug}/members?limit=2&after=${first.json.next}`, key);
    expect(second.json.members.map((m: { email: string }) => m.email)).toEqual([people.member!.email]);
    expect(second.json.next).toBeNull();
    const bad = await api(`/orgs/${org.slug}/members?after=nonsense`, key);
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({ code: 'invalid_input', field: 'after' });
    expect((await api(`/orgs/${org.slug}/members?limit=0`, key)).status).toBe(400);
    const huge = Buffer.from(JSON.stringify({ o: 1e300 })).toString('base64url');
    expect((await api(`/orgs/${org.slug}/members?after=${huge}`, key)).status).toBe(400);
  });

  it('one member by account id or email; someone else is 404 member_not_found', async () => {
    const { org, key, people } = await orgWithKey();
    expect((await api(`/orgs/${org.slug}/members/${people.admin!.id}`, key)).json).toMatchObject({ email: people.admin!.email, role: 'admin' });
    expect((await api(`/orgs/${org.slug}/members/${encodeURIComponent(people.member!.email.toUpperCase())}`, key)).json.accountId).toBe(people.member!.id);
    const nobody = await api(`/orgs/${org.slug}/members/nobody.${uniq()}@api.test`, key);
    expect(nobody.status).toBe(404);
    expect(nobody.json.code).toBe('member_not_found');
  });
});

describe('POST /orgs/{org}/authorize', () => {
  it('answers from the roles: allowed for a role that holds the permission, why not otherwise', async () => {
    const { org, key, people } = await orgWithKey('read');
    const ask = (user: unknown, permission: string) => api(`/orgs/${org.slug}/authorize`, key, { body: { user, permission } });
    expect((await ask({ email: people.admin!.email }, 'member:invite')).json).toEqual({ allowed: true, role: 'admin', status: 'active', reason: 'allowed' });
    expect((await ask({ id: people.member!.id }, 'member:invite')).json).toEqual({
      allowed: false,
      role: 'member',
      status: 'active',
      reason: 'missing_permission',
    });
    expect((await ask({ email: `stranger.${uniq()}@api.test` }, 'org:view')).json).toEqual({
      allowed: false,
      role: null,
      status: null,
      reason: 'not_a_member',
    });
  });

  it('a person named by their Slack user is found through their Slack identity', async () => {
    const { domain } = harness();
    const { org, key, people } = await orgWithKey();
    const team = `T${uniq().toUpperCase()}`;
    await domain.accounts.findOrCreateBySlack({
      teamId: team,
      userId: 'UAPI1',
      email: people.member!.email,
      emailFacts: { confirmed: true, deleted: false, guest: false, external: false, workspaceTrusted: true },
    });
    const r = await api(`/orgs/${org.slug}/authorize`, key, { body: { user: { slack: { team, user: 'UAPI1' } }, permission: 'resources:use' } });
    expect(r.json).toMatchObject({ allowed: true, role: 'member' });
  });

  it('bad input is a 400 problem naming the field, never a 5xx, and changes nothing', async () => {
    const { org, key } = await orgWithKey();
    const cases: { body?: unknown; raw?: string; field?: string }[] = [
      { body: { user: { email: 'not-an-email' }, permission: 'org:view' }, field: 'user.email' },
      { body: { user: { email: 'a@b.test' }, permission: 'launch:missiles' }, field: 'permission' },
      { body: { user: { email: 'a@b.test', id: 'x' }, permission: 'org:view' }, field: 'user' },
      { body: { permission: 'org:view' }, field: 'user' },
      { body: { user: { slack: { team: '\u0000', user: 'U1' } }, permission: 'org:view' }, field: 'user.slack.team' },
      { raw: '{"user":' },
      { raw: '[1,2,3]' },
    ];
    for (const c of cases) {
      const r = await api(`/orgs/${org.slug}/authorize`, key, c.raw ? { raw: c.raw } : { body: c.body });
      expect(r.status, JSON.stringify(c)).toBe(400);
      expect(r.type).toContain('application/problem+json');
      if (c.field) expect(r.json.field, JSON.stringify(c)).toBe(c.field);
    }
  });

  it('a body that is not JSON is 415 and one over 100 kB is 413, each a problem saying what to send, as the document says', async () => {
    const { org, key } = await orgWithKey();
    const url = `${harness().baseUrl}/api/v1/orgs/${org.slug}/authorize`;
    const form = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'user=a@b.test&permission=org:view',
    });
    expect(form.status).toBe(415);
    expect(form.headers.get('content-type')).toContain('application/problem+json');
    expect(await form.json()).toMatchObject({ code: 'unsupported_media_type', detail: expect.stringMatching(/Content-Type: application\/json/) });
    const huge = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ user: { email: 'a@b.test' }, permission: 'org:view', pad: 'x'.repeat(150_000) }),
    });
    expect(huge.status).toBe(413);
    expect(await huge.json()).toMatchObject({ code: 'payload_too_large', detail: expect.stringMatching(/over 100 kB/) });
    const doc = (await (await fetch(`${harness().baseUrl}/api/v1/openapi.json`)).json()) as any;
    expect(Object.keys(doc.paths['/api/v1/orgs/{org}/authorize'].post.responses)).toEqual(expect.arrayContaining(['413', '415']));
    expect(Object.keys(doc.paths['/api/v1/orgs/{org}'].get.responses)).not.toContain('415');
  });
});

describe('operator keys', () => {
  it("an operator key lists a person's organizations across orgs; an org key is refused", async () => {
    const { domain } = harness();
    const a = await orgWithKey();
    const b = await orgWithKey();
    await joinByInvite(
      domain,
      b.org,
      accountActor(b.people.owner!.id, 'cli'),
      { actor: accountActor(a.people.member!.id, 'web'), email: a.people.member!.email },
      'admin',
    );
    const { key } = await domain.apiKeys.create(operator, null, { name: `ops-${uniq()}` });
    const r = await api(`/users/${encodeURIComponent(a.people.member!.email)}/orgs`, key);
    expect(r.status).toBe(200);
    expect(r.json.orgs.map((o: { id: string; role: string }) => [o.id, o.role]).sort()).toEqual(
      [
        [a.org.id, 'member'],
        [b.org.id, 'admin'],
      ].sort(),
    );
    expect((await api(`/orgs/${b.org.slug}`, key)).status).toBe(200);
    expect((await api(`/users/${encodeURIComponent(a.people.member!.email)}/orgs`, a.key)).status).toBe(403);
    await expect(domain.apiKeys.create(accountActor(a.people.owner!.id, 'slack'), null, { name: 'nope' })).rejects.toMatchObject({ code: 'forbidden' });
  });
});

describe('the OpenAPI document', () => {
  it('is valid OpenAPI 3.1, describes every route that is mounted, and the reference page is served', async () => {
    const res = await fetch(`${harness().baseUrl}/api/v1/openapi.json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { paths: Record<string, Record<string, unknown>> };
    const validator = new Validator();
    const result = await validator.validate(doc as never);
    expect(result.errors ?? [], JSON.stringify(result.errors)).toEqual([]);
    expect(validator.version).toBe('3.1');
    for (const route of apiRoutes) expect(doc.paths[`/api/v1${openApiPath(route.path)}`]?.[route.method], `${route.method} ${route.path}`).toBeDefined();
    const page = await fetch(`${harness().baseUrl}/api/docs`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('swagger-ui-bundle.js');
    expect((await fetch(`${harness().baseUrl}/api/docs/assets/swagger-ui-bundle.js`)).status).toBe(200);
  });
});

describe('changes through the API', () => {
  it('PATCH changes a role and billing emails through the domain rules, audited as the key with via api', async () => {
    const { db } = harness();
    const { org, key, people } = await orgWithKey();
    const path = `/orgs/${org.slug}/members/${encodeURIComponent(people.member!.email)}`;
    const r = await api(path, key, { method: 'PATCH', body: { role: 'admin' } });
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    expect(r.json).toMatchObject({ role: 'admin', billingEmails: false });
    expect((await api(path, key, { method: 'PATCH', body: { billingEmails: true } })).json).toMatchObject({ role: 'admin', billingEmails: true });
    // One change per request: both at once is refused before anything changes.
    const both = await api(path, key, { method: 'PATCH', body: { role: 'member', billingEmails: false } });
    expect(both.status).toBe(400);
    expect((await api(path, key)).json).toMatchObject({ role: 'admin', billingEmails: true });
    const audit = await db.pool.query(`select actor_type, actor_label, via from audit_events where org_id = $1 and action = 'member.role_changed'`, [org.id]);
    expect(audit.rows).toEqual([{ actor_type: 'api', actor_label: expect.stringMatching(/^API key backend-/), via: 'api' }]);
  });

  it('the domain’s refusals come back as problems with their code: the last owner, an unknown role, an empty PATCH', async () => {
    const { org, key, people } = await orgWithKey();
    const owner = `/orgs/${org.slug}/members/${people.owner!.id}`;
    const demote = await api(owner, key, { method: 'PATCH', body: { role: 'member' } });
    expect(demote.status).toBe(409);
    expect(demote.json.code).toBe('primary_owner_protected');
    expect((await api(owner, key, { method: 'DELETE' })).json.code).toBe('primary_owner_protected');
    const role = await api(`/orgs/${org.slug}/members/${people.member!.id}`, key, { method: 'PATCH', body: { role: 'emperor' } });
    expect(role.status).toBe(400);
    expect((await api(`/orgs/${org.slug}/members/${people.member!.id}`, key, { method: 'PATCH', body: {} })).status).toBe(400);
  });

  it('DELETE removes a member at once: authorize says not_a_member next', async () => {
    const { org, key, people } = await orgWithKey();
    expect((await api(`/orgs/${org.slug}/members/${people.admin!.id}`, key, { method: 'DELETE' })).status).toBe(204);
    const after = await api(`/orgs/${org.slug}/authorize`, key, { body: { user: { id: people.admin!.id }, permission: 'org:view' } });
    expect(after.json.reason).toBe('not_a_member');
  });

  it('invites: created per address (a bad one refused on its own), listed, revoked; the link works until revoked', async () => {
    const { org, key } = await orgWithKey();
    const email = `new.${uniq()}@api.test`;
    const made = await api(`/orgs/${org.slug}/invites`, key, { body: { emails: [email, 'not-an-email'], role: 'admin' } });
    expect(made.status).toBe(200);
    expect(made.json.results[0]).toMatchObject({
      email,
      ok: true,
      invite: { email, role: 'admin', state: 'pending' },
      url: expect.stringMatching(/^https:\/\/roster\.test\/invites\//),
    });
    expect(made.json.results[1]).toMatchObject({ ok: false, code: 'invalid_input' });
    const list = await api(`/orgs/${org.slug}/invites`, key);
    expect(list.json.invites.map((i: { email: string }) => i.email)).toContain(email);
    const id = made.json.results[0].invite.id;
    expect((await api(`/orgs/${org.slug}/invites/${id}`, key, { method: 'DELETE' })).status).toBe(204);
    expect((await api(`/orgs/${org.slug}/invites/${id}`, key, { method: 'DELETE' })).status).toBe(409);
    expect((await api(`/orgs/${org.slug}/invites/not-a-uuid`, key, { method: 'DELETE' })).status).toBe(400);
  });

  it('a read key reads but changes nothing: every change is 403 and the member stays as they were', async () => {
    const { org, key, people } = await orgWithKey('read');
    expect((await api(`/orgs/${org.slug}/members`, key)).status).toBe(200);
    expect((await api(`/orgs/${org.slug}/invites`, key)).status).toBe(200);
    const patch = await api(`/orgs/${org.slug}/members/${people.member!.id}`, key, { method: 'PATCH', body: { role: 'admin' } });
    expect(patch.status).toBe(403);
    expect(patch.json.detail).toMatch(/only read/);
    expect((await api(`/orgs/${org.slug}/members/${people.member!.id}`, key, { method: 'DELETE' })).status).toBe(403);
    expect((await api(`/orgs/${org.slug}/invites`, key, { body: { emails: [`x.${uniq()}@api.test`] } })).status).toBe(403);
    expect((await api(`/orgs/${org.slug}/members/${people.member!.id}`, key)).json.role).toBe('member');
  });

  it('a key of another org changes nothing in this one (404 on every change)', async () => {
    const a = await orgWithKey();
    const b = await orgWithKey();
    expect((await api(`/orgs/${b.org.slug}/members/${b.people.member!.id}`, a.key, { method: 'PATCH', body: { role: 'admin' } })).status).toBe(404);
    expect((await api(`/orgs/${b.org.slug}/members/${b.people.member!.id}`, a.key, { method: 'DELETE' })).status).toBe(404);
    expect((await api(`/orgs/${b.org.slug}/invites`, a.key, { body: { emails: [`y.${uniq()}@api.test`] } })).status).toBe(404);
    expect((await api(`/orgs/${b.org.slug}/invites`, a.key)).status).toBe(404);
  });
});

describe('tenant isolation', () => {
  it("every org route answers another org's key 404, exactly as for an org that does not exist, and changes nothing", async () => {
    const { db } = harness();
    const a = await orgWithKey();
    const b = await orgWithKey();
    const invite = await api(`/orgs/${b.org.slug}/invites`, b.key, { body: { emails: [`z.${uniq()}@api.test`] } });
    const hook = await api(`/orgs/${b.org.slug}/webhooks`, b.key, { body: { url: 'https://example.com/hook' } });
    expect(hook.status).toBe(201);
    const fill: Record<string, string> = {
      ':org': b.org.slug,
      ':member': b.people.member!.id,
      ':invite': invite.json.results[0].invite.id,
      ':webhook': hook.json.id,
    };
    // A valid body for each route that takes one, so only the key decides the answer.
    const bodies: Record<string, unknown> = {
      'post /orgs/:org/authorize': { user: { email: b.people.member!.email }, permission: 'resources:use' },
      'patch /orgs/:org/members/:member': { role: 'admin' },
      'post /orgs/:org/invites': { emails: [`w.${uniq()}@api.test`] },
      'post /orgs/:org/webhooks': { url: 'https://example.com/other' },
      'patch /orgs/:org/webhooks/:webhook': { enabled: false },
    };
    const events = async () => (await db.pool.query(`select count(*)::int as n from audit_events where org_id = $1`, [b.org.id])).rows[0].n;
    const before = await events();
    const routes = apiRoutes.filter((r) => r.path.startsWith('/orgs/:org'));
    expect(routes.length).toBeGreaterThan(15);
    for (const route of routes) {
      const path = route.path.replace(/:[a-z]+/g, (k) => fill[k]!) + (route.path.endsWith('/replay') ? '?since=2020-01-01T00:00:00Z' : '');
      const body = bodies[`${route.method} ${route.path}`] ?? (route.body ? {} : undefined);
      const r = await api(path, a.key, { method: route.method.toUpperCase(), ...(body ? { raw: JSON.stringify(body) } : {}) });
      expect(r.status, `${route.method} ${route.path}`).toBe(404);
      expect(r.json.code, `${route.method} ${route.path}`).toBe('org_not_found');
    }
    const ghost = await api(`/orgs/no-such-org-${uniq()}`, a.key);
    expect([ghost.status, ghost.json.code]).toEqual([404, 'org_not_found']);
    expect(await events()).toBe(before);
    expect((await api(`/orgs/${b.org.slug}/members/${b.people.member!.id}`, b.key)).json.role).toBe('member');
    expect((await api(`/orgs/${b.org.slug}/webhooks/${hook.json.id}`, b.key)).json.enabled).toBe(true);
  });
});

describe('GET /orgs/{org}/events', () => {
  it('the org’s events in order, each once, from a cursor; types filter; another org’s key gets 404', async () => {
    const { org, key } = await orgWithKey('read');
    const all = await api(`/orgs/${org.slug}/events?limit=500`, key);
    expect(all.status).toBe(200);
    const seqs = all.json.events.map((e: { sequence: number }) => e.sequence);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(all.json.events[0]).toMatchObject({
      type: 'org.created',
      org: org.id,
      sequence: 1,
      actor: { type: 'account' },
      subject: { type: 'org', id: org.id },
    });
    // Paging two at a time meets every event exactly once.
    const seen: number[] = [];
    let cursor = '';
    for (let i = 0; i < 50; i++) {
      const page = await api(`/orgs/${org.slug}/events?limit=2${cursor ? `&after=${cursor}` : ''}`, key);
      seen.push(...page.json.events.map((e: { sequence: number }) => e.sequence));
      if (!page.json.events.length) break;
      cursor = page.json.next;
    }
    expect(seen).toEqual(seqs);
    const accepted = await api(`/orgs/${org.slug}/events?types=invite.accepted`, key);
    expect(accepted.json.events.map((e: { type: string }) => e.type)).toEqual(['invite.accepted', 'invite.accepted']);
    expect(accepted.json.events[0].data.after).toMatchObject({ acceptedBy: expect.any(String) });
    // A filtered poll that reached the end moves its cursor to the org's last event, not its last match:
    // the next poll does not scan the same events again.
    const lastSeq = seqs.at(-1);
    expect(Buffer.from(accepted.json.next, 'base64url').toString()).toBe(`seq:${lastSeq}`);
    expect((await api(`/orgs/${org.slug}/events?after=bogus`, key)).status).toBe(400);
    expect((await api(`/orgs/${org.slug}/events?types=%00`, key)).status).toBe(400);
    const other = await orgWithKey();
    expect((await api(`/orgs/${org.slug}/events`, other.key)).status).toBe(404);
  });

  it('polling while changes are written by two Roster processes at once never skips or repeats an event', async () => {
    const { another } = harness();
    const { org, key } = await orgWithKey();
    const second = await another();
    const start = await api(`/orgs/${org.slug}/events?limit=500`, key);
    let cursor: string = start.json.next;
    const got: number[] = [];
    let writing = true;
    const writers = Promise.all(
      [harness().baseUrl, second].map(async (base) => {
        for (let i = 0; i < 15; i++) {
          const res = await fetch(`${base}/api/v1/orgs/${org.id}/invites`, {
            method: 'POST',
            headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
            body: JSON.stringify({ emails: [`w${i}.${uniq()}@feed.test`] }),
          });
          expect(res.status).toBe(200);
        }
      }),
    ).finally(() => (writing = false));
    while (writing) {
      const page = await api(`/orgs/${org.slug}/events?after=${cursor}&limit=7`, key);
      got.push(...page.json.events.map((e: { sequence: number }) => e.sequence));
      cursor = page.json.next;
    }
    await writers;
    for (;;) {
      const page = await api(`/orgs/${org.slug}/events?after=${cursor}&limit=100`, key);
      if (!page.json.events.length) break;
      got.push(...page.json.events.map((e: { sequence: number }) => e.sequence));
      cursor = page.json.next;
    }
    const first = start.json.events.at(-1).sequence;
    expect(got).toEqual(Array.from({ length: 30 }, (_, i) => first + 1 + i));
  });

  it('a cursor older than what was kept is refused with 410 feed_cursor_expired (polling on would skip pruned events); a fresh poll works', async () => {
    const { domain, clock } = harness();
    const { org, key } = await orgWithKey();
    const first = await api(`/orgs/${org.slug}/events?limit=1`, key);
    const stale: string = first.json.next;
    clock.advance(40 * 86_400_000);
    try {
      await domain.feed.prune(30);
      await domain.orgs.rename(operator, org.id, `Renamed ${uniq()}`);
      const refused = await api(`/orgs/${org.slug}/events?after=${stale}`, key);
      expect(refused.status).toBe(410);
      expect(refused.type).toContain('application/problem+json');
      expect(refused.json).toMatchObject({ status: 410, code: 'feed_cursor_expired' });
      expect(refused.json.detail).toMatch(/kept at least 30 days/);
      const fresh = await api(`/orgs/${org.slug}/events`, key);
      expect(fresh.status).toBe(200);
      expect(fresh.json.events.map((e: { type: string }) => e.type)).toEqual(['org.renamed']);
      const caughtUp = await api(`/orgs/${org.slug}/events?after=${fresh.json.next}`, key);
      expect(caughtUp).toMatchObject({ status: 200, json: { events: [] } });
    } finally {
      clock.advance(-40 * 86_400_000);
    }
  });

  it('events older than the retention are pruned with their numbers, never fewer than 30 days; account-level events stay', async () => {
    const { domain, db, clock } = harness();
    const { org } = await orgWithKey();
    const before = await db.pool.query(`select count(*)::int as n from audit_events where org_id = $1`, [org.id]);
    expect(before.rows[0].n).toBeGreaterThan(0);
    clock.advance(20 * 86_400_000);
    try {
      // Asked to keep 7 days: 30 are kept anyway.
      await domain.feed.prune(7);
      expect((await db.pool.query(`select count(*)::int as n from audit_events where org_id = $1`, [org.id])).rows[0].n).toBe(before.rows[0].n);
      clock.advance(15 * 86_400_000);
      await domain.feed.number();
      expect((await db.pool.query(`select count(*)::int as n from event_seqs where org_id = $1`, [org.id])).rows[0].n).toBe(before.rows[0].n);
      await domain.feed.prune(30);
      expect((await db.pool.query(`select count(*)::int as n from audit_events where org_id = $1`, [org.id])).rows[0].n).toBe(0);
      // Their numbers go with them (the feed's oldest number is read from what is left).
      expect((await db.pool.query(`select count(*)::int as n from event_seqs where org_id = $1`, [org.id])).rows[0].n).toBe(0);
      expect((await db.pool.query(`select count(*)::int as n from audit_events where org_id is null`)).rows[0].n).toBeGreaterThan(0);
    } finally {
      clock.advance(-35 * 86_400_000);
    }
  });
});
