import { esc } from '../blocks/kit.js';
import { infoModal } from '../blocks/modals.js';
import { publishHome } from '../home.js';
import { orgMetadata } from './metadata.js';
import type { ViewCtx } from './types.js';

/** Leaving may be refused (primary owner, last owner, sole member): the modal then explains why. */
export async function leave({ deps, view, me, ack, client }: ViewCtx) {
  const { orgId } = orgMetadata(view);
  const org = await deps.domain.orgs.get(me.actor, orgId);
  await deps.domain.members.leave(me.actor, orgId);
  await ack({ response_action: 'update', view: infoModal('Left organization', `You left *${esc(org.name)}*.`) });
  await publishHome(deps, client, me);
}
