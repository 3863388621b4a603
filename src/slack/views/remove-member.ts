import { esc } from '../blocks/kit.js';
import { infoModal } from '../blocks/modals.js';
import { publishHome } from '../home.js';
import { memberMetadata } from './metadata.js';
import type { ViewCtx } from './types.js';

/** The confirmation opened by "Remove from org" in a member menu; closing it instead changes nothing. */
export async function removeMember({ deps, view, me, ack, client }: ViewCtx) {
  const { domain } = deps;
  const { orgId, accountId = '' } = memberMetadata(view);
  const org = await domain.orgs.get(me.actor, orgId);
  const member = await domain.members.find(me.actor, orgId, { accountId });
  await domain.members.remove(me.actor, orgId, accountId);
  await ack({
    response_action: 'update',
    view: infoModal('Member removed', `Removed *${esc(member.displayName)}* from *${esc(org.name)}*. Their access ended now.`),
  });
  deps.kickOutbox();
  await publishHome(deps, client, me);
}
