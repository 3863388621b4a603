import { joinRequestPermission, whoMay } from '../../domain/access.js';
import { esc } from '../blocks/kit.js';
import { publishHome } from '../home.js';
import { buttonValue } from './metadata.js';
import { type ActionCtx, tell } from './types.js';

/** "Ask to join" on App Home, offered by a verified email domain in suggest mode: files a join request. */
export async function domainAskToJoin(a: ActionCtx) {
  const org = await a.deps.domain.orgs.resolve(buttonValue(a.action));
  await a.deps.domain.joinRequests.request(a.me.actor, org);
  a.deps.kickOutbox();
  // On App Home the offer turns into "waiting for a decision"; anywhere else, a reply says it.
  if (a.fromHome) return publishHome(a.deps, a.client, a.me);
  await tell(a, `Asked to join *${esc(org.name)}*. You'll get a message when one of its ${whoMay(joinRequestPermission)} decides.`);
}
