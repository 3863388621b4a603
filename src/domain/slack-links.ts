import { createHmac } from 'node:crypto';
import { and, eq, gt, sql } from 'drizzle-orm';
import { slackEmailLinks, slackIdentities, type AccountRow } from '../db/schema.js';
import { findOrCreateAccountByEmail } from './account-by-email.js';
import { type Deps, type Executor, systemActor } from './context.js';
import { emit } from './events.js';
import { fail } from './errors.js';
import { sameSecret } from './tokens.js';

/**
 * Linking a Slack user to the Roster account of their Slack email, when the workspace is not trusted for
 * emails (distribution: any workspace can install Roster, and its admins can give a user any address,
 * confirmed in Slack's eyes). Until the person opens a link sent to that address, Roster does not act
 * for them in that workspace: no account is made or joined, so nothing an address holds (memberships,
 * invites, an IdP's claims) reaches someone who merely typed it.
 */

/** How long an emailed link works. */
export const SLACK_LINK_TTL_MS = 60 * 60_000;
/** A Slack user gets at most one link per this long (asking again within it says "check your inbox"). */
export const SLACK_LINK_RESEND_MS = 5 * 60_000;
/** One address gets links for at most this many Slack users a day: no workspace can flood someone's inbox. */
export const SLACK_LINK_DAILY_PER_ADDRESS = 5;

export type SlackLinkRequest = { teamId: string; userId: string; email: string; displayName?: string | undefined };

function signature(key: Buffer, teamId: string, userId: string, email: string, expires: number): string {
  return createHmac('sha256', key).update(`slack-link:${teamId}:${userId}:${email.toLowerCase()}:${expires}`).digest('base64url');
}

const b64 = (s: string) => Buffer.from(s).toString('base64url');
const unb64 = (s: string) => Buffer.from(s, 'base64url').toString();

/** The link token: who it is for, until when, and a signature over those and the address it was sent to. */
export function slackLinkToken(key: Buffer, r: { teamId: string; userId: string; email: string; expiresAt: Date }): string {
  const exp = Math.floor(r.expiresAt.getTime() / 1000);
  return `${b64(r.teamId)}.${b64(r.userId)}.${exp}.${signature(key, r.teamId, r.userId, r.email, exp)}`;
}

export function slackLinkUrl(publicUrl: string, token: string): string {
  return `${publicUrl}/slack-link/${token}`;
}

/** What a link asks: the Slack user and the address they confirm. */
export type SlackLinkView = { teamId: string; userId: string; email: string; linked: boolean };

export function createSlackLinkService(deps: Deps) {
  const { db, clock, settings } = deps;
  const key = settings.inviteTokenKey;

  /**
   * Records that this Slack user waits to confirm their address, and emails them a link unless one went
   * out a moment ago (or the address had its day's share). Says whether a link went out now.
   */
  async function request(r: SlackLinkRequest): Promise<{ sent: boolean }> {
    return db.transaction(async (tx) => {
      const now = clock.now();
      const [existing] = await tx
        .select()
        .from(slackEmailLinks)
        .where(and(eq(slackEmailLinks.teamId, r.teamId), eq(slackEmailLinks.userId, r.userId)))
        .for('update');
      const sameAddress = existing && existing.email.toLowerCase() === r.email.toLowerCase();
      if (sameAddress && existing.sentAt.getTime() > now.getTime() - SLACK_LINK_RESEND_MS && existing.expiresAt > now) return { sent: false };
      const [{ n } = { n: 0 }] = await tx
        .select({ n: sql<number>`count(*)::int` })
        .from(slackEmailLinks)
        .where(and(sql`lower(${slackEmailLinks.email}) = lower(${r.email})`, gt(slackEmailLinks.sentAt, new Date(now.getTime() - 86_400_000))));
      if (n >= SLACK_LINK_DAILY_PER_ADDRESS && !sameAddress) return { sent: false };
      const expiresAt = new Date(now.getTime() + SLACK_LINK_TTL_MS);
      const row = { teamId: r.teamId, userId: r.userId, email: r.email, displayName: r.displayName ?? null, sentAt: now, expiresAt };
      await tx
        .insert(slackEmailLinks)
        .values(row)
        .onConflictDoUpdate({
          target: [slackEmailLinks.teamId, slackEmailLinks.userId],
          set: { email: r.email, displayName: row.displayName, sentAt: now, expiresAt },
        });
      await emit(
        tx,
        systemActor('slack-identity'),
        {
          orgId: null,
          action: 'account.slack_link_requested',
          targetType: 'account',
          targetId: null,
          after: { slack: r.userId, team: r.teamId, email: r.email },
          notify: [
            {
              kind: 'account.slack_link',
              recipientEmail: r.email,
              payload: { teamId: r.teamId, userId: r.userId, expiresAt: expiresAt.toISOString() },
              dedupeKey: `account.slack_link:${r.teamId}:${r.userId}:${now.getTime()}`,
            },
          ],
        },
        now,
      );
      return { sent: true };
    });
  }

  /** The waiting row a token names, when the token is one Roster signed for that row's address and has not expired. */
  async function rowOf(ex: Executor, token: string, lock: boolean) {
    const parts = String(token ?? '').split('.');
    if (parts.length !== 4) return undefined;
    const [t, u, exp, sig] = parts as [string, string, string, string];
    const teamId = unb64(t);
    const userId = unb64(u);
    const expires = Number(exp);
    if (!teamId || !userId || !Number.isInteger(expires) || expires * 1000 <= clock.now().getTime()) return undefined;
    const q = ex
      .select()
      .from(slackEmailLinks)
      .where(and(eq(slackEmailLinks.teamId, teamId), eq(slackEmailLinks.userId, userId)));
    const [row] = lock ? await q.for('update') : await q;
    // Only the newest link for the address on the row works: a resend or a changed address voids older ones.
    if (!row || Math.floor(row.expiresAt.getTime() / 1000) !== expires) return undefined;
    return sameSecret(sig, signature(key, teamId, userId, row.email, expires)) ? row : undefined;
  }

  async function linkedAccount(ex: Executor, teamId: string, userId: string): Promise<string | undefined> {
    const [i] = await ex
      .select({ accountId: slackIdentities.accountId })
      .from(slackIdentities)
      .where(and(eq(slackIdentities.teamId, teamId), eq(slackIdentities.userId, userId)));
    return i?.accountId;
  }

  async function lookup(token: string): Promise<SlackLinkView> {
    const row = await rowOf(db, token, false);
    if (!row) fail('slack_link_invalid');
    return { teamId: row.teamId, userId: row.userId, email: row.email, linked: !!(await linkedAccount(db, row.teamId, row.userId)) };
  }

  /** The person opened the link and confirmed: their Slack user is linked to the account of that address (made if new). */
  async function confirm(token: string): Promise<{ account: AccountRow; view: SlackLinkView }> {
    return db.transaction(async (tx) => {
      const row = await rowOf(tx, token, true);
      if (!row) fail('slack_link_invalid');
      const now = clock.now();
      const actor = systemActor('slack-identity');
      const { account } = await findOrCreateAccountByEmail(tx, { email: row.email, displayName: row.displayName ?? undefined }, actor, now);
      const inserted = await tx
        .insert(slackIdentities)
        .values({ teamId: row.teamId, userId: row.userId, accountId: account.id })
        .onConflictDoNothing()
        .returning({ accountId: slackIdentities.accountId });
      await tx.delete(slackEmailLinks).where(and(eq(slackEmailLinks.teamId, row.teamId), eq(slackEmailLinks.userId, row.userId)));
      if (inserted.length)
        await emit(
          tx,
          { type: 'account', accountId: account.id, via: 'web' },
          {
            orgId: null,
            action: 'account.slack_linked',
            targetType: 'account',
            targetId: account.id,
            after: { slack: row.userId, team: row.teamId, email: row.email },
          },
          now,
        );
      return { account, view: { teamId: row.teamId, userId: row.userId, email: row.email, linked: true } };
    });
  }

  return { request, lookup, confirm, tokenOf: (r: { teamId: string; userId: string; email: string; expiresAt: Date }) => slackLinkToken(key, r) };
}
