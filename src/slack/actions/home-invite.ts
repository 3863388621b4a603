import { authorize, grantableRoles } from '../../domain/access.js';
import { inviteModal } from '../blocks/modals.js';
import { type ActionCtx, openModal } from './types.js';

export async function homeInvite(a: ActionCtx) {
  const current = await a.deps.domain.orgs.active(a.me.actor);
  // A stale App Home can still show the button to someone who lost the right: refuse instead of an empty role list.
  authorize(current, 'member:invite');
  await openModal(a, inviteModal(current.org, grantableRoles(current.role)));
}
