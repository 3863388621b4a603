import { can, describeRole, whoMay } from '../domain/access.js';
import { fail } from '../domain/errors.js';
import { context, esc } from './blocks/kit.js';
import { invitesMessage } from './blocks/members.js';
import type { SlackPerson } from './actor.js';
import type { SlackDeps } from './context.js';

/**
 * An org's pending invites as `/org invites` shows them, with `note` (what was just done) on top: the
 * command draws it, and a revoke from its menu redraws it, so the list never shows a revoked invite.
 */
export async function pendingInvitesReply(deps: SlackDeps, me: SlackPerson, orgId: string, note?: string): Promise<{ text: string; blocks: unknown[] }> {
  const mine = await deps.domain.orgs.listMine(me.actor);
  const m = mine.find((x) => x.org.id === orgId) ?? fail('not_a_member');
  // The domain's refusal speaks of inviting; here the person asked to see the list, so say that.
  if (!can(m.role, 'member:invite'))
    fail('forbidden', `Only ${whoMay('member:invite')} can see the pending invites of ${m.org.name}. Your role is ${describeRole(m.role)}.`);
  const pending = await deps.domain.invites.listPending(me.actor, orgId);
  const viewer = { accountId: me.account.id, role: m.role, isPrimaryOwner: m.org.primaryOwnerId === me.account.id };
  const text = `${esc(m.org.name)} has ${pending.length} pending invite${pending.length === 1 ? '' : 's'}.`;
  return { text: note ? `${note} ${text}` : text, blocks: [...(note ? [context(note)] : []), ...invitesMessage(m.org, viewer, pending)] };
}
