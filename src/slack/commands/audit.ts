import { fail } from '../../domain/errors.js';
import { targetAccount } from '../actor.js';
import { auditMessage } from '../blocks/messages.js';
import { parseAuditArgs } from '../parse.js';
import { type CommandCtx, say } from './types.js';

/** `/org audit [action] [@user] [since]` — newest events first, owners and admins only. */
export async function audit(c: CommandCtx) {
  const { org } = await c.deps.domain.orgs.active(c.me.actor);
  const f = parseAuditArgs(c.args, c.deps.clock.now());
  if (f.unknown.length) {
    fail('invalid_input', `I didn't understand "${f.unknown.join(' ')}". Use \`/org audit [action] [@user] [since]\`, e.g. \`/org audit invite.created @ana 7d\`.`);
  }
  const actorId = f.actor ? (await targetAccount(c.deps.domain, c.client, c.me.teamId, f.actor)).id : undefined;
  const events = await c.deps.domain.audit.query(c.me.actor, org.id, { action: f.action, since: f.since, actorId, limit: 40 });
  const msg = auditMessage(org.name, events);
  await say(c, msg.text, msg.blocks);
}
