import { mayManageInvite, memberActions, describeRole, type Role } from '../../domain/access.js';
import type { MemberView } from '../../domain/members.js';
import type { InviteView } from '../../domain/invites.js';
import type { OrgRow } from '../../db/schema.js';
import { ids, menuValue } from '../ids.js';
import { type Block, type Option, context, esc, header, option, overflow, section, slackDate } from './kit.js';

export type Viewer = { accountId: string; role: Role; isPrimaryOwner: boolean };

/** What a viewer may do to a member: only actions they are allowed to take are offered. */
export function memberMenu(viewer: Viewer, m: MemberView): Option[] {
  const may = memberActions(viewer, m);
  const opts: Option[] = [];
  if (may.changeRole) opts.push(option('Change role', menuValue('role', m.accountId)));
  if (may.remove) opts.push(option('Remove from org', menuValue('remove', m.accountId)));
  if (may.stopBillingEmails) opts.push(option('Stop billing emails', menuValue('billing_off', m.accountId)));
  if (may.sendBillingEmails) opts.push(option('Send billing emails', menuValue('billing_on', m.accountId)));
  return opts;
}

export function inviteMenu(viewer: Viewer, i: InviteView): Option[] {
  if (!mayManageInvite(viewer.role, i.role)) return [];
  // Only a pending invite can be changed or have its link copied; an expired one can be resent or revoked.
  const pending = i.state === 'pending';
  return [
    ...(pending ? [option('Change role', menuValue('role', i.id))] : []),
    option('Resend', menuValue('resend', i.id)),
    option('Revoke', menuValue('revoke', i.id)),
    ...(pending ? [option('Copy invite link', menuValue('link', i.id))] : []),
  ];
}

function memberLine(m: MemberView): string {
  const tags = [
    describeRole(m.role) + (m.isPrimaryOwner ? ' (primary owner)' : ''),
    m.status === 'suspended' ? ':no_entry: suspended' : null,
    m.status === 'pending' ? ':hourglass: pending: added by your identity provider, waiting for their consent' : null,
    m.billingEmails ? ':receipt: billing emails' : null,
    m.source === 'scim' ? 'managed by your IdP (SCIM)' : null,
    m.source === 'domain' ? 'joined by their verified email domain' : null,
    m.scimBaseRole !== null ? 'role from IdP groups' : null,
  ].filter(Boolean);
  return `*${esc(m.displayName)}*${m.email ? ` · ${esc(m.email)}` : ''}\n${tags.join(' · ')} · joined ${slackDate(m.joinedAt)}`;
}

function inviteLine(i: InviteView): string {
  const expiry = i.state === 'expired' ? ':hourglass: expired' : `expires ${slackDate(i.expiresAt)}`;
  return `*${esc(i.email)}* · ${describeRole(i.role)}${i.billingEmails ? ' · billing emails' : ''}\n${expiry}${i.invitedByName ? ` · invited by ${esc(i.invitedByName)}` : ''}`;
}

/**
 * A member row's block_id names the org it was rendered for: a menu clicked after the viewer switched
 * their active org must still act on the org the list showed, not on the active one.
 */
function memberBlockId(orgId: string, accountId: string): string {
  return `member:${orgId}:${accountId}`;
}

export function orgOfMemberBlock(blockId: string | undefined): string | undefined {
  return /^member:([0-9a-f-]{36}):[0-9a-f-]{36}$/.exec(blockId ?? '')?.[1];
}

/**
 * Member rows, each with the actions this viewer may take. `max` leaves room for the surface's other
 * blocks; what does not fit is counted in a closing line.
 */
export function memberBlocks(viewer: Viewer, members: MemberView[], actionId: string, max: number, orgId?: string): Block[] {
  const shown = members.slice(0, max);
  const blocks = shown.map((m) => ({
    ...section(memberLine(m), overflow(actionId, memberMenu(viewer, m))),
    ...(orgId ? { block_id: memberBlockId(orgId, m.accountId) } : {}),
  }));
  return blocks;
}

export function inviteBlocks(viewer: Viewer, invites: InviteView[], actionId: string, max: number): Block[] {
  return invites.slice(0, max).map((i) => section(inviteLine(i), overflow(actionId, inviteMenu(viewer, i))));
}

/** `/org members` reply: one message, at most 50 blocks. */
export function membersMessage(org: OrgRow, viewer: Viewer, members: MemberView[], total: number): Block[] {
  const room = 50 - 3;
  const blocks: Block[] = [header(`Members of ${org.name}`), context(`${total} member${total === 1 ? '' : 's'} · your role: ${describeRole(viewer.role)}`)];
  blocks.push(...memberBlocks(viewer, members, ids.actions.memberMenu, room, org.id));
  if (total > Math.min(members.length, room))
    blocks.push(context(`…and ${total - Math.min(members.length, room)} more. Open Roster's *Home* tab to page through everyone.`));
  return blocks;
}

export function invitesMessage(org: OrgRow, viewer: Viewer, invites: InviteView[]): Block[] {
  if (!invites.length) return [section(`*${esc(org.name)}* has no pending invites. Invite someone with \`/org invite\`.`)];
  const room = 50 - 3;
  const blocks: Block[] = [header(`Pending invites · ${org.name}`), context(`${invites.length} pending`)];
  blocks.push(...inviteBlocks(viewer, invites, ids.actions.inviteMenu, room));
  if (invites.length > room) blocks.push(context(`…and ${invites.length - room} more.`));
  return blocks;
}
