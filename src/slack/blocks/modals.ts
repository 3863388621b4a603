import { initialRole, describeRole, roleOptions, type Role } from '../../domain/access.js';
import { type InviteExpiryChoice, type MyOrg, inviteExpiryChoices, settingsView } from '../../domain/orgs.js';
import type { DomainView } from '../../domain/domains/service.js';
import type { InviteResult } from '../../domain/invites.js';
import type { InviteRow, OrgRow } from '../../db/schema.js';
import { ids } from '../ids.js';
import { domainAddedText } from './domains.js';
import { type Block, context, esc, md, modal, option, plain, section, truncate } from './kit.js';

const input = (blockId: string, label: string, element: Record<string, unknown>, opts: { optional?: boolean; hint?: string } = {}): Block => ({
  type: 'input',
  block_id: blockId,
  label: plain(label, 2000),
  element,
  ...(opts.optional ? { optional: true } : {}),
  ...(opts.hint ? { hint: plain(opts.hint, 2000) } : {}),
});

const textInput = (actionId: string, opts: { placeholder?: string; initial?: string; multiline?: boolean; max?: number } = {}) => ({
  type: 'plain_text_input',
  action_id: actionId,
  ...(opts.multiline ? { multiline: true } : {}),
  ...(opts.placeholder ? { placeholder: plain(opts.placeholder, 150) } : {}),
  ...(opts.initial ? { initial_value: opts.initial } : {}),
  ...(opts.max ? { max_length: opts.max } : {}),
});

function roleSelect(roles: Role[], initial: Role | undefined = initialRole(roles)) {
  const options = roleOptions(roles).map((r) => option(r.label, r.value));
  const init = options.find((o) => o.value === initial) ?? options[options.length - 1];
  return { type: 'static_select', action_id: ids.inputs.role, options, ...(init ? { initial_option: init } : {}) };
}

export function createOrgModal(): Record<string, unknown> {
  return modal({
    callbackId: ids.views.createOrg,
    title: 'Create organization',
    submit: 'Create',
    blocks: [
      input(ids.blocks.orgName, 'Name', textInput(ids.inputs.orgName, { placeholder: 'Acme Inc', max: 80 })),
      input(ids.blocks.orgSlug, 'URL name', textInput(ids.inputs.orgSlug, { placeholder: 'acme-inc', max: 40 }), {
        optional: true,
        hint: 'Lowercase letters, digits and dashes. Leave empty and Roster suggests one from the name.',
      }),
    ],
  });
}

export function switchOrgModal(mine: MyOrg[]): Record<string, unknown> {
  const options = mine.slice(0, 100).map((m) => option(`${m.org.name} (${m.org.slug})`, m.org.id));
  const current = mine.find((m) => m.active);
  return modal({
    callbackId: ids.views.switchOrg,
    title: 'Switch organization',
    submit: 'Switch',
    blocks: [
      input(ids.blocks.orgSelect, 'Organization', {
        type: 'static_select',
        action_id: ids.inputs.orgSelect,
        options,
        ...(current ? { initial_option: options.find((o) => o.value === current.org.id) } : {}),
      }),
    ],
  });
}

export function inviteModal(org: OrgRow, grantable: Role[], initialEmails = ''): Record<string, unknown> {
  return modal({
    callbackId: ids.views.invite,
    title: 'Invite people',
    submit: 'Send invites',
    privateMetadata: JSON.stringify({ orgId: org.id }),
    blocks: [
      section(`Invite people to *${esc(org.name)}*. Each gets an email with a link, and a Slack message if they're in this workspace.`),
      input(
        ids.blocks.emails,
        'Emails',
        textInput(ids.inputs.emails, { multiline: true, placeholder: 'ana@example.com, bo@example.com', initial: initialEmails, max: 3000 }),
        {
          hint: 'Separate emails with spaces, commas or new lines (up to 100).',
        },
      ),
      input(ids.blocks.role, 'Role', roleSelect(grantable)),
      input(
        ids.blocks.billing,
        'Billing',
        { type: 'checkboxes', action_id: ids.inputs.billing, options: [option('Send them billing emails', 'yes')] },
        { optional: true },
      ),
    ],
  });
}

export function inviteResultModal(org: OrgRow, results: InviteResult[]): Record<string, unknown> {
  const ok = results.filter((r) => r.ok);
  const failed = results.filter((r) => !r.ok);
  const blocks: Block[] = [section(`*${ok.length}* invited to *${esc(org.name)}*${failed.length ? `, *${failed.length}* not invited` : ''}.`)];
  const lines = results.map((r) => (r.ok ? `:white_check_mark: ${esc(r.email)}` : `:warning: ${esc(r.email)}: ${esc(r.message)}`));
  // Up to 100 lines: chunk them into sections under the 3000-character limit.
  let chunk = '';
  for (const whole of lines) {
    // One line never fills a section on its own (a 3,000-character paste): cut it, and never push an empty chunk.
    const line = truncate(whole, 1000);
    if (chunk && chunk.length + line.length + 1 > 2900) {
      blocks.push(section(chunk));
      chunk = '';
    }
    chunk += (chunk ? '\n' : '') + line;
  }
  if (chunk) blocks.push(section(chunk));
  if (failed.some((r) => !r.ok && r.code === 'invite_pending')) blocks.push(context('To send a pending invite again, use *Resend* in `/org invites`.'));
  return modal({ callbackId: ids.views.inviteResult, title: 'Invites', blocks });
}

/** Shown at once for a long invite list; the results replace it (views.update) when they are ready. */
export function inviteProgressModal(org: OrgRow, count: number): Record<string, unknown> {
  return modal({
    callbackId: ids.views.inviteResult,
    title: 'Invites',
    blocks: [section(`:hourglass_flowing_sand: Inviting ${count} addresses to *${esc(org.name)}*… The results appear here in a moment.`)],
  });
}

export function changeRoleModal(org: OrgRow, grantable: Role[], initialUser?: string): Record<string, unknown> {
  return modal({
    callbackId: ids.views.changeRole,
    title: 'Change role',
    submit: 'Change role',
    privateMetadata: JSON.stringify({ orgId: org.id }),
    blocks: [
      input(ids.blocks.member, 'Member', { type: 'users_select', action_id: ids.inputs.member, ...(initialUser ? { initial_user: initialUser } : {}) }),
      input(ids.blocks.role, 'New role', roleSelect(grantable)),
    ],
  });
}

/** Member chosen by account (from App Home / members list), not by Slack user. */
export function changeRoleForAccountModal(
  org: OrgRow,
  grantable: Role[],
  member: { accountId: string; displayName: string; role: Role },
): Record<string, unknown> {
  return modal({
    callbackId: ids.views.changeRole,
    title: 'Change role',
    submit: 'Change role',
    privateMetadata: JSON.stringify({ orgId: org.id, accountId: member.accountId }),
    blocks: [
      section(`Change the role of *${esc(member.displayName)}* (now ${describeRole(member.role)}) in *${esc(org.name)}*.`),
      input(ids.blocks.role, 'New role', roleSelect(grantable, member.role)),
    ],
  });
}

/** Confirmation before a member is removed from a menu: nothing happens until Remove is pressed. */
export function removeMemberModal(org: OrgRow, member: { accountId: string; displayName: string }): Record<string, unknown> {
  return modal({
    callbackId: ids.views.removeMember,
    title: 'Remove member',
    submit: 'Remove',
    privateMetadata: JSON.stringify({ orgId: org.id, accountId: member.accountId }),
    blocks: [section(`Remove *${esc(member.displayName)}* from *${esc(org.name)}*? Their access ends now.`)],
  });
}

/** Change the role and billing-email flag of a pending invite (only roles the viewer may grant are offered). */
export function changeInviteModal(invite: Pick<InviteRow, 'id' | 'email' | 'role' | 'billingEmails'>, grantable: Role[]): Record<string, unknown> {
  const billing = option('Send them billing emails', 'yes');
  return modal({
    callbackId: ids.views.inviteChange,
    title: 'Change invite role',
    submit: 'Save',
    privateMetadata: JSON.stringify({ inviteId: invite.id }),
    blocks: [
      section(`Change the invite to *${esc(invite.email)}* (now ${describeRole(invite.role)}${invite.billingEmails ? ', with billing emails' : ''}).`),
      input(ids.blocks.role, 'Role', roleSelect(grantable, invite.role)),
      input(
        ids.blocks.billing,
        'Billing',
        { type: 'checkboxes', action_id: ids.inputs.billing, options: [billing], ...(invite.billingEmails ? { initial_options: [billing] } : {}) },
        { optional: true },
      ),
    ],
  });
}

const inviteExpiryLabels: Record<InviteExpiryChoice, string> = {
  '72h': '72 hours',
  '7d': '7 days',
  '14d': '14 days',
  '30d': '30 days',
  never: 'Never (until used or revoked)',
};

/** Org settings with the current values filled in. */
export function settingsModal(org: OrgRow): Record<string, unknown> {
  const current = settingsView(org);
  const expiryOptions = (Object.keys(inviteExpiryChoices) as InviteExpiryChoice[]).map((k) => option(inviteExpiryLabels[k], k));
  return modal({
    callbackId: ids.views.settings,
    title: 'Organization settings',
    submit: 'Save',
    privateMetadata: JSON.stringify({ orgId: org.id }),
    blocks: [
      section(`Settings of *${esc(org.name)}*. A new expiry applies to invites sent (or resent) from now on.`),
      input(ids.blocks.inviteExpiry, 'Invites expire after', {
        type: 'static_select',
        action_id: ids.inputs.inviteExpiry,
        options: expiryOptions,
        initial_option: expiryOptions.find((o) => o.value === current.inviteExpiry),
      }),
      input(
        ids.blocks.reminders,
        'Reminders (hours before expiry)',
        textInput(ids.inputs.reminders, { placeholder: '72, 24', initial: current.reminderHours.join(', '), max: 100 }),
        { optional: true, hint: 'Whole hours before an invite expires, separated by commas, e.g. 72, 24. Leave empty for no reminders.' },
      ),
      input(
        ids.blocks.seatLimit,
        'Seat limit',
        {
          type: 'number_input',
          action_id: ids.inputs.seatLimit,
          is_decimal_allowed: false,
          ...(current.seatLimit !== null ? { initial_value: String(current.seatLimit) } : {}),
        },
        { optional: true, hint: 'Members plus pending invites may not exceed it. Leave empty for no limit.' },
      ),
    ],
  });
}

/** What was saved, in words (the settings modal turns into this). */
export function settingsSavedModal(org: OrgRow): Record<string, unknown> {
  const s = settingsView(org);
  const lines = [
    `Saved the settings of *${esc(org.name)}*:`,
    `• Invites ${s.inviteExpiry === 'never' ? 'never expire' : `expire after ${inviteExpiryLabels[s.inviteExpiry]}`}`,
    `• ${s.reminderHours.length ? `Reminders ${s.reminderHours.map((h) => `${h} h`).join(', ')} before expiry` : 'No reminders'}`,
    `• ${s.seatLimit === null ? 'No seat limit' : `Seat limit: ${s.seatLimit} (members and pending invites)`}`,
  ];
  return infoModal('Settings saved', lines.join('\n'));
}

export function leaveModal(org: OrgRow): Record<string, unknown> {
  return modal({
    callbackId: ids.views.leave,
    title: 'Leave organization',
    submit: 'Leave',
    privateMetadata: JSON.stringify({ orgId: org.id }),
    blocks: [section(`Leave *${esc(org.name)}*? You lose access at once, and someone will have to invite you again.`)],
  });
}

export function renameModal(org: OrgRow): Record<string, unknown> {
  return modal({
    callbackId: ids.views.rename,
    title: 'Rename organization',
    submit: 'Rename',
    privateMetadata: JSON.stringify({ orgId: org.id }),
    blocks: [input(ids.blocks.orgName, 'New name', textInput(ids.inputs.orgName, { initial: org.name, max: 80 }))],
  });
}

export function deleteOrgModal(org: OrgRow): Record<string, unknown> {
  return modal({
    callbackId: ids.views.deleteOrg,
    title: 'Delete organization',
    submit: 'Delete',
    privateMetadata: JSON.stringify({ orgId: org.id }),
    blocks: [
      section(`:warning: This deletes *${esc(org.name)}*: every membership, pending invite and SCIM token. The audit log is kept. This cannot be undone.`),
      input(ids.blocks.confirmName, `Type the organization name (${org.name}) to confirm`, textInput(ids.inputs.confirmName, { max: 200 })),
    ],
  });
}

/** `/org domains add` with no domain: asks for it; the record to publish replaces the form. */
export function addDomainModal(org: OrgRow): Record<string, unknown> {
  return modal({
    callbackId: ids.views.addDomain,
    title: 'Add a domain',
    submit: 'Add',
    privateMetadata: JSON.stringify({ orgId: org.id }),
    blocks: [
      section(`Add an email domain to *${esc(org.name)}*. You will get a DNS record to publish, which proves you control the domain.`),
      input(ids.blocks.domain, 'Domain', textInput(ids.inputs.domain, { placeholder: 'acme.com', max: 253 }), {
        hint: 'The part of your work emails after the @. Free-mail and disposable domains cannot be claimed.',
      }),
    ],
  });
}

export function domainAddedModal(orgName: string, v: DomainView): Record<string, unknown> {
  return modal({ callbackId: ids.views.domainAdded, title: 'Domain added', blocks: [section(domainAddedText(orgName, v))] });
}

/** Opened at once with a trigger_id, then replaced (views.update) by the form or the answer. */
export function loadingModal(): Record<string, unknown> {
  return modal({ callbackId: ids.views.loading, title: 'Roster', blocks: [{ type: 'section', text: md(':hourglass_flowing_sand: Loading…') }] });
}

/** A message in a modal; `blocks` (e.g. with buttons) instead of the plain text when given. */
export function infoModal(title: string, text: string, blocks?: Block[]): Record<string, unknown> {
  return modal({ callbackId: ids.views.info, title, blocks: blocks?.length ? blocks : [{ type: 'section', text: md(text) }] });
}
