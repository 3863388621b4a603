import { sql } from 'drizzle-orm';
import { boolean, index, integer, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { inviteStatusEnum, joinRequestStatusEnum, roleKey, timestamps } from './enums.js';
import { orgs } from './orgs.js';
import { accounts } from './people.js';

/** Ways in: invites and join requests. */

export const invites = pgTable(
  'invites',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orgId: uuid('org_id')
      .notNull()
      .references(() => orgs.id, { onDelete: 'cascade' }),
    email: text('email').notNull(),
    role: roleKey('role').notNull(),
    billingEmails: boolean('billing_emails').notNull().default(false),
    /** The invitee's name as the inviter gave it (a CSV import): the display name of an account the invite link creates. */
    inviteeName: text('invitee_name'),
    status: inviteStatusEnum('status').notNull().default('pending'),
    /** sha256 of the secret token; the token itself is never stored. */
    tokenHash: text('token_hash').notNull(),
    /** Random per-token salt; the link token is HMAC(INVITE key, id:nonce), so it can be re-derived for reminders. */
    tokenNonce: text('token_nonce').notNull(),
    invitedById: uuid('invited_by_id').references(() => accounts.id, { onDelete: 'set null' }),
    /** Who invited, in words, when no account did (the CLI's operator, an API key): shown as the inviter. */
    invitedByLabel: text('invited_by_label'),
    expiresAt: timestamp('expires_at', { withTimezone: true }),
    lastSentAt: timestamp('last_sent_at', { withTimezone: true }).notNull().defaultNow(),
    /** Reminder steps (hours before expiry) already sent for the current token. */
    remindersSent: integer('reminders_sent')
      .array()
      .notNull()
      .default(sql`'{}'::integer[]`),
    decidedById: uuid('decided_by_id').references(() => accounts.id, { onDelete: 'set null' }),
    decidedAt: timestamp('decided_at', { withTimezone: true }),
    ...timestamps,
  },
  (t) => [
    uniqueIndex('invites_token_hash_uq').on(t.tokenHash),
    uniqueIndex('invites_one_pending_per_email_uq')
      .on(t.orgId, sql`lower(${t.email})`)
      .where(sql`${t.status} = 'pending'`),
    index('invites_org_status_idx').on(t.orgId, t.status),
    index('invites_pending_expiry_idx')
      .on(t.expiresAt)
      .where(sql`${t.status} = 'pending'`),
  ],
);

export const joinRequests = pgTable(
  'join_requests',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orgId: uuid('org_id')
      .notNull()
      .references(() => orgs.id, { onDelete: 'cascade' }),
    accountId: uuid('account_id')
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    message: text('message'),
    status: joinRequestStatusEnum('status').notNull().default('pending'),
    role: roleKey('role'),
    reason: text('reason'),
    decidedById: uuid('decided_by_id').references(() => accounts.id, { onDelete: 'set null' }),
    decidedAt: timestamp('decided_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('join_requests_one_pending_uq')
      .on(t.orgId, t.accountId)
      .where(sql`${t.status} = 'pending'`),
  ],
);

export type InviteRow = typeof invites.$inferSelect;
export type JoinRequestRow = typeof joinRequests.$inferSelect;
