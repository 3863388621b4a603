import { createdText } from '../commands/orgs.js';
import { buttonValue } from './metadata.js';
import type { ActionCtx } from './types.js';

/** "Create another …" after `/org create` named an org I'm already in: creates it after all. */
export async function createOrgAnyway(a: ActionCtx) {
  const org = await a.deps.domain.orgs.create(a.me.actor, { name: buttonValue(a.action) });
  await a.respond({ replace_original: true, text: createdText(org) });
}
