import { escapeHtml, utcDate } from '../shared/text.js';
import { describeRole, describeStoredRole } from '../domain/access.js';
import { consentUrl } from '../domain/consents.js';
import { inviteUrl } from '../domain/invites.js';
import { slackLinkUrl } from '../domain/slack-links.js';
import type { NotificationContent } from '../domain/notifications.js';

/** Subject, text and HTML for each notification that goes by email. Pure: content in, message out. */
type RenderedEmail = { subject: string; text: string; html: string };

/**
 * Text a person typed (an org name, their display name, a reason), made so no mail client turns it into
 * a link: mail clients link URLs, `www.` names, bare domain names and addresses even in plain text, and
 * a name such as "IT Support https://evil.example/login" would otherwise arrive as a clickable link in an
 * email from Roster (phishing). A scheme's colon becomes `[:]`, a dot before a letter `[.]` (also the
 * ideographic and full-width dots browsers read as dots), `@` becomes `(at)`; runs of white space (a
 * reason's new lines) become one space, so typed text cannot pose as lines of Roster's own. The words
 * stay readable, and our own link is never passed through this.
 */
function unlinkable(typed: string): string {
  return typed
    .replace(/\s+/g, ' ')
    .replace(/([\p{L}\p{N}+.-]):(?=\S)/gu, '$1[:]')
    .replace(/(?<=\S)@(?=\S)/g, '(at)')
    .replace(/(?<=[\p{L}\p{N}_-])[.\u3002\uff0e\uff61](?=\p{L})/gu, '[.]');
}

function when(d: Date | null): string {
  if (!d) return 'does not expire';
  return `expires on ${utcDate(d)}`;
}

function layout(title: string, paragraphs: string[], action?: { label: string; url: string }): string {
  const body = paragraphs.map((p) => `<p style="margin:0 0 16px">${p}</p>`).join('');
  const button = action
    ? `<p style="margin:24px 0"><a href="${escapeHtml(action.url)}" style="background:#1264a3;color:#fff;padding:12px 20px;border-radius:6px;text-decoration:none;font-weight:600">${escapeHtml(action.label)}</a></p><p style="margin:0 0 16px;color:#616061;font-size:13px">Or open this link: ${escapeHtml(action.url)}</p>`
    : '';
  return `<!doctype html><html><body style="font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;color:#1d1c1d;max-width:560px;margin:0 auto;padding:24px"><h1 style="font-size:20px">${escapeHtml(title)}</h1>${body}${button}<p style="color:#616061;font-size:12px">Sent by Roster.</p></body></html>`;
}

export function renderEmail(c: NotificationContent, publicUrl: string): RenderedEmail | undefined {
  const org = c.orgName ? unlinkable(c.orgName) : 'your organization';
  const payload = (c.notification.payload ?? {}) as Record<string, unknown>;
  switch (c.notification.kind) {
    case 'invite.sent':
    case 'invite.reminder': {
      if (!c.invite) return undefined;
      const link = inviteUrl(publicUrl, c.invite.token);
      const by = c.invite.inviterName ? `${unlinkable(c.invite.inviterName)} invited you` : "You're invited";
      const reminder = c.notification.kind === 'invite.reminder';
      const subject = reminder ? `Reminder: your invite to ${org} ${when(c.invite.expiresAt)}` : `${by} to join ${org} on Roster`;
      const lines = [`${by} to join ${org} as ${describeRole(c.invite.role)}.`, `This invite ${when(c.invite.expiresAt)}.`];
      return {
        subject,
        text: `${reminder ? 'Reminder: ' : ''}${lines.join('\n')}\n\nAccept or decline: ${link}\n`,
        html: layout(reminder ? `Reminder: join ${org}` : `Join ${org}`, lines.map(escapeHtml), { label: 'View invite', url: link }),
      };
    }
    case 'invite.accepted':
    case 'invite.declined': {
      const verb = c.notification.kind === 'invite.accepted' ? 'accepted' : 'declined';
      const line = `${payload.email} ${verb} your invite to ${org}.`;
      return { subject: `${payload.email} ${verb} your invite to ${org}`, text: `${line}\n`, html: layout(`Invite ${verb}`, [escapeHtml(line)]) };
    }
    case 'member.role_changed': {
      const line = `Your role in ${org} is now ${describeStoredRole(payload.to)}.`;
      return { subject: `Your role in ${org} changed`, text: `${line}\n`, html: layout('Your role changed', [escapeHtml(line)]) };
    }
    case 'member.consent_requested': {
      if (!c.consent) return undefined;
      const link = consentUrl(publicUrl, c.consent.token);
      const idp = payload.idp ? ` (${unlinkable(String(payload.idp))})` : '';
      const lines = [
        `The identity provider of ${org}${idp} asked Roster to add ${unlinkable(c.consent.email)} to ${org} as ${describeRole(c.consent.role)}.`,
        `Your email address is not on a domain ${org} has verified, so you join only if you accept. If you don't know ${org}, decline.`,
      ];
      return {
        subject: `${org} wants to add you on Roster: accept or decline`,
        text: `${lines.join('\n')}\n\nAccept or decline: ${link}\n`,
        html: layout(`Join ${org}?`, lines.map(escapeHtml), { label: 'Accept or decline', url: link }),
      };
    }
    case 'member.removed': {
      const line = `You were removed from ${org} and no longer have access to it.`;
      return { subject: `You were removed from ${org}`, text: `${line}\n`, html: layout(`Removed from ${org}`, [escapeHtml(line)]) };
    }
    case 'webhook.disabled': {
      const lines = [
        `Roster stopped sending webhooks for ${org} to ${unlinkable(String(payload.url))}: ${unlinkable(String(payload.reason))}.`,
        `Events are still queued for it. Fix the receiver, then enable the endpoint again (API: PATCH /api/v1/orgs/{org}/webhooks/${unlinkable(String(payload.endpointId))} with {"enabled": true}) and replay what failed (POST …/replay?since=…).`,
      ];
      return { subject: `Webhooks for ${org} stopped`, text: `${lines.join('\n')}\n`, html: layout('Webhooks stopped', lines.map(escapeHtml)) };
    }
    case 'account.slack_link': {
      if (!c.slackLink) return undefined;
      const link = slackLinkUrl(publicUrl, c.slackLink.token);
      const who = `${c.slackLink.displayName ? `the Slack user “${unlinkable(c.slackLink.displayName)}”` : 'a Slack user'} in the workspace ${unlinkable(c.slackLink.workspace ?? 'unknown')}`;
      const lines = [
        `Roster was asked to connect ${who} to this address, ${unlinkable(c.slackLink.email)}.`,
        `Confirm only if that Slack user is you: confirming gives them everything this address has in Roster — its organizations (with their roles, owner included) and its invites.`,
        `The link works until ${c.slackLink.expiresAt.toISOString().slice(11, 16)} UTC. If it wasn't you, ignore this email: nothing happens.`,
      ];
      return {
        subject: 'Confirm your email address for Roster in Slack',
        text: `${lines.join('\n')}\n\nConfirm: ${link}\n`,
        html: layout('Confirm your email address', lines.map(escapeHtml), { label: 'Confirm: that Slack user is me', url: link }),
      };
    }
    case 'join_request.decided': {
      const line = payload.approved
        ? `Your request to join ${org} was approved. You're in as ${describeStoredRole(payload.role)}.`
        : `Your request to join ${org} was declined.${payload.reason ? ` Reason: ${unlinkable(String(payload.reason))}` : ''}`;
      return {
        subject: `Your request to join ${org} was ${payload.approved ? 'approved' : 'declined'}`,
        text: `${line}\n`,
        html: layout('Join request', [escapeHtml(line)]),
      };
    }
    default:
      return undefined;
  }
}
