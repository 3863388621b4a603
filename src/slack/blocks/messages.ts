import { defaultRole, initialRole, describeRole, oneWhoMay, roleList, roleOptions, whoMay, type Role } from '../../domain/access.js';
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
  `\`/org settings\` invite expiry, reminders and seat limit (${whoMay('org:update')})`,
  '`/org profile [name]` show or change your display name',
  '`/org join <slug>` ask to join an organization',
  '`/org audit [action] [@user] [since]` the audit log, e.g. `/org audit invite.created 7d`',
  `\`/org domains\` verified email domains: add, verify with a DNS record, and how people on them may join (${whoMay('domain:manage')})`,
  `\`/org scim\` connect Okta or Entra ID: tokens and group → role mappings (${whoMay('scim:manage')})`,
  `\`/org api-keys\` keys for your product to call Roster's API (${whoMay('api:manage')})`,
  `\`/org webhooks\` send your organization's events to your product, signed (${whoMay('api:manage')})`,
  `Members your identity provider manages are changed there; ${oneWhoMay('scim:manage')} can add \`force\` to \`role\`/\`remove\`.`,
  `Roles: ${roleList()}.`,
].join('\n');

/**
 * Said to someone whose Slack email Roster did not link to an account (Slack has not confirmed it, or
 * they are a guest or an external user): what Roster did, and what follows from it.
 */
export const emailNotLinkedNote =
  ":information_source: Roster doesn't use the email in your Slack profile (Slack hasn't confirmed it, or you're a guest or from another workspace), so you have a separate Roster account here: invites sent to your address don't show in Slack. Open them from the invite email instead.";

export function orgListMessage(mine: MyOrg[], opts: { emailKnown?: boolean } = {}): { text: string; blocks: Block[] } {
  const note = opts.emailKnown === false ? [context(emailNotLinkedNote)] : [];
  if (!mine.length) {
    const text = "You're not in any organization yet. Create one with `/org create <name>` or ask to join with `/org join <slug>`.";
    return { text, blocks: [section(text), ...note] };
  }
  const lines = mine.map(
    (m) =>
      `${m.active ? ':large_green_circle:' : ':white_circle:'} *${esc(m.org.name)}* \`${m.org.slug}\` · ${describeRole(m.role)}${m.status === 'suspended' ? ' · suspended' : ''}${m.status === 'pending' ? ' · waiting for you to accept (see App Home)' : ''}${m.active ? ' · active' : ''}`,
  );
  const blocks = [header('Your organizations'), section(lines.slice(0, 40).join('\n'))];
  if (mine.length > 1) blocks.push(context('Switch with `/org switch <slug>`.'));
  blocks.push(...note);
  return { text: `You belong to ${mine.length} organization${mine.length === 1 ? '' : 's'}.`, blocks };
}

type InviteDmData = {
  inviteId: string;
  orgName: string;
  inviterName: string | null;
  role: Role;
  expiresAt: Date | null;
  link: string;
};

export function inviteDm(d: InviteDmData): { text: string; blocks: Block[] } {
  const by = d.inviterName ? `${esc(d.inviterName)} invited you` : "You're invited";
  // The fallback text is parsed for mentions too (notifications): names are escaped there as well.
  const text = `${by} to join ${esc(d.orgName)} as ${describeRole(d.role)}.`;
  return {
    text,
    blocks: [
      section(`${by} to join *${esc(d.orgName)}* as *${describeRole(d.role)}*.`),
      context(d.expiresAt ? `This invite expires ${slackDate(d.expiresAt)}.` : 'This invite does not expire.', `<${d.link}|Open in browser>`),
      actions(button('Accept', ids.actions.inviteAccept, d.inviteId, 'primary'), button('Decline', ids.actions.inviteDecline, d.inviteId)),
    ],
  };
}

type ConsentDmData = { orgId: string; orgName: string; idp: string | null; email: string; role: Role; link: string };

/** Another org's IdP wants to add this person: Accept / Decline (the org id is the buttons' value). */
export function consentDm(d: ConsentDmData): { text: string; blocks: Block[] } {
  const org = esc(d.orgName);
  const text = `${org}'s identity provider wants to add you (${esc(d.email)}) to ${org} as ${describeRole(d.role)}. Accept or decline.`;
  return {
    text,
    blocks: [
      section(
        `The identity provider of *${org}*${d.idp ? ` (${esc(d.idp)})` : ''} asked Roster to add you (${esc(d.email)}) to *${org}* as *${describeRole(d.role)}*.`,
      ),
      context(
        `Your address is not on a domain ${org} has verified, so you join only if you accept. If you don't know ${org}, decline.`,
        `<${d.link}|Open in browser>`,
      ),
      actions(button('Accept', ids.actions.consentAccept, d.orgId, 'primary'), button('Decline', ids.actions.consentDecline, d.orgId)),
    ],
  };
}

export function consentAnsweredDm(orgName: string, how: 'accepted' | 'declined'): { text: string; blocks: Block[] } {
  const say = (org: string) =>
    how === 'accepted'
      ? `:white_check_mark: You joined ${org}. It is now available in \`/org\` commands.`
      : `You declined. ${org} does not get you as a member, and its identity provider cannot add you again without asking.`;
  return { text: say(esc(orgName)), blocks: [section(say(`*${esc(orgName)}*`))] };
}

export function inviteDecidedDm(orgName: string, outcome: 'accepted' | 'declined', role?: Role): { text: string; blocks: Block[] } {
  // Escaped once here: the fallback text is parsed for mentions like the blocks are.
  const name = esc(orgName);
  const say = (org: string) =>
    outcome === 'accepted'
      ? `:white_check_mark: You joined ${org}${role ? ` as ${describeRole(role)}` : ''}. It is now available in \`/org\` commands.`
      : `You declined the invite to ${org}.`;
  return { text: say(name), blocks: [section(say(`*${name}*`))] };
}

type JoinRequestDmData = {
  requestId: string;
  orgName: string;
  requesterName: string;
  requesterEmail: string | null;
  message: string | null;
  /** The roles this approver may approve the request as (access.ts joinApprovalRoles). */
  roles: Role[];
};

export function joinRequestDm(d: JoinRequestDmData): { text: string; blocks: Block[] } {
  const who = `*${esc(d.requesterName)}*${d.requesterEmail ? ` (${esc(d.requesterEmail)})` : ''}`;
  const text = `${esc(d.requesterName)} asks to join ${esc(d.orgName)}.`;
  const choices = roleOptions(d.roles).map((r) => option(r.label, r.value));
  const initial = choices.find((o) => o.value === initialRole(d.roles));
  return {
    text,
    blocks: [
      section(`${who} asks to join *${esc(d.orgName)}*.${d.message ? `\n> ${esc(d.message)}` : ''}`),
      {
        type: 'actions',
        block_id: `join:${d.requestId}`,
        elements: [
          { type: 'static_select', action_id: ids.actions.joinRole, options: choices, ...(initial ? { initial_option: initial } : {}) },
          button('Approve', ids.actions.joinApprove, d.requestId, 'primary'),
          button('Deny', ids.actions.joinDeny, d.requestId, 'danger'),
        ],
      },
    ],
  };
}

export function joinRequestDecidedDm(d: { requesterName: string; orgName: string; approved: boolean; role: Role | null; deciderName: string }): {
  text: string;
  blocks: Block[];
} {
  // Names escaped in the fallback text too: it is parsed for mentions like the blocks are.
  const [decider, requester, org] = [esc(d.deciderName), esc(d.requesterName), esc(d.orgName)];
  const text = d.approved
    ? `${decider} approved ${requester}'s request to join ${org} as ${describeRole(d.role ?? defaultRole)}.`
    : `${decider} denied ${requester}'s request to join ${org}.`;
  return { text, blocks: [section(`${d.approved ? ':white_check_mark:' : ':no_entry_sign:'} ${text}`)] };
}

export function auditMessage(orgName: string, events: AuditEventRow[]): { text: string; blocks: Block[] } {
  if (!events.length) return { text: 'No audit events match.', blocks: [section('No audit events match. Try fewer filters, e.g. `/org audit 30d`.')] };
  const lines = events.map(
    (e) =>
      `${slackDate(e.at)} · *${esc(e.action)}* · ${esc(e.actorLabel ?? e.actorType)} · ${esc(e.targetType)}${e.targetId ? ` \`${esc(e.targetId.slice(0, 8))}\`` : ''}`,
  );
  const blocks: Block[] = [header(`Audit log · ${orgName}`)];
  // Header + sections + closing context ≤ 50 blocks: lines that don't fit are left out and the footer says so.
  const maxSections = 50 - 2;
  let chunk = '';
  let shown = 0;
  let inChunk = 0;
  for (const line of lines) {
    if (chunk.length + line.length + 1 > 2900) {
      blocks.push(section(chunk));
      shown += inChunk;
      chunk = '';
      inChunk = 0;
      if (blocks.length - 1 >= maxSections) break;
    }
    chunk += (chunk ? '\n' : '') + line;
    inChunk++;
  }
  if (chunk) {
    blocks.push(section(chunk));
    shown += inChunk;
  }
  const footer = shown < events.length ? `Newest ${shown} of ${events.length} shown.` : `Newest ${shown} shown.`;
  blocks.push(context(`${footer} Export everything with \`roster audit <org> --format csv\`.`));
  return { text: `${events.length} audit event${events.length === 1 ? '' : 's'}`, blocks };
}
