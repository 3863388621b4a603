import type { App } from '@slack/bolt';
import { isDomainError } from '../../domain/errors.js';
import { personOfInteraction } from '../actor.js';
import type { SlackDeps } from '../context.js';
import { infoModal } from '../blocks/modals.js';
import { ids } from '../ids.js';
import { errorText } from '../reply.js';
import { addDomain } from './add-domain.js';
import { changeRole } from './change-role.js';
import { createOrg } from './create-org.js';
import { deleteOrg } from './delete-org.js';
import { fieldError } from './field-errors.js';
import { inviteChange } from './invite-change.js';
import { inviteSubmit } from './invite-submit.js';
import { joinDeny } from './join-deny.js';
import { leave } from './leave.js';
import { removeMember } from './remove-member.js';
import { rename } from './rename.js';
import { settings } from './settings.js';
import { switchOrg } from './switch-org.js';
import type { ViewAck, ViewHandler } from './types.js';

/** callback_id, the block a refusal shows on ('' : no field, the modal explains), and the handler. */
const views: [string, string, ViewHandler][] = [
  [ids.views.createOrg, ids.blocks.orgName, createOrg],
  [ids.views.switchOrg, ids.blocks.orgSelect, switchOrg],
  [ids.views.invite, ids.blocks.emails, inviteSubmit],
  [ids.views.changeRole, ids.blocks.role, changeRole],
  [ids.views.removeMember, '', removeMember],
  [ids.views.inviteChange, ids.blocks.role, inviteChange],
  [ids.views.settings, ids.blocks.inviteExpiry, settings],
  [ids.views.leave, '', leave],
  [ids.views.rename, ids.blocks.orgName, rename],
  [ids.views.deleteOrg, ids.blocks.confirmName, deleteOrg],
  [ids.views.joinDeny, ids.blocks.reason, joinDeny],
  [ids.views.addDomain, ids.blocks.domain, addDomain],
];

/**
 * Modal submissions. The domain call runs before ack() here, so a refusal shows on the form field it
 * concerns (Slack allows 3 seconds; these calls take milliseconds). Slow follow-ups run after ack().
 */
export function registerViews(app: App, deps: SlackDeps) {
  for (const [callbackId, errorBlock, run] of views) {
    app.view(callbackId, async ({ ack, body, view, client, context }) => {
      const respondAck = ack as unknown as ViewAck;
      let acked = false;
      const once: ViewAck = async (r) => {
        acked = true;
        await respondAck(r);
      };
      try {
        const me = await personOfInteraction(deps, client, body, context);
        await run({ deps, values: view.state.values, view, me, ack: once, client });
        // Whatever the change told someone (a role changed, a member removed) goes out now, not at the next poll.
        deps.kickOutbox();
      } catch (err) {
        const message = errorText(err, deps.log);
        if (!acked) {
          // Field errors are plain text (no escaping); the info modal is mrkdwn (errorText escaped it).
          const field = isDomainError(err) && errorBlock ? fieldError(err, errorBlock, view.state.values) : undefined;
          await once(
            field
              ? { response_action: 'errors', errors: { [field.block]: field.message.slice(0, 150) } }
              : { response_action: 'update', view: infoModal('Roster', message) },
          );
        } else {
          await client.chat.postMessage({ channel: body.user.id, text: message }).catch(() => {});
        }
      }
    });
  }
}
