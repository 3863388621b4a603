import { publishHome } from '../home.js';
import { ids } from '../ids.js';
import { selected } from './form.js';
import type { ViewCtx } from './types.js';

export async function switchOrg({ deps, values, me, ack, client }: ViewCtx) {
  await deps.domain.orgs.switchActive(me.actor, selected(values, ids.blocks.orgSelect, ids.inputs.orgSelect));
  await ack();
  await publishHome(deps, client, me);
}
