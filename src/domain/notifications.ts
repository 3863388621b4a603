import { inviterName } from './invites/read.js';
import { and, eq, inArray, sql } from 'drizzle-orm';
import { accounts, invites, memberships, notifications, orgs, type NotificationRow } from '../db/schema.js';
import type { Role } from './access.js';
import type { Deps } from './context.js';

/**
 * The outbox. The domain decides what to tell whom (and over which channel), writing it in the same
 * transaction as the change; delivery jobs read it, send it once, and retry with backoff.
 */
export type NotificationKind =
  | 'invite.sent'
  | 'invite.reminder'
  | 'invite.accepted'
  | 'invite.declined'
  | 'member.role_changed'
  | 'member.removed'
  | 'member.consent_requested'
  | 'join_request.created'
  | 'join_request.decided'
  | 'account.slack_link'
  | 'webhook.disabled';

type Channel = 'email' | 'slack' | 'slack_or_email';

/**
 * Invites reach the invitee both ways (an email link always works; a Slack DM if they're in the
 * workspace). Join requests need Slack's buttons. Everything else: a DM if possible, else an email.
 */
export const channelsFor: Record<NotificationKind, Channel[]> = {
  'invite.sent': ['email', 'slack'],
  'invite.reminder': ['email', 'slack'],
  'invite.accepted': ['slack_or_email'],
  'invite.declined': ['slack_or_email'],
  'member.role_changed': ['slack_or_email'],
  'member.removed': ['slack_or_email'],
  // Asked both ways, like an invite: the email link always works, the DM has the buttons.
  'member.consent_requested': ['email', 'slack'],
  'join_request.created': ['slack'],
  'join_request.decided': ['slack_or_email'],
  // The link proves the address: only the address can carry it.
  'account.slack_link': ['email'],
  // The org's owners, told in Slack (by email when they don't use it).
  'webhook.disabled': ['slack_or_email'],
};

export type Notification = {
  /** When the change happened (the domain's clock): the notification is due from then. */
  at: Date;
  kind: NotificationKind;
  orgId: string | null;
  recipientAccountId?: string | null;
  recipientEmail?: string | null;
  payload: Record<string, unknown>;
  /** Makes the notification exist once per channel, however often the change is retried. */
  dedupeKey: string;
};

/** Everything a channel needs to word a notification, looked up fresh at delivery time. */
export type NotificationContent = {
  notification: NotificationRow;
  orgName: string | null;
  recipient: { accountId: string | null; email: string | null; name: string | null };
  /** For invite notifications: the invite as it is now, and its current link token. */
  invite?: { id: string; email: string; role: Role; expiresAt: Date | null; inviterName: string | null; token: string };
  /** For a consent request: the pending membership's link token, and the role it would give. */
  consent?: { membershipId: string; token: string; role: Role; email: string };
  /** For a Slack link: its token (signed over the address) and when it stops working. */
  slackLink?: { token: string; email: string; expiresAt: Date; displayName: string | null; workspace: string | null };
};

/**
 * Thrown by a channel that can never deliver this notification to this person (Slack: not in the
 * workspace, a bot, a deactivated account, a message Slack refuses): retrying cannot help. The row is
 * skipped with the reason; a notification that may go either way goes by email instead.
 */
export class RecipientUnreachable extends Error {
  override name = 'RecipientUnreachable';
}

/**
 * Thrown by a channel that cannot deliver now for a reason that is not this notification's (Slack's rate
 * limit; an app only its operator can fix). The outbox tries again at `retryAt` without counting an
 * attempt, so such a wait never uses up the notification's retries. With `emailInstead`, a notification
 * that may go either way goes by email at once instead of waiting.
 */
export class DeliveryDeferred extends Error {
  override name = 'DeliveryDeferred';
  constructor(
    message: string,
    readonly retryAt: Date,
    readonly emailInstead: boolean,
  ) {
    super(message);
  }
}

/** How a claimed delivery went. */
export type DeliveryOutcome =
  { status: 'sent' } | { status: 'skipped'; reason?: string } | { status: 'failed'; error: string } | { status: 'deferred'; until: Date; reason: string };

/** About 14 hours of retries (backoff capped at 1 h), so a long Slack or SMTP outage loses nothing. */
export const MAX_ATTEMPTS = 20;

/** Exponential backoff: 30 s, 1 min, 2 min … capped at 1 h. */
export function backoffMs(attempts: number): number {
  return Math.min(30_000 * 2 ** Math.max(0, attempts - 1), 3_600_000);
}

export function createOutboxService(
  deps: Deps,
  tokenOf: (invite: { id: string; tokenNonce: string }) => string,
  consentTokenOf: (membershipId: string) => string,
  slackLinkOf: (teamId: string, userId: string, expiresAt: string) => Promise<NotificationContent['slackLink'] | undefined>,
) {
  const { db, clock } = deps;

  /**
   * Claims due notifications for this worker: FOR UPDATE SKIP LOCKED, so several workers (and several
   * loops in one process) never take the same row; a claim is a lease (a crashed worker's claims come
   * back after it ends). The lease must outlast one delivery attempt; rows waiting behind slower ones in
   * a batch are renewed (renew) just before their attempt.
   */
  async function claimDue(limit = 50, leaseMs = 120_000): Promise<NotificationRow[]> {
    const now = clock.now();
    const r = await db.execute<Record<string, unknown>>(sql`
      update notifications set status = 'sending', attempts = attempts + 1, locked_until = ${new Date(now.getTime() + leaseMs)}
      where id in (
        select id from notifications
        where (status = 'pending' and next_attempt_at <= ${now})
           or (status = 'sending' and locked_until <= ${now})
        order by next_attempt_at, id
        limit ${limit}
        for update skip locked)
      returning id`);
    const ids = r.rows.map((x) => Number(x.id));
    if (!ids.length) return [];
    return db.select().from(notifications).where(inArray(notifications.id, ids)).orderBy(notifications.id);
  }

  const stillMine = (claim: Pick<NotificationRow, 'id' | 'attempts'>) =>
    and(eq(notifications.id, claim.id), eq(notifications.status, 'sending'), eq(notifications.attempts, claim.attempts));

  /**
   * Extends a claim's lease from now, just before its delivery attempt. false: the claim is no longer
   * this worker's (its lease ran out while it waited its turn, and another worker claimed it again), so
   * this worker must not send it.
   */
  async function renew(claim: Pick<NotificationRow, 'id' | 'attempts'>, leaseMs: number): Promise<boolean> {
    const r = await db
      .update(notifications)
      .set({ lockedUntil: new Date(clock.now().getTime() + leaseMs) })
      .where(stillMine(claim))
      .returning({ id: notifications.id });
    return r.length > 0;
  }

  /**
   * Records how a claimed delivery went. The claim is identified by its attempt number: a worker whose
   * lease ran out (and whose row another worker claimed again) cannot overwrite the newer claim.
   * A deferral gives its attempt back (the count stays that of real failures) and waits until the time
   * the channel named. Giving it back keeps the claim check sound: the row is then pending, and the
   * next claim makes the number this claim had again only for a row that is no longer this claim's.
   */
  async function settle(claim: Pick<NotificationRow, 'id' | 'attempts'>, outcome: DeliveryOutcome) {
    const now = clock.now();
    if (outcome.status === 'deferred') {
      await db
        .update(notifications)
        .set({
          status: 'pending',
          attempts: sql`${notifications.attempts} - 1`,
          lastError: outcome.reason.slice(0, 500),
          nextAttemptAt: outcome.until,
          lockedUntil: null,
        })
        .where(stillMine(claim));
      return;
    }
    if (outcome.status === 'failed') {
      const final = claim.attempts >= MAX_ATTEMPTS;
      await db
        .update(notifications)
        .set({
          status: final ? 'failed' : 'pending',
          lastError: outcome.error.slice(0, 500),
          nextAttemptAt: new Date(now.getTime() + backoffMs(claim.attempts)),
          lockedUntil: null,
        })
        .where(stillMine(claim));
      return;
    }
    const lastError = outcome.status === 'skipped' ? (outcome.reason ? { lastError: outcome.reason.slice(0, 500) } : {}) : { lastError: null };
    await db
      .update(notifications)
      .set({ status: outcome.status, deliveredAt: now, lockedUntil: null, ...lastError })
      .where(stillMine(claim));
  }

  /**
   * What a notification says, from the database as it is now. undefined = it no longer applies (the
   * invite was revoked, accepted or replaced by a newer link; the org is gone): skip it.
   */
  async function describe(n: NotificationRow): Promise<NotificationContent | undefined> {
    const org = n.orgId ? (await db.select({ name: orgs.name }).from(orgs).where(eq(orgs.id, n.orgId)))[0] : undefined;
    if (n.orgId && !org) return undefined;
    const account = n.recipientAccountId
      ? (await db.select({ id: accounts.id, email: accounts.email, name: accounts.displayName }).from(accounts).where(eq(accounts.id, n.recipientAccountId)))[0]
      : undefined;
    const content: NotificationContent = {
      notification: n,
      orgName: org?.name ?? null,
      recipient: { accountId: account?.id ?? null, email: n.recipientEmail ?? account?.email ?? null, name: account?.name ?? null },
    };
    const payload = (n.payload ?? {}) as Record<string, unknown>;
    if (n.kind === 'invite.sent' || n.kind === 'invite.reminder') {
      const inviteId = String(payload.inviteId ?? '');
      const [row] = await db
        .select({ invite: invites, inviter: inviterName })
        .from(invites)
        .leftJoin(accounts, eq(accounts.id, invites.invitedById))
        .where(eq(invites.id, inviteId));
      if (!row || row.invite.status !== 'pending') return undefined;
      if (row.invite.expiresAt && row.invite.expiresAt <= clock.now()) return undefined;
      // A resend made a new link: messages about the old one are superseded.
      if (payload.nonce && payload.nonce !== row.invite.tokenNonce) return undefined;
      content.invite = {
        id: row.invite.id,
        email: row.invite.email,
        role: row.invite.role,
        expiresAt: row.invite.expiresAt,
        inviterName: row.inviter,
        token: tokenOf(row.invite),
      };
    }
    if (n.kind === 'member.consent_requested') {
      const membershipId = String(payload.membershipId ?? '');
      const [m] = await db.select({ role: memberships.role, status: memberships.status }).from(memberships).where(eq(memberships.id, membershipId));
      // Answered (or removed) meanwhile: nothing left to ask.
      if (!m || m.status !== 'pending') return undefined;
      content.consent = { membershipId, token: consentTokenOf(membershipId), role: m.role, email: n.recipientEmail ?? account?.email ?? '' };
    }
    if (n.kind === 'account.slack_link') {
      // Confirmed meanwhile, or a newer link replaced this one: this one would not work.
      content.slackLink = await slackLinkOf(String(payload.teamId ?? ''), String(payload.userId ?? ''), String(payload.expiresAt ?? ''));
      if (!content.slackLink) return undefined;
    }
    return content;
  }

  /** For tests and operators: where a notification stands. */
  async function find(where: { dedupeKey?: string; kind?: NotificationKind }): Promise<NotificationRow[]> {
    const conds = [];
    if (where.dedupeKey) conds.push(eq(notifications.dedupeKey, where.dedupeKey));
    if (where.kind) conds.push(eq(notifications.kind, where.kind));
    return db
      .select()
      .from(notifications)
      .where(conds.length ? and(...conds) : undefined);
  }

  /** Outbox rows by status, for /metrics. */
  async function stats(): Promise<Record<string, number>> {
    const r = await db.execute<{ status: string; n: number }>(sql`select status, count(*)::int as n from notifications group by status`);
    return Object.fromEntries(r.rows.map((x) => [x.status, x.n]));
  }

  return { claimDue, renew, settle, describe, find, stats };
}
