import { domainAddedModal } from '../blocks/modals.js';
import { ids } from '../ids.js';
import { text } from './form.js';
import { orgMetadata } from './metadata.js';
import type { ViewCtx } from './types.js';

/** The add-domain form: the record to publish replaces it; a domain the domain layer refuses shows on the field. */
export async function addDomain({ deps, values, view, me, ack }: ViewCtx) {
  const { orgId } = orgMetadata(view);
  const org = await deps.domain.orgs.get(me.actor, orgId);
  const added = await deps.domain.domains.add(me.actor, orgId, text(values, ids.blocks.domain, ids.inputs.domain));
  await ack({ response_action: 'update', view: domainAddedModal(org.name, added) });
}
