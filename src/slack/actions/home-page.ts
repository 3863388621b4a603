import { publishHome } from '../home.js';
import { pageNumber } from './metadata.js';
import type { ActionCtx } from './types.js';

export async function homePage(a: ActionCtx) {
  await publishHome(a.deps, a.client, a.me, { offset: pageNumber(a.action), hash: a.body.view?.hash });
}
