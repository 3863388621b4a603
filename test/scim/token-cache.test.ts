import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listenTo, type Invalidation } from '../../src/db/notify.js';
import { accountActor } from '../../src/domain/context.js';
import { createDomain, type Domain } from '../../src/domain/index.js';
import { freshDatabase } from '../helpers/db.js';
import { TEST_INVITE_KEY, TestClock } from '../helpers/domain.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Each Roster process caches SCIM token lookups (one query less per SCIM request). A token that is
 * revoked, rotated out or deleted with its org must stop working in every process at once: the change
 * notifies at commit, and a process that cannot hear notifications does not cache.
 */
let db: Awaited<ReturnType<typeof freshDatabase>>;
const listeners: Invalidation[] = [];
const clock = new TestClock();

/**
 * A Roster process, as far as tokens go: its own domain and its own notification connection.
 * `heard()` counts what that connection delivered (after the domain's cache has acted on it).
 */
function rosterProcess(retryMs?: number): Domain & { changes: Invalidation; heard: () => number } {
  const changes = listenTo(db.pool, 'roster_scim_tokens', { retryMs });
  listeners.push(changes);
  const domain = createDomain({ db: db.db, clock, settings: { membershipMode: 'multi', inviteTokenKey: TEST_INVITE_KEY }, scimTokenChanges: changes });
  let heard = 0;
  changes.onChange(() => heard++);
  return { ...domain, changes, heard: () => heard };
}

beforeAll(async () => {
  db = await freshDatabase();
});
afterAll(async () => {
  await Promise.all(listeners.map((l) => l.close()));
  await db.close();
});

async function orgWithToken(domain: Domain, name: string) {
  const owner = await domain.accounts.findOrCreateByEmail(`${name}.${Date.now()}.${Math.random().toString(36).slice(2, 8)}@example.com`, 'Owner');
  const actor = accountActor(owner.id, 'api');
  const org = await domain.orgs.create(actor, { name: `${name} ${Math.random().toString(36).slice(2, 8)}` });
  const { token } = await domain.scimTokens.create(actor, org.id, 'okta');
  return { actor, org, token };
}

describe('SCIM token lookups cached per process', () => {
  it('a token revoked in one process is refused by another as soon as the change is heard, and a cached token is not looked up again', async () => {
    const a = rosterProcess();
    const b = rosterProcess();
    await waitFor(() => listeners.every((l) => l.live()), 'both processes listening');
    const { actor, org, token } = await orgWithToken(a, 'Cache');
    expect(await b.scimTokens.authenticate(token)).toMatchObject({ orgId: org.id });

    // A change nobody announces (the trigger off) is not seen by b: b answers from its cache.
    await db.pool.query('alter table scim_tokens disable trigger scim_tokens_changed');
    await db.pool.query(`update scim_tokens set revoked_at = now() where org_id = $1`, [org.id]);
    await db.pool.query('alter table scim_tokens enable trigger scim_tokens_changed');
    expect(await b.scimTokens.authenticate(token)).toMatchObject({ orgId: org.id });
    await db.pool.query(`update scim_tokens set revoked_at = null where org_id = $1`, [org.id]);

    // The real revocation, in process a: b hears it and refuses the token.
    await a.scimTokens.revoke(actor, org.id, 'okta');
    await waitFor(async () => (await b.scimTokens.authenticate(token)) === undefined, 'b refuses the revoked token');
    // and a refused it at once, without waiting for its own notification
    expect(await a.scimTokens.authenticate(token)).toBeUndefined();
  });

  it("deleting an org ends its tokens in every process, and a rotated token's overlap ends on time", async () => {
    const a = rosterProcess();
    const b = rosterProcess();
    await waitFor(() => listeners.every((l) => l.live()), 'both processes listening');
    const one = await orgWithToken(a, 'Doomed');
    expect(await b.scimTokens.authenticate(one.token)).toBeDefined();
    await a.orgs.delete(one.actor, one.org.id, one.org.name);
    expect(await a.scimTokens.authenticate(one.token)).toBeUndefined();
    await waitFor(async () => (await b.scimTokens.authenticate(one.token)) === undefined, 'b refuses the deleted org token');

    const two = await orgWithToken(a, 'Rotating');
    expect(await b.scimTokens.authenticate(two.token)).toBeDefined();
    const heardBefore = b.heard();
    const { token: fresh } = await a.scimTokens.rotate(two.actor, two.org.id, 'okta');
    // b has forgotten its cached lookup: the next answer is looked up again, inside the overlap.
    await waitFor(() => b.heard() > heardBefore, 'b to hear the rotation');
    expect(await b.scimTokens.authenticate(two.token)).toBeDefined(); // inside the overlap
    clock.advance(25 * 3_600_000);
    expect(await b.scimTokens.authenticate(two.token)).toBeUndefined();
    expect(await b.scimTokens.authenticate(fresh)).toMatchObject({ orgId: two.org.id });
  });

  it('a process that has lost its notification connection looks every token up until it listens again', async () => {
    const b = rosterProcess(2_000); // reconnects 2 s after losing its connection
    const a = rosterProcess();
    await waitFor(() => a.changes.live() && b.changes.live(), 'both processes listening');
    const { org, token } = await orgWithToken(a, 'Deaf');
    expect(await b.scimTokens.authenticate(token)).toBeDefined();

    await db.pool.query(`select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and query ilike 'listen%'`);
    await waitFor(() => !b.changes.live(), 'b notices');
    expect(await b.scimTokens.authenticate(token)).toBeDefined(); // looked up while deaf: must not be kept
    // Unannounced, while b is deaf: b must not answer from what it cached before.
    await db.pool.query('alter table scim_tokens disable trigger scim_tokens_changed');
    await db.pool.query(`update scim_tokens set revoked_at = now() where org_id = $1`, [org.id]);
    await db.pool.query('alter table scim_tokens enable trigger scim_tokens_changed');
    expect(b.changes.live()).toBe(false);
    expect(await b.scimTokens.authenticate(token)).toBeUndefined();
    await waitFor(() => b.changes.live(), 'b listens again');
    expect(await b.scimTokens.authenticate(token)).toBeUndefined();
  }, 20_000);
});
