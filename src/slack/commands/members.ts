import { aRole, describeRole, exampleRole, ownerRole, parseRole, roleList, whoMay } from '../../domain/access.js';
import { fail } from '../../domain/errors.js';
import { targetMember } from '../actor.js';
import { esc } from '../blocks/kit.js';
import { membersMessage } from '../blocks/members.js';
import { changeRoleModal, leaveModal } from '../blocks/modals.js';
import { grantableRoles } from '../../domain/access.js';
import { parseTarget } from '../parse.js';
import { type CommandCtx, openModal, say } from './types.js';

async function activeViewer(c: CommandCtx) {
  const current = await c.deps.domain.orgs.active(c.me.actor);
  const viewer = { accountId: c.me.account.id, role: current.role, isPrimaryOwner: current.org.primaryOwnerId === c.me.account.id };
  return { ...current, viewer };
}

export async function members(c: CommandCtx) {
  const { org, viewer } = await activeViewer(c);
  const [list, total] = await Promise.all([c.deps.domain.members.list(c.me.actor, org.id, { limit: 47 }), c.deps.domain.members.count(c.me.actor, org.id)]);
  // The fallback text is mrkdwn too: the name is escaped so it can never become a mention.
  await say(c, `${esc(org.name)} has ${total} member${total === 1 ? '' : 's'}.`, membersMessage(org, viewer, list, total));
}

export async function role(c: CommandCtx) {
  const { org, role: myRole } = await c.deps.domain.orgs.active(c.me.actor);
  if (!c.args.length) {
    // A role select with no options is an invalid view: Slack would refuse it and the person would get
    // a generic error. Say why instead, like `/org invite` does.
    const grantable = grantableRoles(myRole);
    if (!grantable.length) fail('forbidden', `Only ${whoMay('member:update')} can change roles in ${org.name}. Your role is ${describeRole(myRole)}.`);
    await openModal(c, changeRoleModal(org, grantable));
    return;
  }
  const force = c.args.some((a) => a.toLowerCase() === 'force');
  const [who, newRole] = c.args.filter((a) => a.toLowerCase() !== 'force');
  if (!newRole) fail('invalid_input', `Say which role: \`/org role @ana ${exampleRole}\`. Roles: ${roleList()}.`);
  const r = parseRole(newRole);
  const target = await targetMember(c.deps.domain, c.client, c.me, org.id, parseTarget(who));
  const after = await c.deps.domain.members.changeRole(c.me.actor, org.id, target.accountId, r, { force });
  await say(c, `*${esc(after.displayName)}* is now ${describeRole(after.role)} in *${esc(org.name)}*.`);
}

export async function remove(c: CommandCtx) {
  const { org } = await c.deps.domain.orgs.active(c.me.actor);
  const force = c.args.some((a) => a.toLowerCase() === 'force');
  const who = c.args.find((a) => a.toLowerCase() !== 'force');
  if (!who) fail('invalid_input', 'Say who to remove: `/org remove @ana` or `/org remove ana@example.com`.');
  const target = await targetMember(c.deps.domain, c.client, c.me, org.id, parseTarget(who));
  await c.deps.domain.members.remove(c.me.actor, org.id, target.accountId, { force });
  await say(c, `Removed *${esc(target.displayName)}* from *${esc(org.name)}*. Their access ended now.`);
}

export async function leave(c: CommandCtx) {
  const { org } = await c.deps.domain.orgs.active(c.me.actor);
  // Primary owner, last owner, sole member: said in the first view, not after the confirm button.
  await c.deps.domain.members.assertMayLeave(c.me.actor, org.id);
  await openModal(c, leaveModal(org));
}

export async function billingEmails(c: CommandCtx) {
  const { org } = await c.deps.domain.orgs.active(c.me.actor);
  const [who, onOff] = c.args;
  const on = onOff?.toLowerCase() === 'on' ? true : onOff?.toLowerCase() === 'off' ? false : undefined;
  if (!who || on === undefined) fail('invalid_input', 'Use `/org billing-emails @ana on` or `/org billing-emails @ana off`.');
  const target = await targetMember(c.deps.domain, c.client, c.me, org.id, parseTarget(who));
  const after = await c.deps.domain.members.setBillingEmails(c.me.actor, org.id, target.accountId, on);
  await say(c, `*${esc(after.displayName)}* ${on ? 'now receives' : 'no longer receives'} billing emails for *${esc(org.name)}*.`);
}

export async function transfer(c: CommandCtx) {
  const { org } = await c.deps.domain.orgs.active(c.me.actor);
  if (!c.args[0]) fail('invalid_input', `Say who becomes primary owner: \`/org transfer @ana\` (they must already be ${aRole(ownerRole)}).`);
  const target = await targetMember(c.deps.domain, c.client, c.me, org.id, parseTarget(c.args[0]));
  await c.deps.domain.members.transferPrimaryOwnership(c.me.actor, org.id, target.accountId);
  await say(c, `*${esc(target.displayName)}* is now the primary owner of *${esc(org.name)}*.`);
}
