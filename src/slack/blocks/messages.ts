import { roleLabels, type Role } from '../../domain/access.js';
import type { MyOrg } from '../../domain/orgs.js';
import type { AuditEventRow } from '../../db/schema.js';
import { ids } from '../ids.js';
import { type Block, actions, button, context, esc, header, option, section, slackDate } from './kit.js';

export const helpText = [
  '*Roster* — manage your organization from Slack. Commands act on your active organization.',
  '`/org create [name]` create an organization',
  '`/org list` your organizations · `/org switch [slug]` change the active one',
  '`/org members` members · `/org invites` pending invites',
  '`/org invite [emails…] [role]` invite people (no arguments opens a form)',
  '`/org role <@user|email> <role>` change a role · `/org remove <@user|email>` remove someone',
  '`/org billing-emails <@user|email> on|off` who receives billing emails',
  '`/org transfer <@user|email>` hand primary ownership to another owner',
  '`/org leave` leave · `/org rename [name]` rename · `/org delete` delete the organization',
  '`/org join <slug>` ask to join an organization',
  '`/org audit [action] [@user] [since]` the audit log, e.g. `/org audit invite.created 7d`',
  '`/org scim` connect Okta or Entra ID: tokens and group → role mappings (owners)',
  'Members your identity provider manages are changed there; an owner can add `force` to `role`/`remove`.',
  'Roles: owner, admin, billing, developer, member.',
].join('\n');

export function orgListMessage(mine: MyOrg[]): { text: string; blocks: Block[] } {
  if (!mine.length) {
    const text = "You're not in any organization yet. Create one with `/org create <name>` or ask to join with `/org join <slug>`.";
    return { text, blocks: [section(text)] };
  }
  const lines = mine.map(
    (m) => `${m.active ? ':large_green_circle:' : ':white_circle:'} *${esc(m.org.name)}* \`${m.org.slug}\` · ${roleLabels[m.role]}${m.status === 'suspended' ? ' · suspended' : ''}${m.active ? ' · active' : ''}`,
  );
  const blocks = [header('Your organizations'), section(lines.slice(0, 40).join('\n'))];
  if (mine.length > 1) blocks.push(context('Switch with `/org switch <slug>`.'));
  return { text: `You belong to ${mine.length} organization${mine.length === 1 ? '' : 's'}.`, blocks };
}

export type InviteDmData = {
  inviteId: string;
  orgName: string;
  inviterName: string | null;
  role: Role;
  expiresAt: Date | null;
  link: string;
};

export function inviteDm(d: InviteDmData): { text: string; blocks: Block[] } {
  const by = d.inviterName ? `${esc(d.inviterName)} invited you` : "You're invited";
  const text = `${by} to join ${d.orgName} as ${roleLabels[d.role]}.`;
  return {
    text,
    blocks: [
      section(`${by} to join *${esc(d.orgName)}* as *${roleLabels[d.role]}*.`),
      context(d.expiresAt ? `This invite expires ${slackDate(d.expiresAt)}.` : 'This invite does not expire.', `<${d.link}|Open in browser>`),
      actions(
        button('Accept', ids.actions.inviteAccept, d.inviteId, 'primary'),
        button('Decline', ids.actions.inviteDecline, d.inviteId),
      ),
    ],
  };
}

export function inviteDecidedDm(orgName: string, outcome: 'accepted' | 'declined', role?: Role): { text: string; blocks: Block[] } {
  const text =
    outcome === 'accepted'
      ? `:white_check_mark: You joined ${orgName}${role ? ` as ${roleLabels[role]}` : ''}. It is now available in \`/org\` commands.`
      : `You declined the invite to ${orgName}.`;
  return { text, blocks: [section(esc(text).replace(esc(orgName), `*${esc(orgName)}*`))] };
}

export type JoinRequestDmData = {
  requestId: string;
  orgName: string;
  requesterName: string;
  requesterEmail: string | null;
  message: string | null;
  grantable: Role[];
};

export function joinRequestDm(d: JoinRequestDmData): { text: string; blocks: Block[] } {
  const who = `*${esc(d.requesterName)}*${d.requesterEmail ? ` (${esc(d.requesterEmail)})` : ''}`;
  const text = `${d.requesterName} asks to join ${d.orgName}.`;
  const roleOptions = d.grantable.filter((r) => r !== 'owner').map((r) => option(roleLabels[r], r));
  const initial = roleOptions.find((o) => o.value === 'member') ?? roleOptions[0];
  return {
    text,
    blocks: [
      section(`${who} asks to join *${esc(d.orgName)}*.${d.message ? `\n> ${esc(d.message)}` : ''}`),
      {
        type: 'actions',
        block_id: `join:${d.requestId}`,
        elements: [
          { type: 'static_select', action_id: ids.actions.joinRole, options: roleOptions, ...(initial ? { initial_option: initial } : {}) },
          button('Approve', ids.actions.joinApprove, d.requestId, 'primary'),
          button('Deny', ids.actions.joinDeny, d.requestId, 'danger'),
        ],
      },
    ],
  };
}

export function joinRequestDecidedDm(d: { requesterName: string; orgName: string; approved: boolean; role: Role | null; deciderName: string }): { text: string; blocks: Block[] } {
  const text = d.approved
    ? `${d.deciderName} approved ${d.requesterName}'s request to join ${d.orgName} as ${roleLabels[d.role ?? 'member']}.`
    : `${d.deciderName} denied ${d.requesterName}'s request to join ${d.orgName}.`;
  return { text, blocks: [section(`${d.approved ? ':white_check_mark:' : ':no_entry_sign:'} ${esc(text)}`)] };
}

export function auditMessage(orgName: string, events: AuditEventRow[]): { text: string; blocks: Block[] } {
  if (!events.length) return { text: 'No audit events match.', blocks: [section('No audit events match. Try fewer filters, e.g. `/org audit 30d`.')] };
  const lines = events.map((e) => `${slackDate(e.at)} · *${esc(e.action)}* · ${esc(e.actorLabel ?? e.actorType)} · ${esc(e.targetType)}${e.targetId ? ` \`${esc(e.targetId.slice(0, 8))}\`` : ''}`);
  const blocks: Block[] = [header(`Audit log · ${orgName}`)];
  let chunk = '';
  for (const line of lines) {
    if (chunk.length + line.length + 1 > 2900) {
      blocks.push(section(chunk));
      chunk = '';
    }
    chunk += (chunk ? '\n' : '') + line;
  }
  if (chunk) blocks.push(section(chunk));
  blocks.push(context(`Newest ${events.length} shown. Export everything with \`roster audit <org> --format csv\`.`));
  return { text: `${events.length} audit events`, blocks: blocks.slice(0, 50) };
}
