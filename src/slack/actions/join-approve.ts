import { announceJoinDecision } from '../join-decisions.js';
import { buttonValue, joinRoleChoice } from './metadata.js';
import type { ActionCtx } from './types.js';

export async function joinApprove(a: ActionCtx) {
  const requestId = buttonValue(a.action);
  await a.deps.domain.joinRequests.approve(a.me.actor, requestId, joinRoleChoice(a.body, requestId));
  await announceJoinDecision(a.deps, a.client, a.me, requestId);
}
