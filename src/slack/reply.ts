import { randomBytes } from 'node:crypto';
import { isDatabaseUnavailable, isDomainError, isInvalidDataError, type Hint } from '../domain/errors.js';
import type { Logger } from '../logger.js';
import { webApi } from '@slack/bolt';
import { classifySlackError } from './api-errors.js';
import { esc } from './blocks/kit.js';

/**
 * The text a person sees when something fails. Domain errors carry their own message; anything else
 * is our fault: a generic message with a reference that matches the log line.
 * Domain messages may quote user-controlled text (org names, emails, what was typed), and every place
 * this text goes is mrkdwn: it is escaped here, once, so it can never become a link or a mention.
 * Adapters therefore pass raw names into fail() messages.
 */
export function errorText(err: unknown, log: Logger): string {
  if (isDomainError(err)) return `:warning: ${esc(err.message)}${err.hint ? ` ${esc(slackHints[err.hint])}` : ''}`;
  if (isInvalidDataError(err)) {
    log.warn({ err: (err as Error).message }, 'the database refused a value');
    return ':warning: Roster cannot store that: it holds a character Roster does not accept, or a number out of range. Nothing was changed.';
  }
  if (isDatabaseUnavailable(err)) {
    log.warn({ err: (err as Error).message }, 'database unavailable');
    return ":hourglass: Roster can't reach its database right now. Nothing was changed; please try again in a minute.";
  }
  const slack = slackRefusal(err, log);
  if (slack) return slack;
  const ref = randomBytes(4).toString('hex');
  log.error({ err, ref }, 'slack handler failed');
  return `:x: Something went wrong on our side (ref ${ref}). Please try again in a moment.`;
}

/** Slack's own refusals, worded for the person (and, for what only an admin can fix, logged for the operator). */
function slackRefusal(err: unknown, log: Logger): string | undefined {
  const code =
    (err as { code?: string; data?: { error?: string } })?.code === webApi.ErrorCode.PlatformError
      ? (err as { data?: { error?: string } }).data?.error
      : undefined;
  const f = classifySlackError(err);
  if (code === 'expired_trigger_id' || code === 'invalid_trigger_id')
    return ':hourglass: That took too long for Slack to show the form. Please run the command again.';
  if (f.kind === 'rate_limited') return ':hourglass: Slack asked Roster to slow down. Nothing was changed; please try again in a minute.';
  if (f.kind === 'operator') {
    log.error({ slackError: f.code, fix: f.fix }, `Slack refuses Roster's app (${f.code}). To fix: ${f.fix}`);
    return ':warning: Slack refused Roster here (the app needs a workspace admin: it may have to be reinstalled or given a permission). Nothing was changed; the operator has been told.';
  }
  return undefined;
}

/** The domain's hints as Slack commands (every hint has one: the compiler checks). */
const slackHints: Record<Hint, string> = {
  list_orgs: 'Use `/org list` to see yours.',
  switch_org: 'Use `/org switch <slug>`.',
  create_or_join_org: 'Create one with `/org create` or join one with `/org join <slug>`.',
  transfer_primary: 'Use `/org transfer <@user|email>`.',
  scim_allow_owner: 'Use `/org scim allow-owner on`.',
  scim_default_role: 'Use `/org scim default-role member`.',
  list_scim_tokens: 'List them with `/org scim`.',
};
