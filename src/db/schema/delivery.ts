import { sql } from 'drizzle-orm';
import { bigserial, index, integer, jsonb, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { accounts } from './people.js';

/** Telling people: the notification outbox, Slack messages to update later, and Slack requests already acted on. */

/**
 * Outbox: what to tell whom, written in the same transaction as the change it is about.
 * Delivery (Slack DM, email) reads it later; dedupe_key makes a notification exist once.
 */
export const notifications = pgTable(
  'notifications',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    kind: text('kind').notNull(),
    orgId: uuid('org_id'),
    recipientAccountId: uuid('recipient_account_id').references(() => accounts.id, { onDelete: 'cascade' }),
    recipientEmail: text('recipient_email'),
    /** email | slack | slack_or_email (a Slack DM when the person uses Slack, an email otherwise). */
    channel: text('channel').notNull().default('email'),
    payload: jsonb('payload').notNull(),
    dedupeKey: text('dedupe_key').notNull(),
    /** pending → sending (claimed by one worker until locked_until) → sent | skipped | failed. */
    status: text('status').notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }).notNull().defaultNow(),
    lockedUntil: timestamp('locked_until', { withTimezone: true }),
    lastError: text('last_error'),
    deliveredAt: timestamp('delivered_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('notifications_dedupe_uq').on(t.dedupeKey, t.channel),
    index('notifications_due_idx')
      .on(t.nextAttemptAt)
      .where(sql`${t.status} in ('pending', 'sending')`),
  ],
);

/**
 * Slack messages Roster posted about something (e.g. a join request DM to each admin), so they can all
 * be updated when it is decided.
 */
export const slackMessages = pgTable(
  'slack_messages',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    kind: text('kind').notNull(),
    refId: uuid('ref_id').notNull(),
    channel: text('channel').notNull(),
    ts: text('ts').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('slack_messages_ref_idx').on(t.kind, t.refId)],
);

/**
 * Signed Slack requests already acted on, kept for Slack's 5-minute signature window (and a margin):
 * a replayed request is acted on at most once, whichever Roster process it reaches. Keyed by the
 * SHA-256 of the request's signature.
 */
export const slackSeenRequests = pgTable(
  'slack_seen_requests',
  {
    signatureHash: text('signature_hash').primaryKey(),
    seenAt: timestamp('seen_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('slack_seen_requests_seen_idx').on(t.seenAt)],
);

export type NotificationRow = typeof notifications.$inferSelect;
