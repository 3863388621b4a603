import { isUniqueViolation } from '../context.js';
import { fail } from '../errors.js';
import type { ScimUserInput } from './types.js';

/** Roster's columns of a SCIM user, derived from what the adapter read (email and account aside). */
export function columnsOf(input: ScimUserInput) {
  return {
    userName: input.userName,
    externalId: input.externalId ?? null,
    givenName: input.givenName ?? null,
    familyName: input.familyName ?? null,
    displayName: input.displayName ?? null,
    active: input.active ?? true,
    resource: input.resource ?? {},
  };
}

export function idpNameOf(input: ScimUserInput): string | undefined {
  return input.displayName || [input.givenName, input.familyName].filter(Boolean).join(' ') || undefined;
}

/** A unique index refused the write: the 409 says which attribute is taken. */
export function uniqueness(err: unknown, userName: string | undefined, email: string | undefined): never {
  if (isUniqueViolation(err, 'scim_users_org_username_uq')) fail('scim_uniqueness', `A user with userName "${userName}" already exists in this organization.`);
  if (isUniqueViolation(err, 'scim_users_org_account_uq'))
    fail('scim_uniqueness', `A user with the email ${email} is already provisioned in this organization (one SCIM user per person).`);
  throw err;
}
