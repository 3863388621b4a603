import { bigint, bigserial, index, jsonb, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';

/** The audit log: the domain's events, each numbered in its org's order. */

/**
 * Append-only. org_id has no foreign key on purpose: an org's audit trail outlives the org.
 */
export const auditEvents = pgTable(
  'audit_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
    orgId: uuid('org_id'),
    actorType: text('actor_type').notNull(),
    actorId: text('actor_id'),
    actorLabel: text('actor_label'),
    via: text('via'),
    action: text('action').notNull(),
    targetType: text('target_type').notNull(),
    targetId: text('target_id'),
    before: jsonb('before'),
    after: jsonb('after'),
  },
  (t) => [
    index('audit_org_at_idx').on(t.orgId, t.at),
    index('audit_org_action_idx').on(t.orgId, t.action, t.at),
    index('audit_org_target_idx').on(t.orgId, t.targetType, t.targetId),
  ],
);

/**
 * Each org event's place in its org's sequence, 1, 2, 3 …, given after commit (domain/event-numbers.ts).
 * A table of its own so that an audit row, once written, is never rewritten: numbering inserts these
 * narrow rows instead of updating wide ones. Deleted with their events (feed.ts prune).
 */
export const eventSeqs = pgTable(
  'event_seqs',
  {
    eventId: bigint('event_id', { mode: 'number' }).primaryKey(),
    orgId: uuid('org_id').notNull(),
    seq: bigint('seq', { mode: 'number' }).notNull(),
  },
  (t) => [uniqueIndex('event_seqs_org_seq_idx').on(t.orgId, t.seq)],
);

/**
 * The org events waiting for their numbers: a trigger on audit_events adds every org event as it is
 * written (migration 0025), the numbering step takes them out as it numbers them.
 */
export const unnumberedEvents = pgTable('unnumbered_events', {
  id: bigint('id', { mode: 'number' }).primaryKey(),
  orgId: uuid('org_id').notNull(),
});

/**
 * The last event number given out per org, by the numbering step (domain/event-numbers.ts), which
 * numbers committed events one step at a time. No foreign key: like the audit trail, the numbering
 * outlives the org.
 */
export const orgEventSeqs = pgTable('org_event_seqs', {
  orgId: uuid('org_id').primaryKey(),
  lastSeq: bigint('last_seq', { mode: 'number' }).notNull(),
});

/** An audit row as the readers see it: with its number (null while unnumbered, and for events with no org). */
export type AuditEventRow = typeof auditEvents.$inferSelect & { seq: number | null };
