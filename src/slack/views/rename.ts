import { publishHome } from '../home.js';
import { ids } from '../ids.js';
import { text } from './form.js';
import { orgMetadata } from './metadata.js';
import type { ViewCtx } from './types.js';

export async function rename({ deps, values, view, me, ack, client }: ViewCtx) {
  await deps.domain.orgs.rename(me.actor, orgMetadata(view).orgId, text(values, ids.blocks.orgName, ids.inputs.orgName));
  await ack();
  await publishHome(deps, client, me);
}
