import { fail } from '../../domain/errors.js';
import { mentionedAccountId } from '../actor.js';
import { auditMessage } from '../blocks/messages.js';
import { parseAuditArgs } from '../parse.js';
import { type CommandCtx, say } from './types.js';

/** An actor id no event has (ids are account UUIDs, SCIM token ids and job names). */
const NOBODY = 'nobody:unknown-slack-user';

/** `/org audit [action] [@user] [since]` — newest events first, owners and admins only. */
export async function audit(c: CommandCtx) {
  const { org } = await c.deps.domain.orgs.active(c.me.actor);
  const f = parseAuditArgs(c.args, c.deps.clock.now());
  if (f.unknown.length) {
    fail(
      'invalid_input',
      `I didn't understand "${f.unknown.join(' ')}". Use \`/org audit [action] [@user] [since]\`, e.g. \`/org audit invite.created @ana 7d\`.`,
    );
  }
  // Someone with no account matches no event: the reply is then the same "no events" as for a person
  // who did nothing here, so the filter tells nothing about who has an account in this deployment.
  const actorId = f.actor && 'slackUserId' in f.actor ? ((await mentionedAccountId(c.deps.domain, c.client, c.me, f.actor.slackUserId)) ?? NOBODY) : undefined;
  const events = await c.deps.domain.audit.query(c.me.actor, org.id, { action: f.action, since: f.since, actorId, limit: 40 });
  const msg = auditMessage(org.name, events);
  await say(c, msg.text, msg.blocks);
}
