import { defaultRole, describeRole, exampleRole, grantableRoles, roleList, whoMay } from '../../domain/access.js';
import type { InviteResult } from '../../domain/invites.js';
import type { OrgRow } from '../../db/schema.js';
import { esc } from '../blocks/kit.js';
import { pendingInvitesReply } from '../invites-list.js';
import { inviteModal } from '../blocks/modals.js';
import { parseInviteArgs } from '../parse.js';
import { fail } from '../../domain/errors.js';
import { type CommandCtx, openModal, say } from './types.js';

export async function invite(c: CommandCtx) {
  const { org, role } = await c.deps.domain.orgs.active(c.me.actor);
  const parsed = parseInviteArgs(c.args);
  if (!parsed.emails.length) {
    const grantable = grantableRoles(role);
    if (!grantable.length) fail('forbidden', `Only ${whoMay('member:invite')} can invite people to ${org.name}. Your role is ${describeRole(role)}.`);
    await openModal(c, inviteModal(org, grantable));
    return;
  }
  if (parsed.unknown.length) {
    fail(
      'invalid_input',
      `I didn't understand "${parsed.unknown.join(' ')}". Use \`/org invite ana@example.com bo@example.com ${exampleRole}\`. Roles: ${roleList()}.`,
    );
  }
  const results = await c.deps.domain.invites.create(c.me.actor, org.id, {
    emails: parsed.emails,
    role: parsed.role ?? defaultRole,
    billingEmails: parsed.billingEmails,
  });
  c.deps.kickOutbox();
  await say(c, summarize(org, results));
}

function summarize(org: OrgRow, results: InviteResult[]): string {
  const lines = results.map((r) =>
    r.ok ? `:white_check_mark: ${esc(r.email)} invited as ${describeRole(r.invite.role)}` : `:warning: ${esc(r.email)}: ${esc(r.message)}`,
  );
  const ok = results.filter((r) => r.ok).length;
  return `*${esc(org.name)}*: ${ok} of ${results.length} invited.\n${lines.join('\n')}`.slice(0, 3900);
}

export async function invites(c: CommandCtx) {
  const { org } = await c.deps.domain.orgs.active(c.me.actor);
  const reply = await pendingInvitesReply(c.deps, c.me, org.id);
  await say(c, reply.text, reply.blocks);
}
