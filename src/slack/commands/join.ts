import { fail } from '../../domain/errors.js';
import { esc } from '../blocks/kit.js';
import { type CommandCtx, say } from './types.js';

/** `/org join <slug> [message]`: ask the org's owners and admins to let me in (Depot). */
export async function join(c: CommandCtx) {
  const [slug, ...message] = c.args;
  if (!slug) fail('invalid_input', 'Say which organization: `/org join acme-inc` (ask a member for its URL name).');
  const org = await c.deps.domain.orgs.findBySlug(slug);
  // The separator after the slug may be a comma or semicolon too (`/org join acme-inc, please`).
  const text =
    c.rest
      .slice(slug.length)
      .replace(/^[\s,;]+/, '')
      .trim() || message.join(' ');
  const { approverIds } = await c.deps.domain.joinRequests.request(c.me.actor, org, text || undefined);
  c.deps.kickOutbox();
  await say(
    c,
    `Asked to join *${esc(org.name)}*. ${approverIds.length === 1 ? 'The one person who can let you in has' : `The ${approverIds.length} people who can let you in have`} been asked; you'll get a message when one of them decides.`,
  );
}
