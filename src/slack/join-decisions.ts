import type { SlackPerson } from './actor.js';
import type { SlackDeps, WebClient } from './context.js';
import { updateJoinRequestDms } from './dm.js';

/**
 * After a join request is decided: every admin's copy of the request shows the outcome, and the
 * requester's notification (queued by the domain) goes out now.
 */
export async function announceJoinDecision(deps: SlackDeps, client: WebClient, decider: SlackPerson, requestId: string): Promise<void> {
  const req = await deps.domain.joinRequests.get(decider.actor, requestId);
  const org = await deps.domain.orgs.get(decider.actor, req.orgId).catch(() => undefined);
  const orgName = org?.name ?? 'the organization';
  await updateJoinRequestDms(deps, client, req, { requesterName: req.requesterName, orgName, deciderName: decider.account.displayName });
  deps.kickOutbox();
}
