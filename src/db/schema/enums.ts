import { pgEnum, text, timestamp } from 'drizzle-orm/pg-core';

/** The enums and the created/updated columns the tables share. */

/**
 * A role is stored as its key in a text column, not a PostgreSQL enum: the domain's role catalogue
 * (domain/roles/catalogue.ts) decides which keys exist and validates every write, so per-org custom
 * roles need new catalogue entries, not a schema change. The type names today's built-in keys.
 */
export const storedRoles = ['owner', 'admin', 'billing', 'developer', 'member'] as const;
export type StoredRole = (typeof storedRoles)[number];
export const roleKey = (column: string) => text(column).$type<StoredRole>();
/** The column default for a role people get without anyone choosing one. */
export const defaultRoleKey: StoredRole = 'member';
/** pending: added by an org's IdP for an email outside the org's verified domains, waiting for the person's consent; no access. */
export const memberStatusEnum = pgEnum('member_status', ['active', 'suspended', 'pending']);
/** domain: joined by themselves, their email being on a verified domain of the org with auto-join. */
export const memberSourceEnum = pgEnum('member_source', ['creator', 'invite', 'join_request', 'scim', 'cli', 'domain']);
export const inviteStatusEnum = pgEnum('invite_status', ['pending', 'accepted', 'declined', 'revoked', 'expired']);
export const joinRequestStatusEnum = pgEnum('join_request_status', ['pending', 'approved', 'denied', 'cancelled']);

export const timestamps = {
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
};
