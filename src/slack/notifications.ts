import { can, grantableRoles, roleLabels } from '../domain/access.js';
import type { NotificationContent } from '../domain/notifications.js';
import type { SlackDeps, WebClient } from './context.js';
import { esc } from './blocks/kit.js';
import { inviteDm, joinRequestDm } from './blocks/messages.js';
import { inviteLink } from './dm.js';
import { ids } from './ids.js';

/**
 * The Slack side of notification delivery: a DM from Roster's bot. 'skipped' when the person isn't
 * in this workspace (the email channel covers them); Slack errors throw, so the outbox retries.
 */
export function createSlackChannel(deps: SlackDeps, client: WebClient) {
  async function slackUserOf(c: NotificationContent): Promise<string | undefined> {
    if (c.recipient.accountId) {
      const known = await deps.domain.accounts.slackUserIds(c.recipient.accountId);
      if (known[0]) return known[0].userId;
    }
    if (!c.recipient.email) return undefined;
    try {
      return (await client.users.lookupByEmail({ email: c.recipient.email })).user?.id;
    } catch (err) {
      if ((err as { data?: { error?: string } }).data?.error === 'users_not_found') return undefined;
      throw err;
    }
  }

  async function post(channel: string, msg: { text: string; blocks?: unknown[] }) {
    return client.chat.postMessage({ channel, text: msg.text, ...(msg.blocks ? { blocks: msg.blocks as never[] } : {}) });
  }

  return {
    async deliver(c: NotificationContent): Promise<'sent' | 'skipped'> {
      const user = await slackUserOf(c);
      if (!user) return 'skipped';
      const org = c.orgName ?? 'your organization';
      const p = (c.notification.payload ?? {}) as Record<string, any>;
      switch (c.notification.kind) {
        case 'invite.sent':
        case 'invite.reminder': {
          if (!c.invite) return 'skipped';
          const msg = inviteDm({
            inviteId: c.invite.id,
            orgName: org,
            inviterName: c.invite.inviterName,
            role: c.invite.role,
            expiresAt: c.invite.expiresAt,
            link: inviteLink(deps.publicUrl, c.invite.token),
          });
          if (c.notification.kind === 'invite.reminder') msg.text = `Reminder: ${msg.text}`;
          await post(user, msg);
          return 'sent';
        }
        case 'join_request.created': {
          const system = { type: 'system' as const, job: 'deliver-notifications' };
          const req = await deps.domain.joinRequests.get(system, String(p.requestId));
          if (req.status !== 'pending') return 'skipped';
          const approver = await deps.domain.members.find(system, req.orgId, { accountId: c.recipient.accountId ?? '' }).catch(() => undefined);
          // Someone who can no longer decide join requests (demoted since) gets no buttons they can't use.
          if (!approver || !can(approver.role, 'member:invite')) return 'skipped';
          const msg = joinRequestDm({
            requestId: req.id,
            orgName: org,
            requesterName: req.requesterName,
            requesterEmail: req.requesterEmail,
            message: req.message,
            grantable: grantableRoles(approver.role),
          });
          const posted = await post(user, msg);
          if (posted.channel && posted.ts) await deps.domain.messageRefs.remember(ids.messageRefs.joinRequest, req.id, posted.channel, posted.ts);
          return 'sent';
        }
        case 'join_request.decided':
          await post(user, {
            text: p.approved
              ? `:white_check_mark: Your request to join *${esc(org)}* was approved. You're in as ${roleLabels[p.role as keyof typeof roleLabels] ?? p.role}.`
              : `:no_entry_sign: Your request to join *${esc(org)}* was declined.${p.reason ? ` Reason: ${esc(String(p.reason))}` : ''}`,
          });
          return 'sent';
        case 'invite.accepted':
          await post(user, { text: `:tada: ${esc(String(p.email))} accepted your invite to *${esc(org)}*.` });
          return 'sent';
        case 'invite.declined':
          await post(user, { text: `${esc(String(p.email))} declined your invite to *${esc(org)}*.` });
          return 'sent';
        case 'member.role_changed':
          await post(user, { text: `Your role in *${esc(org)}* is now ${roleLabels[p.to as keyof typeof roleLabels] ?? p.to}.` });
          return 'sent';
        case 'member.removed':
          await post(user, { text: `You were removed from *${esc(org)}* and no longer have access to it.` });
          return 'sent';
        default:
          return 'skipped';
      }
    },
  };
}
