import { and, eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import { rowOf } from '../db/rows.js';
import { accounts, memberships, slackIdentities, type AccountRow } from '../db/schema.js';
import { emit } from './events.js';
import { type Actor, type Deps, type Executor, isUniqueViolation, systemActor } from './context.js';
import { fail } from './errors.js';
import { emailSchema, nameSchema, parseId, parseInput } from './validation.js';

export const displayNameSchema = nameSchema('display name', 80);

const slackIdentitySchema = z.object({
  teamId: z.string().trim().min(1).max(40),
  userId: z.string().trim().min(1).max(40),
  email: emailSchema.optional(),
  /** What Slack says about that email and the user: without it, the email is not trusted. */
  emailFacts: z.object({ confirmed: z.boolean(), deleted: z.boolean(), guest: z.boolean(), external: z.boolean() }).optional(),
  displayName: z.string().optional(),
});

export type SlackEmailFacts = { confirmed: boolean; deleted: boolean; guest: boolean; external: boolean };

/**
 * A Slack user's email links them to the account known by that email only when Slack has confirmed the
 * address and the user is a full, current member of the workspace: not deleted, not a guest, not an
 * external (Slack Connect) user. Otherwise anyone who sets that email in a profile would become its owner.
 */
export function mayLinkByEmail(f: SlackEmailFacts | undefined): boolean {
  return !!f && f.confirmed && !f.deleted && !f.guest && !f.external;
}
type SlackIdentityInput = z.input<typeof slackIdentitySchema>;

async function findAccountByEmail(ex: Executor, email: string): Promise<AccountRow | undefined> {
  const [a] = await ex
    .select()
    .from(accounts)
    .where(sql`lower(${accounts.email}) = lower(${email.trim()})`);
  return a;
}

function nameFromEmail(email: string): string {
  return email.split('@')[0]!.slice(0, 80) || email.slice(0, 80);
}

function cleanDisplayName(name: string | undefined, email: string | undefined): string {
  const r = displayNameSchema.safeParse(name ?? '');
  if (r.success) return r.data;
  return email ? nameFromEmail(email) : 'Unnamed';
}

/**
 * The account owning this email, created if nobody has it yet. The same email from Slack, SCIM or an
 * invite is the same account (case-insensitive). Safe under concurrency: a racing insert is re-read.
 */
export async function findOrCreateAccountByEmail(
  ex: Executor,
  input: { email: string; displayName?: string | undefined },
  actor: Actor,
  now: Date,
): Promise<{ account: AccountRow; created: boolean }> {
  const email = parseInput(emailSchema, input.email);
  // One round trip: the existing account, or a new one (an IdP provisioning thousands mostly creates).
  const r = await ex.execute<Record<string, unknown> & { created: boolean }>(sql`
    with found as (select * from accounts where lower(email) = lower(${email}))
    , made as (
      insert into accounts (email, display_name, created_at, updated_at)
      select ${email}, ${cleanDisplayName(input.displayName, email)}, ${now}, ${now}
      where not exists (select 1 from found)
      on conflict do nothing
      returning *)
    select *, true as created from made
    union all
    select *, false as created from found`);
  const hit = r.rows[0];
  if (!hit) {
    // Another transaction created it after this statement's snapshot was taken: read it now.
    const raced = await findAccountByEmail(ex, email);
    if (!raced) fail('invalid_input', 'Could not create an account for that email.');
    return { account: raced, created: false };
  }
  const account = rowOf(accounts, hit);
  if (!hit.created) return { account, created: false };
  await emit(ex, actor, { orgId: null, action: 'account.created', targetType: 'account', targetId: account.id, after: { email } }, now);
  return { account, created: true };
}

export function createAccountService(deps: Deps) {
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
