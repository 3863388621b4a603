import { describeRole } from '../../domain/access.js';
import { esc } from '../blocks/kit.js';
import { infoModal } from '../blocks/modals.js';
import { publishHome } from '../home.js';
import { ids } from '../ids.js';
import { checked, selected } from './form.js';
import { inviteMetadata } from './metadata.js';
import type { ViewCtx } from './types.js';

/** Change a pending invite's role or billing emails. */
export async function inviteChange({ deps, values, view, me, ack, client }: ViewCtx) {
  const role = selected(values, ids.blocks.role, ids.inputs.role);
  const billingEmails = checked(values, ids.blocks.billing, ids.inputs.billing);
  const after = await deps.domain.invites.update(me.actor, inviteMetadata(view).inviteId, { ...(role ? { role } : {}), billingEmails });
  await ack({
    response_action: 'update',
    view: infoModal(
      'Invite updated',
      `The invite to *${esc(after.email)}* is now for ${describeRole(after.role)}, ${after.billingEmails ? 'with' : 'without'} billing emails.`,
    ),
  });
  await publishHome(deps, client, me);
}
