import type { JoinRequestRow } from '../db/schema.js';
import type { SlackDeps, WebClient } from './context.js';
import { joinRequestDecidedDm } from './blocks/messages.js';
import { ids } from './ids.js';

export { inviteUrl as inviteLink } from '../domain/invites.js';

/** After the first decision, every admin's copy of the request shows the outcome (no more buttons). */
export async function updateJoinRequestDms(
  deps: SlackDeps,
  client: WebClient,
  request: JoinRequestRow,
  text: { requesterName: string; orgName: string; deciderName: string },
): Promise<void> {
  const msg = joinRequestDecidedDm({ ...text, approved: request.status === 'approved', role: request.role });
  for (const ref of await deps.domain.messageRefs.find(ids.messageRefs.joinRequest, request.id)) {
    await client.chat.update({ channel: ref.channel, ts: ref.ts, text: msg.text, blocks: msg.blocks as never[] }).catch((err) => {
      deps.log.warn({ err, channel: ref.channel }, 'could not update a join request message');
    });
  }
}
