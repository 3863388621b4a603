import { z } from 'zod';
import type { ScimUserRow } from '../../db/schema.js';
import type { Actor } from '../context.js';
import { fail } from '../errors.js';
import { isValidEmail, textProblem } from '../validation.js';
import type { ScimUserInput } from './types.js';

/** More than any IdP sends for one person (a full Entra user with addresses and phones is ~3 kB). */
export const MAX_RESOURCE_BYTES = 64 * 1024;
// The shape of SCIM input. Its characters are checked after it (assertCleanText), attribute by
// attribute, because a PATCH is held to the rule only for what it changes.
const text = (max: number) => z.string().trim().max(max, `at most ${max} characters`);
export const userSchema = z.object({
  userName: text(256).min(1, 'userName is required'),
  externalId: text(256).nullish(),
  givenName: text(256).nullish(),
  familyName: text(256).nullish(),
  displayName: text(256).nullish(),
  emails: z
    .array(z.object({ value: z.string(), type: z.string().optional(), primary: z.boolean().optional() }))
    .max(20)
    .optional(),
  active: z.boolean().optional(),
  resource: z
    .record(z.string(), z.unknown())
    .refine((r) => JSON.stringify(r).length <= MAX_RESOURCE_BYTES, `the user's attributes take more than ${MAX_RESOURCE_BYTES / 1024} kB`)
    .optional(),
});
export const userTextKeys = ['userName', 'externalId', 'givenName', 'familyName', 'displayName', 'emails', 'resource'] as const;
export const groupSchema = z.object({
  displayName: text(256).min(1, 'displayName is required'),
  externalId: text(256).nullish(),
  memberIds: z.array(z.string()).max(100_000),
});
export const groupTextKeys = ['displayName', 'externalId', 'memberIds'] as const;

/** Every string in a value, with its path for a message ("emails[0].value"). */
function stringsAt(value: unknown, path: string, out: [string, string][] = []): [string, string][] {
  if (typeof value === 'string') out.push([path, value]);
  else if (Array.isArray(value)) value.forEach((v, i) => stringsAt(v, `${path}[${i}]`, out));
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) stringsAt(v, path ? `${path}.${k}` : k, out);
  return out;
}

/**
 * The character rule (validation.ts) on the given attributes of a SCIM input: all of them for a create
 * or a PUT; for a PATCH only those it changes, so a value stored before the rule existed never blocks a
 * PATCH that leaves it alone (deactivating the user, above all).
 */
export function assertCleanText<T extends Record<string, unknown>>(input: T, keys: readonly (keyof T & string)[]): void {
  for (const key of keys) {
    // The kept resource's attributes are named as the IdP names them (addresses[0].streetAddress).
    for (const [path, value] of stringsAt(input[key], key === 'resource' ? '' : key)) {
      const problem = textProblem(value);
      if (problem) fail('invalid_input', `${path}: contains ${problem}. Remove it and try again.`, { field: path });
    }
  }
}

export function scimOrgId(actor: Actor): string {
  if (actor.type !== 'scim') fail('forbidden', 'Only a SCIM token can do that.');
  return actor.orgId;
}

/**
 * The email Roster keys accounts by: the primary email, a work email, any email, or a userName that is
 * one. None at all (RFC 7643 requires only userName) is undefined: the user is kept, with no account
 * and so no membership until an email is known. Emails given and none of them an address is a 400.
 */
export function emailOf(input: Pick<ScimUserInput, 'userName' | 'emails'>): string | undefined {
  const emails = input.emails ?? [];
  const pick =
    emails.find((e) => e.primary && isValidEmail(e.value.trim())) ??
    emails.find((e) => e.type === 'work' && isValidEmail(e.value.trim())) ??
    emails.find((e) => isValidEmail(e.value.trim()));
  if (pick) return pick.value.trim();
  if (isValidEmail(input.userName.trim())) return input.userName.trim();
  if (emails.length) fail('scim_no_email');
  return undefined;
}

export { isUuid } from '../validation.js';

export function auditUser(u: ScimUserRow) {
  return { userName: u.userName, externalId: u.externalId, email: u.email, active: u.active };
}
