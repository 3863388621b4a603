import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { run } from '../../src/cli/roster.js';
import { GROUP_SCHEMA, patchBody, useScimRoster, userBody, type ScimHarness } from '../helpers/scim.js';

/** SCIM bearer tokens (SPEC §6): owners only, shown once, stored hashed, revocable at once, rotated with a 24 h overlap. */
const roster = useScimRoster();
// Tests here move the server's clock; the CLI runs on real time. Each test starts from now again.
afterEach(() => roster().clock.set(new Date()));

const TOKEN_FORMAT = /^rst_[A-Za-z0-9_-]{43}$/;
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

async function works(h: ScimHarness, token: string): Promise<boolean> {
  const r = await h.scim(token, 'GET', '/Users?count=1');
  if (r.status !== 200 && r.status !== 401) throw new Error(`unexpected ${r.status}: ${r.text}`);
  return r.status === 200;
}

async function cli(h: ScimHarness, ...argv: string[]) {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const env = { DATABASE_URL: h.db.url, LOG_LEVEL: 'silent', APP_SECRET: 'x'.repeat(40), PUBLIC_URL: 'https://roster.test' };
  const code = await run(argv, { print: (s) => stdout.push(s), error: (s) => stderr.push(s) }, env);
  const out = stdout.join('\n');
  return { code, out, err: stderr.join('\n'), lines: out.split('\n') };
}

describe('SCIM tokens', () => {
  it('a new token is shown once; only its sha256 is stored, and listings never show it', async () => {
    const h = roster();
    const { org, owner } = await h.newOrgWithToken();
    const { token, view } = await h.domain.scimTokens.create(owner.actor, org.id, 'okta');
    expect(token).toMatch(TOKEN_FORMAT);
    expect(view).not.toHaveProperty('token');
    expect(view).not.toHaveProperty('tokenHash');

    const row = await h.db.pool.query('select * from scim_tokens where id = $1', [view.id]);
    expect(row.rows[0].token_hash).toBe(sha256(token));
    expect(JSON.stringify(row.rows[0])).not.toContain(token.slice(4));
    const anywhere = await h.db.pool.query(`select count(*)::int as n from scim_tokens t where row_to_json(t)::text like '%' || $1 || '%'`, [token.slice(4)]);
    expect(anywhere.rows[0].n).toBe(0);
    expect(await h.count('audit_events', `org_id = '${org.id}' and after::text like '%${token.slice(4)}%'`)).toBe(0);

    const listed = await h.domain.scimTokens.list(owner.actor, org.id);
    expect(listed.map((t) => t.name).sort()).toEqual(['idp', 'okta']);
    expect(JSON.stringify(listed)).not.toContain(token.slice(4));
    expect(await works(h, token)).toBe(true);
  });

  it('two tokens of one org may not share a name', async () => {
    const h = roster();
    const { org, owner } = await h.newOrgWithToken();
    await expect(h.domain.scimTokens.create(owner.actor, org.id, 'IDP')).rejects.toMatchObject({ code: 'scim_token_name_taken' });
    expect(await h.count('scim_tokens', `org_id = '${org.id}'`)).toBe(1);
  });

  it('a revoked token gets 401 on its very next request; other tokens keep working', async () => {
    const h = roster();
    const { org, owner, token } = await h.newOrgWithToken();
    const { token: other } = await h.domain.scimTokens.create(owner.actor, org.id, 'backup');
    expect(await works(h, token)).toBe(true);

    await h.domain.scimTokens.revoke(owner.actor, org.id, 'idp');

    const r = await h.scim(token, 'POST', '/Users', userBody(`after.revoke.${h.tag()}@example.com`));
    expect(r.status).toBe(401);
    expect(await h.count('scim_users', `org_id = '${org.id}'`)).toBe(0);
    expect(await works(h, other)).toBe(true);
    expect((await h.domain.scimTokens.list(owner.actor, org.id)).map((t) => t.name)).toEqual(['backup']);
    expect(await h.count('audit_events', `org_id = '${org.id}' and action = 'scim_token.revoked'`)).toBe(1);
    await expect(h.domain.scimTokens.revoke(owner.actor, org.id, 'idp')).rejects.toMatchObject({ code: 'scim_token_not_found' });
  });

  it('after a rotation both tokens work for 24 hours, then only the new one', async () => {
    const h = roster();
    const { org, owner, token: old } = await h.newOrgWithToken();
    const { token: fresh, oldValidUntil } = await h.domain.scimTokens.rotate(owner.actor, org.id, 'idp');
    expect(fresh).toMatch(TOKEN_FORMAT);
    expect(fresh).not.toBe(old);
    expect(oldValidUntil.getTime()).toBe(h.clock.now().getTime() + 24 * 3_600_000);

    expect(await works(h, old)).toBe(true);
    expect(await works(h, fresh)).toBe(true);
    expect(await h.domain.scimTokens.list(owner.actor, org.id)).toHaveLength(2);

    h.clock.advance(24 * 3_600_000 - 60_000);
    expect(await works(h, old)).toBe(true);

    h.clock.advance(60_000);
    expect(await works(h, old)).toBe(false);
    expect(await works(h, fresh)).toBe(true);
    expect((await h.domain.scimTokens.list(owner.actor, org.id)).map((t) => t.expiresAt)).toEqual([null]);

    // The name now belongs to the new token: revoking it stops both at once.
    await h.domain.scimTokens.revoke(owner.actor, org.id, 'idp');
    expect(await works(h, fresh)).toBe(false);
  });

  it('revoking during the overlap stops the old and the new token together', async () => {
    const h = roster();
    const { org, owner, token: old } = await h.newOrgWithToken();
    const { token: fresh } = await h.domain.scimTokens.rotate(owner.actor, org.id, 'idp');
    await h.domain.scimTokens.revoke(owner.actor, org.id, 'idp');
    expect(await works(h, old)).toBe(false);
    expect(await works(h, fresh)).toBe(false);
  });

  it('deleting the org stops its tokens at once', async () => {
    const h = roster();
    const { org, owner, token } = await h.newOrgWithToken();
    expect(await works(h, token)).toBe(true);
    await h.domain.orgs.delete(owner.actor, org.id, org.name);
    expect(await works(h, token)).toBe(false);
    expect(await h.count('scim_tokens', `org_id = '${org.id}'`)).toBe(0);
  });

  it('only owners create, list, rotate or revoke tokens (an admin is forbidden, nothing changes)', async () => {
    const h = roster();
    const { org, owner, token } = await h.newOrgWithToken();
    const admin = await h.member(org, owner.actor, 'admin');
    const before = await h.db.pool.query('select * from scim_tokens where org_id = $1 order by id', [org.id]);
    const audit = await h.count('audit_events', `org_id = '${org.id}' and action like 'scim_token.%'`);

    await expect(h.domain.scimTokens.create(admin.actor, org.id, 'mine')).rejects.toMatchObject({
      code: 'forbidden',
      message: expect.stringMatching(/owners only/),
    });
    await expect(h.domain.scimTokens.list(admin.actor, org.id)).rejects.toMatchObject({ code: 'forbidden' });
    await expect(h.domain.scimTokens.rotate(admin.actor, org.id, 'idp')).rejects.toMatchObject({ code: 'forbidden' });
    await expect(h.domain.scimTokens.revoke(admin.actor, org.id, 'idp')).rejects.toMatchObject({ code: 'forbidden' });
    const outsider = await h.person('Outsider');
    await expect(h.domain.scimTokens.create(outsider.actor, org.id, 'mine')).rejects.toMatchObject({ code: 'not_a_member' });

    expect((await h.db.pool.query('select * from scim_tokens where org_id = $1 order by id', [org.id])).rows).toEqual(before.rows);
    expect(await h.count('audit_events', `org_id = '${org.id}' and action like 'scim_token.%'`)).toBe(audit);
    expect(await works(h, token)).toBe(true);
  });

  it('the last time a token was used is recorded (at most once a minute)', async () => {
    const h = roster();
    const { org, owner, token } = await h.newOrgWithToken();
    const lastUsed = async () => (await h.domain.scimTokens.list(owner.actor, org.id))[0]!.lastUsedAt;
    expect(await lastUsed()).toBeNull();

    const first = h.clock.now();
    await works(h, token);
    expect(await lastUsed()).toEqual(first);

    h.clock.advance(30_000);
    await works(h, token);
    expect(await lastUsed()).toEqual(first);

    h.clock.advance(60_000);
    await works(h, token);
    expect(await lastUsed()).toEqual(h.clock.now());
    // A failed attempt with another token is not a use of this one.
    h.clock.advance(120_000);
    await h.scim(`rst_${'Z'.repeat(43)}`, 'GET', '/Users');
    expect((await lastUsed())!.getTime()).toBeLessThan(h.clock.now().getTime());
  });

  it('every SCIM change is audited with the token as the actor', async () => {
    const h = roster();
    const { org, owner, token, mail } = await h.newOrgWithToken();
    const tokenId = (await h.domain.scimTokens.list(owner.actor, org.id))[0]!.id;
    const groupName = `Audited ${h.tag()}`;
    await h.domain.scim.mapGroup(owner.actor, org.id, groupName, 'admin');
    const mark = (await h.db.pool.query('select coalesce(max(id), 0)::bigint as id from audit_events')).rows[0].id;

    const email = mail('audited');
    const u = (await h.scim(token, 'POST', '/Users', userBody(email))).body;
    await h.scim(token, 'PUT', `/Users/${u.id}`, userBody(email, { displayName: 'Put' }));
    await h.scim(token, 'PATCH', `/Users/${u.id}`, patchBody({ op: 'replace', value: { active: false } }));
    await h.scim(token, 'PATCH', `/Users/${u.id}`, patchBody({ op: 'replace', value: { active: true } }));
    const g = (await h.scim(token, 'POST', '/Groups', { schemas: [GROUP_SCHEMA], displayName: groupName, members: [{ value: u.id }] })).body;
    await h.scim(token, 'PATCH', `/Groups/${g.id}`, patchBody({ op: 'replace', path: 'displayName', value: `${groupName} 2` }));
    expect((await h.scim(token, 'DELETE', `/Groups/${g.id}`)).status).toBe(204);
    expect((await h.scim(token, 'DELETE', `/Users/${u.id}`)).status).toBe(204);

    const events = (
      await h.db.pool.query('select action, actor_type, actor_id, actor_label, via, target_type from audit_events where id > $1 and org_id = $2 order by id', [
        mark,
        org.id,
      ])
    ).rows;
    expect(events.map((e) => e.action)).toEqual([
      'member.added',
      'scim.user_provisioned',
      'scim.user_updated',
      'member.suspended',
      'scim.user_updated',
      'member.restored',
      'scim.user_updated',
      'member.role_changed',
      'scim.group_created',
      'scim.group_updated',
      'member.role_changed',
      'scim.group_deleted',
      'member.removed',
      'scim.user_deprovisioned',
    ]);
    for (const e of events) expect(e).toMatchObject({ actor_type: 'scim', actor_id: tokenId, actor_label: 'SCIM token idp', via: 'scim' });
    // The audit log reads them back by actor.
    const byActor = await h.domain.audit.query(owner.actor, org.id, { actorId: tokenId, limit: 100 });
    expect(byActor).toHaveLength(events.length);
  });
});

describe('roster scim (CLI)', () => {
  it('token create prints the token alone on its last line, and that token works', async () => {
    const h = roster();
    const { org } = await h.newOrgWithToken();
    const r = await cli(h, 'scim', 'token', 'create', org.slug, '--name', 'okta');
    expect(r.code, r.err).toBe(0);
    const token = r.lines.at(-1)!;
    expect(token).toMatch(TOKEN_FORMAT);
    expect(r.out).toContain('shown only once');
    expect(r.out).toContain('https://roster.test/scim/v2');
    expect(await works(h, token)).toBe(true);

    const list = await cli(h, 'scim', 'token', 'list', org.slug);
    expect(list.code, list.err).toBe(0);
    expect(list.out).toMatch(/okta/);
    expect(list.out).not.toContain(token.slice(4));

    const rotated = await cli(h, 'scim', 'token', 'rotate', org.slug, 'okta');
    expect(rotated.code, rotated.err).toBe(0);
    const next = rotated.lines.at(-1)!;
    expect(next).toMatch(TOKEN_FORMAT);
    expect(next).not.toBe(token);
    expect(await works(h, next)).toBe(true);
    expect(await works(h, token)).toBe(true);

    const revoked = await cli(h, 'scim', 'token', 'revoke', org.slug, 'okta');
    expect(revoked.code, revoked.err).toBe(0);
    // The CLI is another process: this server hears of the revocation by NOTIFY at its commit, a few
    // milliseconds later (in-process revocations are refused on the very next request, tested above).
    await expect.poll(() => works(h, next), { timeout: 5000, interval: 20 }).toBe(false);
    expect(await works(h, token)).toBe(false);
  });

  it('only an owner can create a token from the CLI (--as an admin is refused)', async () => {
    const h = roster();
    const { org, owner } = await h.newOrgWithToken();
    const admin = await h.member(org, owner.actor, 'admin');
    const before = await h.count('scim_tokens', `org_id = '${org.id}'`);
    const r = await cli(h, 'scim', 'token', 'create', org.slug, '--as', admin.account.email!);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/owners only/);
    expect(r.out).not.toMatch(/rst_/);
    expect(await h.count('scim_tokens', `org_id = '${org.id}'`)).toBe(before);
  });

  it('scim map and unmap set the role a group grants', async () => {
    const h = roster();
    const { org, owner, token, mail } = await h.newOrgWithToken();
    const group = `CLI Group ${h.tag()}`;
    const mapped = await cli(h, 'scim', 'map', org.slug, group, 'developer');
    expect(mapped.code, mapped.err).toBe(0);
    expect(mapped.out).toMatch(/once the IdP pushes that group/);
    expect(await h.domain.scim.mappings(owner.actor, org.id)).toEqual([{ group, role: 'developer', pending: true, members: 0 }]);

    const email = mail('cli.mapped');
    const u = (await h.scim(token, 'POST', '/Users', userBody(email))).body;
    await h.scim(token, 'POST', '/Groups', { schemas: [GROUP_SCHEMA], displayName: group, members: [{ value: u.id }] });
    expect((await h.memberByEmail(org, email))!.role).toBe('developer');

    const unmapped = await cli(h, 'scim', 'unmap', org.slug, group);
    expect(unmapped.code, unmapped.err).toBe(0);
    expect((await h.memberByEmail(org, email))!.role).toBe('member');

    const bad = await cli(h, 'scim', 'map', org.slug, group, 'emperor');
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/not a role/);
  });
});
