import type { InviteExpiryChoice } from '../../domain/orgs.js';
import { settingsSavedModal } from '../blocks/modals.js';
import { ids } from '../ids.js';
import { parseReminderHours, parseSeatLimit } from '../parse.js';
import { selected, text } from './form.js';
import { orgMetadata } from './metadata.js';
import type { ViewCtx } from './types.js';

/** Reminders or a seat limit that do not read as numbers are refused on their own field, before the domain is asked. */
export async function settings({ deps, values, view, me, ack }: ViewCtx) {
  const reminderHours = parseReminderHours(text(values, ids.blocks.reminders, ids.inputs.reminders));
  const seatLimit = parseSeatLimit(text(values, ids.blocks.seatLimit, ids.inputs.seatLimit));
  const errors: Record<string, string> = {};
  if (reminderHours === undefined)
    errors[ids.blocks.reminders] = 'Write whole hours before expiry separated by commas, e.g. 72, 24. Leave it empty for no reminders.';
  if (seatLimit === undefined) errors[ids.blocks.seatLimit] = 'Write a whole number, or leave it empty for no seat limit.';
  if (reminderHours === undefined || seatLimit === undefined) {
    await ack({ response_action: 'errors', errors });
    return;
  }
  const after = await deps.domain.orgs.updateSettings(me.actor, orgMetadata(view).orgId, {
    // The select offers only the domain's choices; anything else is refused there.
    inviteExpiry: selected(values, ids.blocks.inviteExpiry, ids.inputs.inviteExpiry) as InviteExpiryChoice,
    reminderHours,
    seatLimit,
  });
  await ack({ response_action: 'update', view: settingsSavedModal(after) });
}
