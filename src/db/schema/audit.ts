import { bigserial, index, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';

/** The audit log. */

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

export type AuditEventRow = typeof auditEvents.$inferSelect;
