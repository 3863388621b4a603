import { fail } from '../../domain/errors.js';
import { esc } from '../blocks/kit.js';
import { sendJoinRequestDms } from '../dm.js';
import { type CommandCtx, say } from './types.js';

/** `/org join <slug> [message]`: ask the org's owners and admins to let me in (Depot). */
export async function join(c: CommandCtx) {
  const [slug, ...message] = c.args;
  if (!slug) fail('invalid_input', 'Say which organization: `/org join acme-inc` (ask a member for its URL name).');
  const org = await c.deps.domain.orgs.findBySlug(slug);
  const text = c.rest.slice(slug.length).trim() || message.join(' ');
  const { request, approverIds } = await c.deps.domain.joinRequests.request(c.me.actor, org, text || undefined);
  const sent = await sendJoinRequestDms(c.deps, c.client, c.me.teamId, org, request, approverIds, {
    name: c.me.account.displayName,
    email: c.me.account.email,
  });
  await say(
    c,
    sent
      ? `Asked to join *${esc(org.name)}*. ${sent === 1 ? 'An owner or admin has' : `${sent} owners and admins have`} been told; you'll get a message when they decide.`
      : `Asked to join *${esc(org.name)}*. None of its owners or admins use this Slack workspace, so they'll see your request in Roster; you'll get a message when they decide.`,
  );
}
