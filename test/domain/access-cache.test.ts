import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listenTo, type Invalidation } from '../../src/db/notify.js';
import { createDomain, type Domain } from '../../src/domain/index.js';
import { systemActor, systemClock, type Actor } from '../../src/domain/context.js';
import { freshDatabase } from '../helpers/db.js';
import { newMember, newPerson } from '../helpers/fixtures.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Authorize keeps the memberships it found in memory (domain/access-cache.ts). Two domains over one
 * database stand for two Roster processes: what one changes, the other answers at once after the
 * notification (migration 0019); what this process changes, it answers at once.
 */

let db: Awaited<ReturnType<typeof freshDatabase>>;
const channels: Invalidation[] = [];
let a: Domain;
let b: Domain;
const operator: Actor = systemActor('cli');

function processOver(changes: Invalidation | undefined): Domain {
  return createDomain({
    db: db.db,
    clock: systemClock,
    accessChanges: changes,
    settings: { membershipMode: 'multi', inviteTokenKey: Buffer.alloc(32, 7) },
  });
}

function listening(): Invalidation {
  const c = listenTo(db.pool, 'roster_access', { retryMs: 50 });
  channels.push(c);
  return c;
}

beforeAll(async () => {
  db = await freshDatabase(6);
  const ca = listening();
  const cb = listening();
  a = processOver(ca);
  b = processOver(cb);
  await waitFor(() => ca.live() && cb.live(), 'both processes listening');
});

afterAll(async () => {
  for (const c of channels) await c.close();
  await db?.close();
});

async function team() {
  const owner = await newPerson(a, 'Owner');
  const org = await a.orgs.create(owner.actor, { name: `Cache ${Math.random().toString(36).slice(2, 8)}` });
  const member = await newMember(a, org, owner.actor, 'member');
  return { org, owner, member, email: member.account.email! };
}

const ask = (d: Domain, orgId: string, email: string, permission = 'resources:use') =>
  d.authorization.check(operator, orgId, { subject: { email }, permission });

/** Changes a role behind every process's back: no trigger runs, so no notification is sent. */
async function silently(sql: string, params: unknown[]) {
  const c = await db.pool.connect();
  try {
    await c.query('set session_replication_role = replica');
    await c.query(sql, params);
  } finally {
    await c.query('reset session_replication_role');
    c.release();
  }
}

describe('authorize answers from memory, and forgets at every change', () => {
  it('a found membership is answered from memory: a change that notifies nobody is not seen (so the cache is really used)', async () => {
    const { org, member, email } = await team();
    expect(await ask(a, org.id, email)).toMatchObject({ allowed: true, role: 'member' });
    await silently(`update memberships set status = 'suspended' where org_id = $1 and account_id = $2`, [org.id, member.account.id]);
    expect(await ask(a, org.id, email)).toMatchObject({ allowed: true, status: 'active' });
    // A process that never asked reads the database.
    expect(await ask(b, org.id, email)).toMatchObject({ allowed: false, reason: 'suspended' });
  });

  it('a member removed by another process is refused as soon as its notification arrives', async () => {
    const { org, owner, member, email } = await team();
    expect(await ask(a, org.id, email)).toMatchObject({ allowed: true });
    await b.members.remove(owner.actor, org.id, member.account.id);
    await waitFor(async () => (await ask(a, org.id, email)).reason === 'not_a_member', 'process A to hear of the removal', { timeoutMs: 3000 });
  });

  it('a role changed by another process is answered with the new role after the notification', async () => {
    const { org, owner, member, email } = await team();
    expect(await ask(a, org.id, email, 'member:invite')).toMatchObject({ allowed: false, role: 'member', reason: 'missing_permission' });
    await b.members.changeRole(owner.actor, org.id, member.account.id, 'admin');
    await waitFor(async () => (await ask(a, org.id, email, 'member:invite')).allowed, 'process A to hear of the new role', { timeoutMs: 3000 });
  });

  it('a change made straight in the database (not through Roster) also notifies: suspending a membership by SQL', async () => {
    const { org, member, email } = await team();
    expect(await ask(a, org.id, email)).toMatchObject({ allowed: true });
    await db.pool.query(`update memberships set status = 'suspended' where org_id = $1 and account_id = $2`, [org.id, member.account.id]);
    await waitFor(async () => (await ask(a, org.id, email)).reason === 'suspended', 'process A to hear of the SQL update', { timeoutMs: 3000 });
  });

  it("this process's own change is answered at once, with no wait for the notification", async () => {
    // A channel that is live but never delivers: only the process's own forgetting can end the answer.
    const deaf: Invalidation = { live: () => true, onChange: () => {}, close: async () => {} };
    const c = processOver(deaf);
    const { org, owner, member, email } = await team();
    expect(await ask(c, org.id, email)).toMatchObject({ allowed: true });
    await c.members.remove(owner.actor, org.id, member.account.id);
    expect(await ask(c, org.id, email)).toMatchObject({ allowed: false, reason: 'not_a_member' });
  });

  it('a person not found is not kept: they are allowed as soon as they join', async () => {
    const { org, owner } = await team();
    const newcomer = await newPerson(a, 'Newcomer');
    expect(await ask(a, org.id, newcomer.account.email!)).toMatchObject({ allowed: false, reason: 'not_a_member' });
    const [r] = await b.invites.create(owner.actor, org.id, { emails: newcomer.account.email!, role: 'member' });
    await b.invites.accept(newcomer.actor, r!.ok ? r!.invite.id : '');
    expect(await ask(a, org.id, newcomer.account.email!)).toMatchObject({ allowed: true });
  });

  it('without a live notification channel nothing is kept: every answer is read from the database', async () => {
    const dead = listenTo(db.pool, 'roster_access');
    await dead.close();
    const c = processOver(dead);
    const { org, member, email } = await team();
    expect(await ask(c, org.id, email)).toMatchObject({ allowed: true });
    await silently(`update memberships set status = 'suspended' where org_id = $1 and account_id = $2`, [org.id, member.account.id]);
    expect(await ask(c, org.id, email)).toMatchObject({ allowed: false, reason: 'suspended' });
  });
});
