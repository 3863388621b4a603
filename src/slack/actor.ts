import { exampleRole } from '../domain/access.js';
import type { AccountRow } from '../db/schema.js';
import { mayLinkByEmail, type SlackEmailFacts } from '../domain/accounts.js';
import { accountActor, type Actor } from '../domain/context.js';
import { fail, isDomainError } from '../domain/errors.js';
import type { Domain } from '../domain/index.js';
import type { MemberView } from '../domain/members.js';
import type { Target } from './parse.js';
import type { SlackDeps, WebClient } from './context.js';

/**
 * `teamId`: the key a Slack user is known by — their Enterprise Grid org's id when the request comes from
 * one (a Grid user is one identity across its workspaces), else the workspace's team id.
 */
export type SlackPerson = {
  actor: Actor;
  account: AccountRow;
  teamId: string;
  userId: string;
  /** The workspace or Grid whose installation serves the request: whom an email lookup's "external" is judged against. */
  servedBy: string;
};

type SlackBody = {
  team_id?: string;
  enterprise_id?: string | null;
  team?: { id?: string } | null;
  enterprise?: { id?: string } | null;
  user?: { team_id?: string } | null;
};

/** The workspace a request comes from (not the Grid). */
export function workspaceOf(body: SlackBody): string | undefined {
  return body.team?.id || body.team_id || body.user?.team_id || undefined;
}

/** Where a request's user is known (see SlackPerson.teamId), read the same way for commands, actions, views and events. */
export function identityKeyOf(body: SlackBody): string {
  return body.enterprise?.id || body.enterprise_id || body.team?.id || body.team_id || body.user?.team_id || '';
}

/**
 * The workspace or Grid whose installation serves a request (after authorize, Bolt's context names the
 * installation's team and enterprise): a user whose home is elsewhere is external to it.
 */
export function servedByOf(context: { teamId?: string | undefined; enterpriseId?: string | undefined }, fallback: string): string {
  return context.enterpriseId || context.teamId || fallback;
}

/** Who serves a request, and whether that workspace's word on emails is taken (the domain's slackLinks.trusts). */
export type EmailTrust = { servedBy: string; trusted: boolean; kickOutbox?: () => void };

export function emailTrustOf(deps: SlackDeps, context: { teamId?: string | undefined; enterpriseId?: string | undefined }, fallback: string): EmailTrust {
  const servedBy = servedByOf(context, fallback);
  return { servedBy, trusted: deps.domain.slackLinks.trusts(servedBy), kickOutbox: deps.kickOutbox };
}

/**
 * The person behind a Slack request, from team_id + user_id. On first sight their email comes from
 * users.info (Slack verifies it) and links them to an account already known by that email — at once in
 * a workspace trusted for emails, else once they confirm the address by an emailed link (the domain
 * refuses with slack_email_unconfirmed until then).
 */
export async function slackPerson(
  domain: Domain,
  client: WebClient,
  teamId: string,
  userId: string,
  workspaceTeamId: string | undefined,
  trust: EmailTrust,
): Promise<SlackPerson> {
  // Known by the Grid key, or (someone Roster met before their workspace joined a Grid, or before Grid
  // users were keyed by the Grid) by their workspace.
  const known =
    (await domain.accounts.bySlack(teamId, userId)) ??
    (workspaceTeamId && workspaceTeamId !== teamId ? await domain.accounts.bySlack(workspaceTeamId, userId) : undefined);
  const account =
    known ??
    (await (async () => {
      const info = await client.users.info({ user: userId });
      const profile = info.user?.profile;
      return domain.accounts
        .findOrCreateBySlack({
          teamId,
          userId,
          email: profile?.email || undefined,
          emailFacts: { ...emailFactsOf(info.user, trust.servedBy), workspaceTrusted: trust.trusted },
          displayName: profile?.display_name || profile?.real_name || info.user?.real_name || info.user?.name || undefined,
        })
        .catch((err: unknown) => {
          // The confirmation link was just queued: send it now, not at the worker's next poll.
          if (isDomainError(err, 'slack_email_unconfirmed')) trust.kickOutbox?.();
          throw err;
        });
    })());
  return { actor: accountActor(account.id, 'slack'), account, teamId, userId, servedBy: trust.servedBy };
}

/** The person behind a click or a form submission (their body names the user, the team and any Grid alike). */
export function personOfInteraction(
  deps: SlackDeps,
  client: WebClient,
  body: SlackBody & { user: { id: string } },
  context: { teamId?: string | undefined; enterpriseId?: string | undefined },
): Promise<SlackPerson> {
  const key = identityKeyOf(body);
  return slackPerson(deps.domain, client, key, body.user.id, workspaceOf(body), emailTrustOf(deps, context, key));
}

/**
 * The member an `@mention` or email names, for commands like `/org role @ana admin`, looked up inside
 * the acting org only. members.find checks the actor's own membership first and answers
 * member_not_found for anyone outside the org, so the reply never tells whether an email or a Slack
 * user has an account elsewhere in this deployment.
 */
export async function targetMember(
  domain: Domain,
  client: WebClient,
  me: Pick<SlackPerson, 'actor' | 'teamId' | 'servedBy'>,
  orgId: string,
  target: Target | undefined,
): Promise<MemberView> {
  if (!target) fail('invalid_input', `Name the person with an @mention or their email, e.g. \`/org role @ana ${exampleRole}\`.`);
  if ('email' in target) return domain.members.find(me.actor, orgId, { email: target.email });
  const known = await domain.accounts.bySlack(me.teamId, target.slackUserId);
  if (known) return domain.members.find(me.actor, orgId, { accountId: known.id });
  // Not seen yet from Slack: the member (if any) is known by the email Slack verified for that user.
  const email = await slackEmail(client, target.slackUserId, me.servedBy);
  if (email) return domain.members.find(me.actor, orgId, { email });
  // Nobody to look for: the same checks, in the same order, and the same answer as a lookup that finds no one.
  await domain.orgs.get(me.actor, orgId);
  fail('member_not_found');
}

/**
 * The account an `@mention` stands for, or undefined, for filters (the audit log's actor): never an
 * error, so the reply depends only on what the filtered query returns to someone allowed to run it.
 * Former members are found too: their events stay in the log.
 */
export async function mentionedAccountId(
  domain: Domain,
  client: WebClient,
  me: Pick<SlackPerson, 'teamId' | 'servedBy'>,
  slackUserId: string,
): Promise<string | undefined> {
  const known = await domain.accounts.bySlack(me.teamId, slackUserId);
  if (known) return known.id;
  const email = await slackEmail(client, slackUserId, me.servedBy);
  return email ? (await domain.accounts.findByEmail(email))?.id : undefined;
}

/** What Slack says about a user's email and standing: the domain decides whether that email may link accounts. */
export function emailFactsOf(user: SlackUserInfo | undefined, teamId: string): SlackEmailFacts {
  return {
    confirmed: user?.is_email_confirmed === true,
    deleted: user?.deleted === true,
    guest: user?.is_restricted === true || user?.is_ultra_restricted === true,
    // Another workspace's user (Slack Connect) — or another Grid's: in a Grid, home is the enterprise.
    external: user?.is_stranger === true || (!!homeOf(user) && homeOf(user) !== teamId),
  };
}

function homeOf(user: SlackUserInfo | undefined): string | undefined {
  return user?.enterprise_user?.enterprise_id || user?.team_id || undefined;
}

/** A user as Slack's users.info describes it. */
export type SlackUserInfo = NonNullable<Awaited<ReturnType<WebClient['users']['info']>>['user']>;

/**
 * The email a Slack user stands for, only when Slack vouches for it (the same rule as linking accounts),
 * "external" judged against `servedBy`, the workspace or Grid whose installation serves the request.
 */
export async function slackEmail(client: WebClient, userId: string, servedBy: string): Promise<string | undefined> {
  try {
    const info = await client.users.info({ user: userId });
    return mayLinkByEmail(emailFactsOf(info.user, servedBy)) ? info.user?.profile?.email || undefined : undefined;
  } catch (err) {
    if ((err as { data?: { error?: string } }).data?.error === 'user_not_found') return undefined;
    throw err;
  }
}
