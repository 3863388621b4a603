import { and, asc, eq, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { invites, notifications, type NotificationRow } from '../../src/db/schema.js';
import { useWorld, type World } from '../helpers/domain.js';

const world = useWorld();
const H = 3_600_000;

async function inviteOne(w: World, settings: { expiry?: '72h' | '7d' | '14d' | '30d' | 'never'; reminderHours?: number[] } = {}) {
  const custom = settings.expiry || settings.reminderHours;
  return w.pendingInvite(
    'Remind',
    'member',
    custom
      ? { ...(settings.expiry ? { inviteExpiry: settings.expiry } : {}), ...(settings.reminderHours ? { reminderHours: settings.reminderHours } : {}) }
      : undefined,
  );
}

/** The reminder rows queued for an invite (one per channel per step). */
function remindersOf(w: World, inviteId: string): Promise<NotificationRow[]> {
  return w.db.db
    .select()
    .from(notifications)
    .where(and(eq(notifications.kind, 'invite.reminder'), sql`${notifications.payload}->>'inviteId' = ${inviteId}`))
    .orderBy(asc(notifications.id));
}

/** The steps (hours before expiry) reminded, in order; each must be queued exactly once per channel. */
async function stepsOf(w: World, inviteId: string): Promise<number[]> {
  const rows = await remindersOf(w, inviteId);
  const byKey = new Map<string, NotificationRow[]>();
  for (const r of rows) byKey.set(r.dedupeKey, [...(byKey.get(r.dedupeKey) ?? []), r]);
  for (const group of byKey.values()) expect(group.map((r) => r.channel).sort()).toEqual(['email', 'slack']);
  return [...byKey.values()].map((g) => Number((g[0]!.payload as { hoursBeforeExpiry: number }).hoursBeforeExpiry));
}

async function remindersSent(w: World, inviteId: string): Promise<number[]> {
  const [row] = await w.db.db.select({ r: invites.remindersSent }).from(invites).where(eq(invites.id, inviteId));
  return row!.r;
}

/** Moves the clock to `hours` before the invite's expiry (plus an offset in ms) and runs the job. */
async function runAt(w: World, expiresAt: Date, hoursBefore: number, offsetMs = 0) {
  w.clock.set(new Date(expiresAt.getTime() - hoursBefore * H + offsetMs));
  return w.domain.invites.remindDue();
}

describe('remind-invitees job: the default schedule (72 h and 24 h before expiry)', () => {
  it('nothing is queued before 72 h before expiry', async () => {
    const w = world();
    const { invite } = await inviteOne(w);
    await runAt(w, invite.expiresAt!, 96);
    await runAt(w, invite.expiresAt!, 72, -1);
    expect(await remindersOf(w, invite.id)).toHaveLength(0);
    expect(await remindersSent(w, invite.id)).toEqual([]);
  });

  it('one reminder is queued at 72 h before expiry, by email and Slack, addressed to the invitee, with the current link nonce', async () => {
    const w = world();
    const { org, invite } = await inviteOne(w);
    expect(await runAt(w, invite.expiresAt!, 72)).toBeGreaterThanOrEqual(1);
    const rows = await remindersOf(w, invite.id);
    expect(rows).toHaveLength(2);
    for (const r of rows) {
      expect(r).toMatchObject({
        orgId: org.id,
        recipientEmail: invite.email,
        status: 'pending',
        payload: { inviteId: invite.id, nonce: invite.tokenNonce, hoursBeforeExpiry: 72 },
      });
      expect(r.nextAttemptAt.getTime()).toBe(invite.expiresAt!.getTime() - 72 * H);
    }
    expect(await stepsOf(w, invite.id)).toEqual([72]);
    expect(await remindersSent(w, invite.id)).toEqual([72]);
  });

  it('after the 72 h reminder nothing more is queued until 24 h before expiry, however often the job runs', async () => {
    const w = world();
    const { invite } = await inviteOne(w);
    await runAt(w, invite.expiresAt!, 72);
    for (const h of [72, 71, 48, 30, 25]) await runAt(w, invite.expiresAt!, h);
    await runAt(w, invite.expiresAt!, 24, -1);
    expect(await stepsOf(w, invite.id)).toEqual([72]);
  });

  it('one reminder is queued at 24 h before expiry, and neither step is ever queued twice', async () => {
    const w = world();
    const { invite } = await inviteOne(w);
    await runAt(w, invite.expiresAt!, 72);
    await runAt(w, invite.expiresAt!, 24);
    expect(await stepsOf(w, invite.id)).toEqual([72, 24]);
    for (const h of [24, 24, 12, 1, 0.001]) await runAt(w, invite.expiresAt!, h);
    expect(await stepsOf(w, invite.id)).toEqual([72, 24]);
    expect(await remindersOf(w, invite.id)).toHaveLength(4);
    expect(await remindersSent(w, invite.id)).toEqual([72, 24]);
  });

  it('a job that was down until 12 h before expiry queues one reminder (the 24 h one), not two', async () => {
    const w = world();
    const { invite } = await inviteOne(w);
    await runAt(w, invite.expiresAt!, 12);
    expect(await stepsOf(w, invite.id)).toEqual([24]);
    expect(await remindersSent(w, invite.id)).toEqual([72, 24]);
    await runAt(w, invite.expiresAt!, 6);
    expect(await stepsOf(w, invite.id)).toEqual([24]);
  });

  it('a job that was down from before 72 h until 48 h queues the 72 h reminder once, then the 24 h one on time', async () => {
    const w = world();
    const { invite } = await inviteOne(w);
    await runAt(w, invite.expiresAt!, 48);
    expect(await stepsOf(w, invite.id)).toEqual([72]);
    await runAt(w, invite.expiresAt!, 24, -1);
    expect(await stepsOf(w, invite.id)).toEqual([72]);
    await runAt(w, invite.expiresAt!, 24);
    expect(await stepsOf(w, invite.id)).toEqual([72, 24]);
  });
});

describe('remind-invitees job: per-org schedules and invites that must not be reminded', () => {
  it("each org's own schedule is used: an org set to 48 h and 6 h is reminded then, not at 72 h or 24 h", async () => {
    const w = world();
    const custom = await inviteOne(w, { reminderHours: [6, 48] });
    const usual = await inviteOne(w);
    const exp = custom.invite.expiresAt!;
    expect(usual.invite.expiresAt!.getTime()).toBeGreaterThanOrEqual(exp.getTime());
    await runAt(w, exp, 72);
    expect(await stepsOf(w, custom.invite.id)).toEqual([]);
    await runAt(w, exp, 48, -1);
    expect(await stepsOf(w, custom.invite.id)).toEqual([]);
    await runAt(w, exp, 48);
    expect(await stepsOf(w, custom.invite.id)).toEqual([48]);
    await runAt(w, exp, 24);
    expect(await stepsOf(w, custom.invite.id)).toEqual([48]);
    await runAt(w, exp, 6, -1);
    expect(await stepsOf(w, custom.invite.id)).toEqual([48]);
    await runAt(w, exp, 6);
    await runAt(w, exp, 1);
    expect(await stepsOf(w, custom.invite.id)).toEqual([48, 6]);
    // The other org kept the default schedule over the same time.
    expect(await stepsOf(w, usual.invite.id)).toEqual([72, 24]);
  });

  it('an org with an empty reminder schedule gets no reminders', async () => {
    const w = world();
    const { invite } = await inviteOne(w, { reminderHours: [] });
    for (const h of [72, 24, 1]) await runAt(w, invite.expiresAt!, h);
    expect(await remindersOf(w, invite.id)).toHaveLength(0);
  });

  it('a 72 h invite with the default schedule is not "reminded" the moment it is sent; its 24 h reminder comes on time', async () => {
    const w = world();
    const { invite } = await inviteOne(w, { expiry: '72h' });
    expect(invite.expiresAt!.getTime() - invite.createdAt.getTime()).toBe(72 * H);
    await runAt(w, invite.expiresAt!, 72);
    await runAt(w, invite.expiresAt!, 48);
    expect(await stepsOf(w, invite.id)).toEqual([]);
    await runAt(w, invite.expiresAt!, 24);
    expect(await stepsOf(w, invite.id)).toEqual([24]);
  });

  it('never-expiring invites get no reminders, however long they stay pending', async () => {
    const w = world();
    const { invite } = await inviteOne(w, { expiry: 'never' });
    for (let i = 0; i < 5; i++) {
      w.clock.advanceHours(24 * 30);
      await w.domain.invites.remindDue();
    }
    expect(await remindersOf(w, invite.id)).toHaveLength(0);
    expect(await remindersSent(w, invite.id)).toEqual([]);
  });

  it('no reminder is queued once the invite has expired, even if the job never ran before', async () => {
    const w = world();
    const { invite } = await inviteOne(w);
    await runAt(w, invite.expiresAt!, 0);
    w.clock.advanceHours(2);
    await w.domain.invites.remindDue();
    expect(await remindersOf(w, invite.id)).toHaveLength(0);
  });

  it('no reminder for an accepted, declined or revoked invite', async () => {
    const w = world();
    const accepted = await inviteOne(w);
    await w.domain.invites.accept(accepted.invitee.actor, accepted.invite.id);
    const declined = await inviteOne(w);
    await w.domain.invites.decline(declined.invitee.actor, declined.invite.id);
    const revoked = await inviteOne(w);
    await w.domain.invites.revoke(revoked.owner.actor, revoked.invite.id);
    const control = await inviteOne(w);
    const exp = control.invite.expiresAt!;
    await runAt(w, exp, 72);
    await runAt(w, exp, 24);
    for (const x of [accepted, declined, revoked]) expect(await remindersOf(w, x.invite.id)).toHaveLength(0);
    expect(await stepsOf(w, control.invite.id)).toEqual([72, 24]);
  });

  it('a resend resets the schedule: the new expiry gets its own 72 h and 24 h reminders, for the new link', async () => {
    const w = world();
    const { owner, invite } = await inviteOne(w);
    await runAt(w, invite.expiresAt!, 72);
    await runAt(w, invite.expiresAt!, 24);
    expect(await stepsOf(w, invite.id)).toEqual([72, 24]);
    const { invite: resent } = await w.domain.invites.resend(owner.actor, invite.id);
    expect(await remindersSent(w, invite.id)).toEqual([]);
    await w.domain.invites.remindDue();
    await runAt(w, resent.expiresAt!, 72, -1);
    expect(await remindersOf(w, invite.id)).toHaveLength(4);
    await runAt(w, resent.expiresAt!, 72);
    await runAt(w, resent.expiresAt!, 24);
    await runAt(w, resent.expiresAt!, 2);
    const rows = await remindersOf(w, invite.id);
    expect(rows).toHaveLength(8);
    const fresh = rows.filter((r) => (r.payload as { nonce: string }).nonce === resent.tokenNonce);
    expect(fresh.map((r) => (r.payload as { hoursBeforeExpiry: number }).hoursBeforeExpiry).sort()).toEqual([24, 24, 72, 72]);
    expect(new Set(rows.map((r) => r.dedupeKey)).size).toBe(4);
  });

  it('a schedule changed while invites are pending applies to them from the next run', async () => {
    const w = world();
    const { org, owner, invite } = await inviteOne(w);
    await w.domain.orgs.updateSettings(owner.actor, org.id, { reminderHours: [96] });
    await runAt(w, invite.expiresAt!, 96);
    expect(await stepsOf(w, invite.id)).toEqual([96]);
    await runAt(w, invite.expiresAt!, 24);
    expect(await stepsOf(w, invite.id)).toEqual([96]);
  });
});
