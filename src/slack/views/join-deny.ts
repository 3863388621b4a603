import { ids } from '../ids.js';
import { announceJoinDecision } from '../join-decisions.js';
import { text } from './form.js';
import { joinRequestMetadata } from './metadata.js';
import type { ViewCtx } from './types.js';

/** The reason prompt opened by Deny on a join request; the requester sees the reason. */
export async function joinDeny({ deps, values, view, me, ack, client }: ViewCtx) {
  const { requestId } = joinRequestMetadata(view);
  const decided = await deps.domain.joinRequests.deny(me.actor, requestId, text(values, ids.blocks.reason, ids.inputs.reason) || undefined);
  await ack();
  await announceJoinDecision(deps, client, me, decided.id);
}
