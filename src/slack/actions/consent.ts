import { consentAnsweredDm } from '../blocks/messages.js';
import { publishHome } from '../home.js';
import { buttonValue } from './metadata.js';
import type { ActionCtx } from './types.js';

/**
 * Accept or Decline in the consent DM (or App Home): acts as the clicker, whose account must be the one
 * the IdP claimed (checked in the domain), so a forwarded message does nothing for anyone else.
 */
function answer(how: 'accept' | 'decline') {
  return async (a: ActionCtx) => {
    const r = await a.deps.domain.consents.answerForOrg(a.me.actor, buttonValue(a.action), how);
    if (a.fromHome) await publishHome(a.deps, a.client, a.me);
    else {
      const msg = consentAnsweredDm(r.org.name, how === 'accept' ? 'accepted' : 'declined');
      await a.respond({ replace_original: true, text: msg.text, blocks: msg.blocks as never[] });
    }
  };
}

export const consentAccept = answer('accept');
export const consentDecline = answer('decline');
