import type { SlackPerson } from './actor.js';
import type { SlackDeps, WebClient } from './context.js';
import { roleLabels } from '../domain/access.js';
import { updateJoinRequestDms } from './dm.js';
import { esc } from './blocks/kit.js';

/**
 * After a join request is decided: every admin's copy of the request shows the outcome, and the
 * requester hears the answer in a DM (if they use this workspace).
 */
export async function announceJoinDecision(deps: SlackDeps, client: WebClient, decider: SlackPerson, requestId: string): Promise<void> {
  const req = await deps.domain.joinRequests.get(decider.actor, requestId);
  const org = await deps.domain.orgs.get(decider.actor, req.orgId).catch(() => undefined);
  const orgName = esc(org?.name ?? 'the organization');
  await updateJoinRequestDms(deps, client, req, { requesterName: req.requesterName, orgName, deciderName: decider.account.displayName });
  const text =
    req.status === 'approved'
      ? `:white_check_mark: Your request to join *${orgName}* was approved. You're in as ${roleLabels[req.role ?? 'member']}.`
      : `:no_entry_sign: Your request to join *${orgName}* was declined.${req.reason ? ` Reason: ${esc(req.reason)}` : ''}`;
  for (const who of await deps.domain.accounts.slackUserIds(req.accountId, decider.teamId)) {
    await client.chat.postMessage({ channel: who.userId, text }).catch((err) => deps.log.warn({ err }, 'could not tell the requester'));
  }
}
