import type { Deps } from '../context.js';
import { createScimGroups } from './groups.js';
import { createScimMappings } from './mappings.js';
import { createScimUsers } from './users.js';

export * from './types.js';
export { emailOf } from './input.js';

/**
 * SCIM provisioning rules, independent of the SCIM wire format: the scim/ adapter turns
 * requests into these calls. The org always comes from the token (the actor), never from the body.
 */
export function createScimService(deps: Deps) {
  return { ...createScimUsers(deps), ...createScimGroups(deps), ...createScimMappings(deps) };
}
