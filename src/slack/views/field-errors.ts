import type { DomainError } from '../../domain/errors.js';
import { ids } from '../ids.js';
import type { Values } from './form.js';

/** Settings fields by the name the domain gives them (err.field "seatLimit", "reminderHours.0"). */
const settingsFields: Record<string, string> = {
  inviteExpiry: ids.blocks.inviteExpiry,
  reminderHours: ids.blocks.reminders,
  seatLimit: ids.blocks.seatLimit,
};

/** Field errors go where the person can fix them: the domain names the field (err.field). */
export function fieldError(err: DomainError, fallback: string, values: Values): { block: string; message: string } {
  const top = err.field?.split('.')[0];
  const settings = top ? settingsFields[top] : undefined;
  // Beside the field itself the message need not name it ("seatLimit: …").
  if (settings) return { block: settings, message: err.message.replace(/^[\w.]+: /, '') };
  return { block: errorBlockFor(err, fallback, values), message: err.message };
}

function errorBlockFor(err: DomainError, fallback: string, values: Values): string {
  if (err.field === 'slug') return ids.blocks.orgSlug;
  // About the person picked in the form (change role by Slack user), not about the role chosen.
  if ((err.code === 'member_not_found' || err.code === 'primary_owner_protected') && values[ids.blocks.member]) return ids.blocks.member;
  return fallback;
}
