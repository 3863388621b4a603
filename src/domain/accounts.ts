import { and, eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import { accounts, memberships, slackIdentities, type AccountRow } from '../db/schema.js';
import { emit } from './events.js';
import { type Actor, type Deps, isUniqueViolation, systemActor } from './context.js';
import { fail } from './errors.js';
import { emailSchema, parseId, parseInput } from './validation.js';
import { cleanDisplayName, displayNameSchema, findAccountByEmail, findOrCreateAccountByEmail } from './account-by-email.js';
import type { SlackLinkService } from './slack-links.js';

const slackIdentitySchema = z.object({
  teamId: z.string().trim().min(1).max(40),
  userId: z.string().trim().min(1).max(40),
  email: emailSchema.optional(),
  /** What Slack says about that email and the user: without it, the email is not trusted. */
  emailFacts: z
    .object({ confirmed: z.boolean(), deleted: z.boolean(), guest: z.boolean(), external: z.boolean(), workspaceTrusted: z.boolean().optional() })
    .optional(),
  displayName: z.string().optional(),
});

export type SlackEmailFacts = {
  confirmed: boolean;
  deleted: boolean;
  guest: boolean;
  external: boolean;
  /**
   * The workspace (or Grid) serving the request is one whose emails Roster takes at their word: the one
   * workspace of a single-workspace install, or one the operator listed. Any other must have the person
   * confirm the address by an emailed link first (see slack-links.ts).
   */
  workspaceTrusted?: boolean;
};

/**
 * A Slack user's email links them to the account known by that email only when Slack has confirmed the
 * address and the user is a full, current member of the workspace: not deleted, not a guest, not an
 * external (Slack Connect) user. Otherwise anyone who sets that email in a profile would become its owner.
 */
export function mayLinkByEmail(f: SlackEmailFacts | undefined): boolean {
  return !!f && f.confirmed && !f.deleted && !f.guest && !f.external;
}

/** Slack vouches for the email, but the workspace is not trusted for emails: the person confirms it first. */
export function needsEmailConfirmation(f: SlackEmailFacts | undefined): boolean {
  return mayLinkByEmail(f) && f?.workspaceTrusted !== true;
}
type SlackIdentityInput = z.input<typeof slackIdentitySchema>;

export { findOrCreateAccountByEmail, findAccountByEmail, displayNameSchema };

/** `links`: where a Slack user of a workspace not trusted for emails is sent to confirm their address. */
export function createAccountService(deps: Deps, links: SlackLinkService) {
  const { db, clock } = deps;

  async function get(accountId: string): Promise<AccountRow> {
    parseId(accountId, 'account id');
    const [a] = await db.select().from(accounts).where(eq(accounts.id, accountId));
    if (!a) fail('not_found', 'That account does not exist.');
    return a;
  }

  /**
   * The account behind a Slack user, created on first sight. Its email (verified by Slack) links it to
   * an account already known from SCIM or an invite. An existing account's email is never changed.
   */
  async function findOrCreateBySlack(input: SlackIdentityInput): Promise<AccountRow> {
    const s = parseInput(slackIdentitySchema, input);
    const known = await bySlack(s.teamId, s.userId);
    if (known) return known;
    if (s.email && needsEmailConfirmation(s.emailFacts)) {
      // Nothing is made for them yet: the link they are sent makes (or finds) the account of that address.
      const { outcome } = await links.request({ teamId: s.teamId, userId: s.userId, email: s.email, displayName: s.displayName });
      fail(
        'slack_email_unconfirmed',
        outcome === 'sent'
          ? `To use Roster from this workspace, confirm your email address: Roster just sent a link to ${s.email}. Open it, then try again here.`
          : outcome === 'recent'
            ? `To use Roster from this workspace, confirm your email address with the link Roster sent to ${s.email} a few minutes ago (check your inbox and spam folder; a new link can be sent in a few minutes), then try again here.`
            : `To use Roster from this workspace, confirm your email address ${s.email}. Roster cannot send a confirmation link right now: try again tomorrow.`,
      );
    }
    try {
      return await db.transaction(async (tx) => {
        const now = clock.now();
        const actor = systemActor('slack-identity');
        let account: AccountRow;
        if (s.email && mayLinkByEmail(s.emailFacts)) {
          account = (await findOrCreateAccountByEmail(tx, { email: s.email, displayName: s.displayName }, actor, now)).account;
        } else {
          const [created] = await tx
            .insert(accounts)
            .values({ displayName: cleanDisplayName(s.displayName, undefined), createdAt: now, updatedAt: now })
            .returning();
          account = created!;
          await emit(
            tx,
            actor,
            {
              orgId: null,
              action: 'account.created',
              targetType: 'account',
              targetId: account.id,
              after: { slack: s.userId, ...(s.email ? { emailNotLinked: true } : {}) },
            },
            now,
          );
        }
        await tx.insert(slackIdentities).values({ teamId: s.teamId, userId: s.userId, accountId: account.id });
        return account;
      });
    } catch (err) {
      // Two first requests from one Slack user at once: the other one linked it.
      if (isUniqueViolation(err)) {
        const raced = await bySlack(s.teamId, s.userId);
        if (raced) return raced;
      }
      throw err;
    }
  }

  async function bySlack(teamId: string, userId: string): Promise<AccountRow | undefined> {
    const [row] = await db
      .select({ account: accounts })
      .from(slackIdentities)
      .innerJoin(accounts, eq(accounts.id, slackIdentities.accountId))
      .where(and(eq(slackIdentities.teamId, teamId), eq(slackIdentities.userId, userId)));
    return row?.account;
  }

  async function findOrCreateByEmail(email: string, displayName?: string): Promise<AccountRow> {
    return db.transaction(async (tx) => {
      const r = await findOrCreateAccountByEmail(tx, { email, displayName }, systemActor('accounts'), clock.now());
      return r.account;
    });
  }

  async function findByEmail(email: string): Promise<AccountRow | undefined> {
    return findAccountByEmail(db, parseInput(emailSchema, email));
  }

  async function slackUserIds(accountId: string, teamId?: string): Promise<{ teamId: string; userId: string }[]> {
    return db
      .select({ teamId: slackIdentities.teamId, userId: slackIdentities.userId })
      .from(slackIdentities)
      .where(teamId ? and(eq(slackIdentities.accountId, accountId), eq(slackIdentities.teamId, teamId)) : eq(slackIdentities.accountId, accountId));
  }

  /** The Slack workspaces an org's people are in, the one most of them are in first. */
  async function slackTeamsOfOrg(orgId: string): Promise<string[]> {
    const r = await db.execute<{ team_id: string }>(sql`
      select s.team_id from ${slackIdentities} s join ${memberships} m on m.account_id = s.account_id
      where m.org_id = ${orgId} group by s.team_id order by count(*) desc, s.team_id limit 20`);
    return r.rows.map((x) => x.team_id);
  }

  /** People may change their own display name; nobody changes an account's email. */
  async function rename(actor: Actor, displayName: string): Promise<AccountRow> {
    if (actor.type !== 'account') fail('forbidden', 'Only a person can rename their account.');
    const name = parseInput(displayNameSchema, displayName);
    return db.transaction(async (tx) => {
      const [before] = await tx.select().from(accounts).where(eq(accounts.id, actor.accountId)).for('update');
      if (!before) fail('not_found', 'That account does not exist.');
      const now = clock.now();
      const [after] = await tx.update(accounts).set({ displayName: name, updatedAt: now }).where(eq(accounts.id, actor.accountId)).returning();
      await emit(
        tx,
        actor,
        {
          orgId: null,
          action: 'account.renamed',
          targetType: 'account',
          targetId: actor.accountId,
          before: { displayName: before.displayName },
          after: { displayName: name },
        },
        now,
      );
      return after!;
    });
  }

  return { get, findOrCreateBySlack, findOrCreateByEmail, findByEmail, bySlack, slackUserIds, slackTeamsOfOrg, rename };
}
