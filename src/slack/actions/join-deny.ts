import { esc, modal, section } from '../blocks/kit.js';
import { ids } from '../ids.js';
import { announceJoinDecision } from '../join-decisions.js';
import { joinDenyMetadata } from '../views/metadata.js';
import { buttonValue } from './metadata.js';
import { type ActionCtx, openModal, tell } from './types.js';

/** Deny asks for an optional reason first; a request someone already decided only refreshes its message. */
export async function joinDeny(a: ActionCtx) {
  const requestId = buttonValue(a.action);
  const req = await a.deps.domain.joinRequests.get(a.me.actor, requestId);
  if (req.status !== 'pending') {
    await announceJoinDecision(a.deps, a.client, a.me, requestId);
    await tell(a, `That request was already ${req.status}.`);
    return;
  }
  await openModal(
    a,
    modal({
      callbackId: ids.views.joinDeny,
      title: 'Deny request',
      submit: 'Deny',
      privateMetadata: joinDenyMetadata(requestId),
      blocks: [
        section(`Deny *${esc(req.requesterName)}*'s request to join?`),
        {
          type: 'input',
          block_id: ids.blocks.reason,
          optional: true,
          label: { type: 'plain_text', text: 'Reason (they will see it)' },
          element: { type: 'plain_text_input', action_id: ids.inputs.reason, multiline: true, max_length: 500 },
        },
      ],
    }),
  );
}
