import type { AccountRow } from '../db/schema.js';
import { accountActor, type Actor } from '../domain/context.js';
import { fail } from '../domain/errors.js';
import type { Domain } from '../domain/index.js';
import type { Target } from './parse.js';
import type { WebClient } from './context.js';

export type SlackPerson = { actor: Actor; account: AccountRow; teamId: string; userId: string };

/**
 * The person behind a Slack request, from team_id + user_id. On first sight their email comes from
 * users.info (Slack verifies it) and links them to an account already known by that email.
 */
export async function slackPerson(domain: Domain, client: WebClient, teamId: string, userId: string): Promise<SlackPerson> {
  const known = await domain.accounts.bySlack(teamId, userId);
  const account =
    known ??
    (await (async () => {
      const info = await client.users.info({ user: userId });
      const profile = info.user?.profile;
      return domain.accounts.findOrCreateBySlack({
        teamId,
        userId,
        email: profile?.email || undefined,
        displayName: profile?.display_name || profile?.real_name || info.user?.real_name || info.user?.name || undefined,
      });
    })());
  return { actor: accountActor(account.id, 'slack'), account, teamId, userId };
}

/** The account an `@mention` or email names, for commands like `/org role @ana admin`. */
export async function targetAccount(domain: Domain, client: WebClient, teamId: string, target: Target | undefined): Promise<AccountRow> {
  if (!target) fail('invalid_input', 'Name the person with an @mention or their email, e.g. `/org role @ana admin`.');
  if ('email' in target) {
    const a = await domain.accounts.findByEmail(target.email);
    if (!a) fail('member_not_found', `Nobody with the email ${target.email} is a member here.`);
    return a;
  }
  const known = await domain.accounts.bySlack(teamId, target.slackUserId);
  if (known) return known;
  const info = await client.users.info({ user: target.slackUserId });
  const email = info.user?.profile?.email;
  const byEmail = email ? await domain.accounts.findByEmail(email) : undefined;
  if (!byEmail) fail('member_not_found', "That person isn't a member of this organization.");
  return byEmail;
}
