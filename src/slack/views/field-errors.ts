import type { DomainError } from '../../domain/errors.js';
import { ids } from '../ids.js';
import type { Values } from './form.js';

/** The domain names a settings field in its message ("seatLimit: …", "reminderHours.0: …"). */
const settingsFields: Record<string, string> = {
  inviteExpiry: ids.blocks.inviteExpiry,
  reminderHours: ids.blocks.reminders,
  seatLimit: ids.blocks.seatLimit,
};

/** Field errors go where the person can fix them. */
export function fieldError(err: DomainError, fallback: string, values: Values): { block: string; message: string } {
  const settings = /^(inviteExpiry|reminderHours|seatLimit)(?:\.\d+)?: ([\s\S]*)$/.exec(err.message);
  if (settings) return { block: settingsFields[settings[1]!]!, message: settings[2]! };
  return { block: errorBlockFor(err, fallback, values), message: err.message };
}

function errorBlockFor(err: DomainError, fallback: string, values: Values): string {
  if (err.code === 'slug_taken') return ids.blocks.orgSlug;
  // About the person picked in the form (change role by Slack user), not about the role chosen.
  if ((err.code === 'member_not_found' || err.code === 'primary_owner_protected') && values[ids.blocks.member]) return ids.blocks.member;
  if (err.code === 'invalid_input' && /URL name/.test(err.message)) return ids.blocks.orgSlug;
  return fallback;
}
