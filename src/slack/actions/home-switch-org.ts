import { publishHome } from '../home.js';
import { selectedValue } from './metadata.js';
import type { ActionCtx } from './types.js';

export async function homeSwitchOrg(a: ActionCtx) {
  await a.deps.domain.orgs.switchActive(a.me.actor, selectedValue(a.action));
  await publishHome(a.deps, a.client, a.me, { hash: a.body.view?.hash });
}
