import { inviteDecidedDm } from '../blocks/messages.js';
import { publishHome } from '../home.js';
import { buttonValue } from './metadata.js';
import type { ActionCtx } from './types.js';

export async function inviteDecline(a: ActionCtx) {
  const { orgName } = await a.deps.domain.invites.decline(a.me.actor, buttonValue(a.action));
  if (a.fromHome) await publishHome(a.deps, a.client, a.me);
  else {
    const msg = inviteDecidedDm(orgName || 'the organization', 'declined');
    await a.respond({ replace_original: true, text: msg.text, blocks: msg.blocks as never[] });
  }
}
