import { pgEnum, timestamp } from 'drizzle-orm/pg-core';

/** The enums and the created/updated columns the tables share. */

export const roleEnum = pgEnum('role', ['owner', 'admin', 'billing', 'developer', 'member']);
export const memberStatusEnum = pgEnum('member_status', ['active', 'suspended']);
export const memberSourceEnum = pgEnum('member_source', ['creator', 'invite', 'join_request', 'scim', 'cli']);
export const inviteStatusEnum = pgEnum('invite_status', ['pending', 'accepted', 'declined', 'revoked', 'expired']);
export const joinRequestStatusEnum = pgEnum('join_request_status', ['pending', 'approved', 'denied', 'cancelled']);

export const timestamps = {
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
};
