import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { invites } from '../../src/db/schema.js';
import { createWorker } from '../../src/jobs/agenda.js';
import { createLogger } from '../../src/logger.js';
import { useWorld, type World } from '../helpers/domain.js';

const world = useWorld();

const inviteOne = (w: World, opts: { expiry?: '72h' | '7d' | '14d' | '30d' | 'never' } = {}) =>
  w.pendingInvite('Expiry', 'developer', opts.expiry ? { inviteExpiry: opts.expiry } : undefined);

async function statusOf(w: World, inviteId: string) {
  const [row] = await w.db.db.select().from(invites).where(eq(invites.id, inviteId));
  return row!;
}

const expiredEvents = (w: World, inviteId: string) => w.count('audit_events', `action = 'invite.expired' and target_id = '${inviteId}'`);

describe('expire-invites job', () => {
  it('an invite is still pending 1 ms before its expiry and the job leaves it alone', async () => {
    const w = world();
    const { invite, token } = await inviteOne(w);
    expect(invite.expiresAt!.getTime() - invite.createdAt.getTime()).toBe(14 * 24 * 3_600_000); // default 14 days
    w.clock.set(new Date(invite.expiresAt!.getTime() - 1));
    await w.domain.invites.expireDue();
    expect((await statusOf(w, invite.id)).status).toBe('pending');
    expect(await expiredEvents(w, invite.id)).toBe(0);
    expect((await w.domain.invites.lookupByToken(token)).state).toBe('pending');
  });

  it('the job expires an invite exactly at its expiry time', async () => {
    const w = world();
    const { invite, token } = await inviteOne(w);
    w.clock.set(invite.expiresAt!);
    expect(await w.domain.invites.expireDue()).toBeGreaterThanOrEqual(1);
    const row = await statusOf(w, invite.id);
    expect(row.status).toBe('expired');
    expect(row.updatedAt.getTime()).toBe(invite.expiresAt!.getTime());
    expect((await w.domain.invites.lookupByToken(token)).state).toBe('expired');
  });

  it('an invite the job missed is expired by the next run after its expiry', async () => {
    const w = world();
    const { invite } = await inviteOne(w);
    w.clock.set(new Date(invite.expiresAt!.getTime() + 5 * 3_600_000));
    await w.domain.invites.expireDue();
    expect((await statusOf(w, invite.id)).status).toBe('expired');
    expect(await expiredEvents(w, invite.id)).toBe(1);
  });

  it('an invite is expired once: running the job again writes no second audit event and changes nothing', async () => {
    const w = world();
    const { invite } = await inviteOne(w);
    w.clock.set(invite.expiresAt!);
    await w.domain.invites.expireDue();
    const first = await statusOf(w, invite.id);
    for (let i = 0; i < 3; i++) {
      w.clock.advanceHours(1);
      await w.domain.invites.expireDue();
    }
    const after = await statusOf(w, invite.id);
    expect(after.status).toBe('expired');
    expect(after.updatedAt.getTime()).toBe(first.updatedAt.getTime());
    expect(await expiredEvents(w, invite.id)).toBe(1);
  });

  it('the expiry is audited as invite.expired by the system job, with the invite as it was', async () => {
    const w = world();
    const { org, owner, invite } = await inviteOne(w);
    w.clock.set(invite.expiresAt!);
    await w.domain.invites.expireDue();
    const events = await w.domain.audit.query(owner.actor, org.id, { action: 'invite.expired' });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      orgId: org.id,
      actorType: 'system',
      actorId: 'expire-invites',
      via: 'job',
      targetType: 'invite',
      targetId: invite.id,
      before: { status: 'pending', expiresAt: expect.any(String) },
    });
    expect(new Date((events[0]!.before as { expiresAt: string }).expiresAt).getTime()).toBe(invite.expiresAt!.getTime());
    expect(events[0]!.at.getTime()).toBe(invite.expiresAt!.getTime());
  });

  it('one run expires every due invite of an org, each with its own audit event, and none that is not due', async () => {
    const w = world();
    const { org, owner } = await w.org('Batch');
    const people = await Promise.all([w.person('A'), w.person('B'), w.person('C')]);
    const results = await w.domain.invites.create(owner.actor, org.id, { emails: people.map((p) => p.account.email!).join(', '), role: 'member' });
    expect(results.every((r) => r.ok)).toBe(true);
    w.clock.advanceHours(1);
    const late = await w.person('Late');
    const [lateInvite] = await w.domain.invites.create(owner.actor, org.id, { emails: late.account.email!, role: 'member' });
    const due = results.map((r) => (r.ok ? r.invite : undefined)!);
    w.clock.set(due[0]!.expiresAt!);
    await w.domain.invites.expireDue();
    for (const i of due) expect((await statusOf(w, i.id)).status).toBe('expired');
    expect((await statusOf(w, lateInvite!.ok ? lateInvite!.invite.id : '')).status).toBe('pending');
    expect(await w.count('audit_events', `action = 'invite.expired' and org_id = '${org.id}'`)).toBe(3);
  });

  it('an invite of an org set to 72 h expires 72 h after it was sent', async () => {
    const w = world();
    const { invite } = await inviteOne(w, { expiry: '72h' });
    expect(invite.expiresAt!.getTime() - invite.createdAt.getTime()).toBe(72 * 3_600_000);
    w.clock.set(new Date(invite.expiresAt!.getTime() - 1));
    await w.domain.invites.expireDue();
    expect((await statusOf(w, invite.id)).status).toBe('pending');
    w.clock.advance(1);
    await w.domain.invites.expireDue();
    expect((await statusOf(w, invite.id)).status).toBe('expired');
  });

  it('a never-expiring invite is never expired, even years later', async () => {
    const w = world();
    const { invite, token } = await inviteOne(w, { expiry: 'never' });
    expect(invite.expiresAt).toBeNull();
    w.clock.advanceHours(24 * 365 * 5);
    await w.domain.invites.expireDue();
    expect((await statusOf(w, invite.id)).status).toBe('pending');
    expect(await expiredEvents(w, invite.id)).toBe(0);
    expect((await w.domain.invites.lookupByToken(token)).state).toBe('pending');
  });

  it('the job leaves accepted, declined and revoked invites as they are after their expiry', async () => {
    const w = world();
    const accepted = await inviteOne(w);
    await w.domain.invites.accept(accepted.invitee.actor, accepted.invite.id);
    const declined = await inviteOne(w);
    await w.domain.invites.decline(declined.invitee.actor, declined.invite.id);
    const revoked = await inviteOne(w);
    await w.domain.invites.revoke(revoked.owner.actor, revoked.invite.id);
    const latest = Math.max(...[accepted, declined, revoked].map((x) => x.invite.expiresAt!.getTime()));
    w.clock.set(new Date(latest + 1));
    await w.domain.invites.expireDue();
    expect((await statusOf(w, accepted.invite.id)).status).toBe('accepted');
    expect((await statusOf(w, declined.invite.id)).status).toBe('declined');
    expect((await statusOf(w, revoked.invite.id)).status).toBe('revoked');
    for (const x of [accepted, declined, revoked]) expect(await expiredEvents(w, x.invite.id)).toBe(0);
  });

  it('a resent invite gets a new expiry and is not expired at the old one', async () => {
    const w = world();
    const { owner, invite } = await inviteOne(w);
    w.clock.advanceHours(24 * 10);
    const { invite: resent } = await w.domain.invites.resend(owner.actor, invite.id);
    expect(resent.expiresAt!.getTime()).toBe(w.clock.now().getTime() + 14 * 24 * 3_600_000);
    w.clock.set(invite.expiresAt!);
    await w.domain.invites.expireDue();
    expect((await statusOf(w, invite.id)).status).toBe('pending');
    w.clock.set(resent.expiresAt!);
    await w.domain.invites.expireDue();
    expect((await statusOf(w, invite.id)).status).toBe('expired');
    expect(await expiredEvents(w, invite.id)).toBe(1);
  });

  it('callers expiring in parallel expire every due invite exactly once, with one audit event each, and nothing else', async () => {
    const w = world();
    const { org, owner } = await w.org('Parallel');
    const now = w.clock.now();
    // Enough invites, and small enough batches, that the callers' batches interleave.
    // 300 due pending (and 300 past their expiry but accepted or revoked), 50 not due yet.
    await w.db.pool.query(
      `insert into invites (org_id, email, role, status, token_hash, token_nonce, expires_at, invited_by_id)
       select $1::uuid, s || k || '.' || i || '@example.test', 'member', case when s = 'future' then 'pending' else s end::invite_status, md5(s || k || '.' || i), 'n',
              $2::timestamptz + case when s = 'future' then i else -i end * interval '1 second', $3::uuid
       from generate_series(1, 150) i,
            unnest(array['pending', 'pending', 'accepted', 'revoked', 'future']) with ordinality as t(s, k)
       where s <> 'future' or i <= 50`,
      [org.id, now, owner.account.id],
    );
    const counts = await Promise.all(
      Array.from({ length: 4 }, async () => {
        let n = 0;
        for (let k = -1; k !== 0; n += k) k = await w.domain.invites.expireDue(7);
        return n;
      }),
    );
    expect(counts.reduce((a, b) => a + b, 0)).toBe(300);
    const r = await w.db.pool.query(
      `select
         (select count(*)::int from invites where org_id = $1 and status = 'expired') as expired,
         (select count(*)::int from invites where org_id = $1 and status = 'pending') as pending,
         (select count(*)::int from invites where org_id = $1 and status = 'pending' and expires_at <= $2) as still_due,
         (select count(*)::int from audit_events where org_id = $1 and action = 'invite.expired') as events,
         (select count(distinct target_id)::int from audit_events where org_id = $1 and action = 'invite.expired') as audited,
         (select count(*)::int from invites i where org_id = $1 and status = 'expired'
            and exists (select 1 from audit_events a where a.target_id = i.id::text and a.action = 'invite.expired')) as expired_and_audited`,
      [org.id, now],
    );
    expect(r.rows[0]).toEqual({ expired: 300, pending: 50, still_due: 0, events: 300, audited: 300, expired_and_audited: 300 });
  });

  it("the worker's expire-invites job expires due invites and reports how many", async () => {
    const w = world();
    const worker = createWorker({ pool: w.db.pool, domain: w.domain, log: createLogger('silent'), channels: {} });
    const { invite } = await inviteOne(w);
    w.clock.set(invite.expiresAt!);
    expect(await worker.run.expireInvites()).toBeGreaterThanOrEqual(1);
    expect((await statusOf(w, invite.id)).status).toBe('expired');
    expect(await worker.run.expireInvites()).toBe(0);
    expect(await expiredEvents(w, invite.id)).toBe(1);
  });
});
