import { defaultRole, parseRole } from '../../domain/access.js';
import { inviteResultModal } from '../blocks/modals.js';
import { publishHome } from '../home.js';
import { ids } from '../ids.js';
import { checked, selected, text } from './form.js';
import { orgMetadata } from './metadata.js';
import type { ViewCtx } from './types.js';

/** The invite form: the per-address results replace it; the emails go out right after. */
export async function inviteSubmit({ deps, values, view, me, ack, client }: ViewCtx) {
  const { orgId } = orgMetadata(view);
  const org = await deps.domain.orgs.get(me.actor, orgId);
  const results = await deps.domain.invites.create(me.actor, orgId, {
    emails: text(values, ids.blocks.emails, ids.inputs.emails),
    role: parseRole(selected(values, ids.blocks.role, ids.inputs.role) || defaultRole),
    billingEmails: checked(values, ids.blocks.billing, ids.inputs.billing),
  });
  await ack({ response_action: 'update', view: inviteResultModal(org, results) });
  deps.kickOutbox();
  await publishHome(deps, client, me);
}
