import { createHmac } from 'node:crypto';
import { and, eq, lt, sql } from 'drizzle-orm';
import { slackEmailLinks, slackIdentities, slackLinkSends, type AccountRow } from '../db/schema.js';
import type { SlackInstallationService } from './slack-installations.js';
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
/** One address gets at most this many links a day, whoever asks: no workspace can flood someone's inbox. */
export const SLACK_LINK_DAILY_PER_ADDRESS = 5;
/** One workspace (or Grid) sends at most this many links an hour. */
export const SLACK_LINK_HOURLY_PER_WORKSPACE = 100;

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
export type SlackLinkView = { teamId: string; userId: string; email: string; linked: boolean; displayName: string | null; workspace: string | null };

/** `installations`: to name the workspace asking in the email. */
export function createSlackLinkService(deps: Deps, installations: SlackInstallationService) {
  const { db, clock, settings } = deps;
  const key = settings.inviteTokenKey;

  /** How the request went: a link went out now, one went out a moment ago, or a limit holds it back. */
  type RequestOutcome = 'sent' | 'recent' | 'limited';

  /** The installation's name for a workspace or Grid, so the person can tell who is asking (else its id). */
  async function workspaceLabel(teamId: string): Promise<string> {
    const found = (await installations.find(teamId.startsWith('E') ? { enterpriseId: teamId } : { teamId }).catch(() => undefined)) as
      { team?: { name?: string }; enterprise?: { name?: string } } | undefined;
    const name = found?.team?.name ?? found?.enterprise?.name;
    return name ? `${name} (${teamId})` : teamId;
  }

  /**
   * Records that this Slack user waits to confirm their address, and emails them a link — unless this
   * Slack user had one a moment ago, the address had its day's share, or the workspace its hour's. Every
   * email sent is logged and counted (slack_link_sends); one address is counted under its own lock.
   */
  async function request(r: SlackLinkRequest): Promise<{ outcome: RequestOutcome }> {
    const workspace = await workspaceLabel(r.teamId);
    return db.transaction(async (tx) => {
      const now = clock.now();
      await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`slack-link:${r.email.toLowerCase()}`}))`);
      const since = (ms: number) => new Date(now.getTime() - ms);
      const [{ mine, address, team } = { mine: 0, address: 0, team: 0 }] = (
        await tx.execute<{ mine: number; address: number; team: number }>(sql`
          select
            (select count(*)::int from ${slackLinkSends} where team_id = ${r.teamId} and user_id = ${r.userId} and sent_at > ${since(SLACK_LINK_RESEND_MS)}) as mine,
            (select count(*)::int from ${slackLinkSends} where lower(email) = lower(${r.email}) and sent_at > ${since(86_400_000)}) as address,
            (select count(*)::int from ${slackLinkSends} where team_id = ${r.teamId} and sent_at > ${since(3_600_000)}) as team`)
      ).rows;
      if (mine > 0) return { outcome: 'recent' as const };
      if (address >= SLACK_LINK_DAILY_PER_ADDRESS || team >= SLACK_LINK_HOURLY_PER_WORKSPACE) return { outcome: 'limited' as const };
      const expiresAt = new Date(now.getTime() + SLACK_LINK_TTL_MS);
      const row = { teamId: r.teamId, userId: r.userId, email: r.email, displayName: r.displayName ?? null, workspace, sentAt: now, expiresAt };
      await tx
        .insert(slackEmailLinks)
        .values(row)
        .onConflictDoUpdate({
          target: [slackEmailLinks.teamId, slackEmailLinks.userId],
          set: { email: r.email, displayName: row.displayName, workspace, sentAt: now, expiresAt },
        });
      await tx.insert(slackLinkSends).values({ email: r.email, teamId: r.teamId, userId: r.userId, sentAt: now });
      // What no limit looks at any more.
      await tx.delete(slackLinkSends).where(and(sql`lower(${slackLinkSends.email}) = lower(${r.email})`, lt(slackLinkSends.sentAt, since(2 * 86_400_000))));
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
      return { outcome: 'sent' as const };
    });
  }

  /** The link waiting for this Slack user, as the outbox words it (undefined: confirmed, replaced or expired). */
  async function pending(
    teamId: string,
    userId: string,
    expiresAt: string,
  ): Promise<{ token: string; email: string; expiresAt: Date; displayName: string | null; workspace: string | null } | undefined> {
    const [row] = await db
      .select()
      .from(slackEmailLinks)
      .where(and(eq(slackEmailLinks.teamId, teamId), eq(slackEmailLinks.userId, userId)));
    if (!row || row.expiresAt.toISOString() !== expiresAt || row.expiresAt <= clock.now()) return undefined;
    return { token: slackLinkToken(key, row), email: row.email, expiresAt: row.expiresAt, displayName: row.displayName, workspace: row.workspace };
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
    return {
      teamId: row.teamId,
      userId: row.userId,
      email: row.email,
      linked: !!(await linkedAccount(db, row.teamId, row.userId)),
      displayName: row.displayName,
      workspace: row.workspace,
    };
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
      return {
        account,
        view: { teamId: row.teamId, userId: row.userId, email: row.email, linked: true, displayName: row.displayName, workspace: row.workspace },
      };
    });
  }

  /** Whether a request served by this workspace or Grid may link people by their Slack email at once. */
  function trusts(servedBy: string): boolean {
    const t = settings.slackEmailsTrusted;
    return t === 'all' || (!!t && t.includes(servedBy));
  }

  return { request, pending, lookup, confirm, trusts };
}

export type SlackLinkService = ReturnType<typeof createSlackLinkService>;
