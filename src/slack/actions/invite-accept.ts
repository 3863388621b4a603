import { inviteDecidedDm } from '../blocks/messages.js';
import { publishHome } from '../home.js';
import { buttonValue } from './metadata.js';
import type { ActionCtx } from './types.js';

/** Accept from the invite DM or App Home: the clicker's own email must match the invite (checked in the domain). */
export async function inviteAccept(a: ActionCtx) {
  const r = await a.deps.domain.invites.accept(a.me.actor, buttonValue(a.action));
  if (a.fromHome) await publishHome(a.deps, a.client, a.me);
  else {
    const msg = inviteDecidedDm(r.org.name, 'accepted', r.invite.role);
    await a.respond({ replace_original: true, text: msg.text, blocks: msg.blocks as never[] });
  }
}
