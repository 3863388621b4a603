import { grantableRoles, describeRole } from '../../domain/access.js';
import { fail } from '../../domain/errors.js';
import type { MyOrg } from '../../domain/orgs.js';
import { esc } from '../blocks/kit.js';
import { orgOfMemberBlock } from '../blocks/members.js';
import { changeRoleForAccountModal, removeMemberModal } from '../blocks/modals.js';
import { menuChoice } from './metadata.js';
import { type ActionCtx, done, openModal } from './types.js';

/** A member row's menu, in App Home or in `/org members`. */
export async function memberMenu(a: ActionCtx) {
  const picked = menuChoice(a.action);
  if (!picked) return;
  const { domain } = a.deps;
  const current = await menuOrg(a);
  const orgId = current.org.id;
  switch (picked.verb) {
    case 'role': {
      // The member must be in that org (as the clicker sees it); whether the clicker may change their
      // role is the domain's decision at submission. Only a role select with no options is caught
      // here: Slack refuses such a form, so say why instead.
      const m = await domain.members.find(a.me.actor, orgId, { accountId: picked.id });
      const grantable = grantableRoles(current.role);
      if (!grantable.length)
        fail('forbidden', `You don't have permission to change members' roles in ${current.org.name}. Your role is ${describeRole(current.role)}.`);
      await openModal(a, changeRoleForAccountModal(current.org, grantable, m));
      return;
    }
    case 'remove': {
      // Removal ends access at once: ask first. The domain decides when Remove is pressed.
      const m = await domain.members.find(a.me.actor, orgId, { accountId: picked.id });
      await openModal(a, removeMemberModal(current.org, m));
      return;
    }
    case 'billing_on':
    case 'billing_off': {
      const m = await domain.members.setBillingEmails(a.me.actor, orgId, picked.id, picked.verb === 'billing_on');
      await done(a, `*${esc(m.displayName)}* ${m.billingEmails ? 'now receives' : 'no longer receives'} billing emails.`);
      return;
    }
    default:
      return;
  }
}

/** The org a member row was rendered for (its block_id); the active org for rows without one. */
async function menuOrg(a: ActionCtx): Promise<MyOrg> {
  const { domain } = a.deps;
  const orgId = orgOfMemberBlock(a.action.block_id);
  if (!orgId) return domain.orgs.active(a.me.actor);
  const mine = await domain.orgs.listMine(a.me.actor);
  return mine.find((m) => m.org.id === orgId) ?? fail('not_a_member');
}
