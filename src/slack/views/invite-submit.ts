import { defaultRole, parseRole } from '../../domain/access.js';
import { infoModal, inviteProgressModal, inviteResultModal } from '../blocks/modals.js';
import { publishHome } from '../home.js';
import { ids } from '../ids.js';
import { errorText } from '../reply.js';
import { esc } from '../blocks/kit.js';
import { checked, selected, text } from './form.js';
import { orgMetadata } from './metadata.js';
import type { ViewCtx } from './types.js';

/** Above this many addresses the form is answered at once with a progress view, and the results follow. */
const ANSWER_FIRST_FROM = 10;

/**
 * The invite form: the per-address results replace it; the emails go out right after. A long list is
 * acked first ("Inviting 100 people…") and the results replace that view when ready, so the
 * submission never runs past Slack's 3 seconds however many addresses were pasted.
 */
export async function inviteSubmit({ deps, values, view, me, ack, client }: ViewCtx) {
  const { orgId } = orgMetadata(view);
  const org = await deps.domain.orgs.get(me.actor, orgId);
  const emails = text(values, ids.blocks.emails, ids.inputs.emails);
  const input = {
    emails,
    role: parseRole(selected(values, ids.blocks.role, ids.inputs.role) || defaultRole),
    billingEmails: checked(values, ids.blocks.billing, ids.inputs.billing),
  };
  const count = emails.split(/[\s,;]+/).filter(Boolean).length;
  if (count <= ANSWER_FIRST_FROM) {
    const results = await deps.domain.invites.create(me.actor, orgId, input);
    await ack({ response_action: 'update', view: inviteResultModal(org, results) });
  } else {
    await ack({ response_action: 'update', view: inviteProgressModal(org, count) });
    const outcome = await deps.domain.invites.create(me.actor, orgId, input).then(
      (results) => ({
        view: inviteResultModal(org, results),
        text: `${results.filter((r) => r.ok).length} of ${results.length} invited to *${esc(org.name)}*.`,
      }),
      (err: unknown) => {
        const text = errorText(err, deps.log);
        return { view: infoModal('Roster', text), text };
      },
    );
    deps.kickOutbox();
    // Closed while it ran: the summary comes as a DM instead.
    await client.views
      .update({ view_id: view.id, view: outcome.view as never })
      .catch(() => client.chat.postMessage({ channel: me.userId, text: outcome.text }));
  }
  deps.kickOutbox();
  await publishHome(deps, client, me);
}
