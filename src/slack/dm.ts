import { grantableRoles } from '../domain/access.js';
import type { Actor } from '../domain/context.js';
import type { InviteRow, JoinRequestRow, OrgRow } from '../db/schema.js';
import type { SlackDeps, WebClient } from './context.js';
import { inviteDm, joinRequestDecidedDm, joinRequestDm } from './blocks/messages.js';

const JOIN_REQUEST = 'join_request';

export function inviteLink(publicUrl: string, token: string): string {
  return `${publicUrl}/invites/${token}`;
}

/**
 * DMs the invitee when their email belongs to someone in this workspace (users.lookupByEmail).
 * Returns whether a DM was sent; an email that Slack doesn't know is normal, not an error.
 */
export async function sendInviteDm(
  deps: SlackDeps,
  client: WebClient,
  invite: InviteRow,
  org: Pick<OrgRow, 'name'>,
  inviterName: string | null,
): Promise<boolean> {
  let userId: string | undefined;
  try {
    userId = (await client.users.lookupByEmail({ email: invite.email })).user?.id;
  } catch (err) {
    if ((err as { data?: { error?: string } }).data?.error === 'users_not_found') return false;
    throw err;
  }
  if (!userId) return false;
  const msg = inviteDm({
    inviteId: invite.id,
    orgName: org.name,
    inviterName,
    role: invite.role,
    expiresAt: invite.expiresAt,
    link: inviteLink(deps.publicUrl, deps.domain.invites.tokenOf(invite)),
  });
  await client.chat.postMessage({ channel: userId, text: msg.text, blocks: msg.blocks as never[] });
  return true;
}

/** One DM with Approve/Deny to each owner and admin of the org who uses this workspace. */
export async function sendJoinRequestDms(
  deps: SlackDeps,
  client: WebClient,
  teamId: string,
  org: OrgRow,
  request: JoinRequestRow,
  approverIds: string[],
  requester: { name: string; email: string | null },
): Promise<number> {
  let sent = 0;
  for (const accountId of approverIds) {
    const members = await deps.domain.members.find({ type: 'system', job: 'slack-dm' }, org.id, { accountId });
    for (const who of await deps.domain.accounts.slackUserIds(accountId, teamId)) {
      const msg = joinRequestDm({
        requestId: request.id,
        orgName: org.name,
        requesterName: requester.name,
        requesterEmail: requester.email,
        message: request.message,
        grantable: grantableRoles(members.role),
      });
      const posted = await client.chat.postMessage({ channel: who.userId, text: msg.text, blocks: msg.blocks as never[] });
      if (posted.channel && posted.ts) await deps.domain.messageRefs.remember(JOIN_REQUEST, request.id, posted.channel, posted.ts);
      sent++;
    }
  }
  return sent;
}

/** After the first decision, every admin's copy of the request shows the outcome (no more buttons). */
export async function updateJoinRequestDms(
  deps: SlackDeps,
  client: WebClient,
  request: JoinRequestRow,
  text: { requesterName: string; orgName: string; deciderName: string },
): Promise<void> {
  const msg = joinRequestDecidedDm({ ...text, approved: request.status === 'approved', role: request.role });
  for (const ref of await deps.domain.messageRefs.find(JOIN_REQUEST, request.id)) {
    await client.chat.update({ channel: ref.channel, ts: ref.ts, text: msg.text, blocks: msg.blocks as never[] }).catch((err) => {
      deps.log.warn({ err, channel: ref.channel }, 'could not update a join request message');
    });
  }
}

export type { Actor };
