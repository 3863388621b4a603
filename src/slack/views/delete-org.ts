import { esc } from '../blocks/kit.js';
import { infoModal } from '../blocks/modals.js';
import { publishHome } from '../home.js';
import { ids } from '../ids.js';
import { text } from './form.js';
import { orgMetadata } from './metadata.js';
import type { ViewCtx } from './types.js';

/** The org's name, typed again, confirms the deletion (checked in the domain). */
export async function deleteOrg({ deps, values, view, me, ack, client }: ViewCtx) {
  const { orgId } = orgMetadata(view);
  const org = await deps.domain.orgs.get(me.actor, orgId);
  await deps.domain.orgs.delete(me.actor, orgId, text(values, ids.blocks.confirmName, ids.inputs.confirmName));
  await ack({ response_action: 'update', view: infoModal('Deleted', `*${esc(org.name)}* was deleted. Its audit log is kept.`) });
  await publishHome(deps, client, me);
}
