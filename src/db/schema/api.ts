import { sql } from 'drizzle-orm';
import { boolean, check, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { orgs } from './orgs.js';
import { accounts } from './people.js';

/**
 * Keys for the host product's API (/api/v1): an org's (that org only), or an operator key (no org: the
 * product's backend, across orgs). Stored hashed; shown once.
 */
export const apiKeys = pgTable(
  'api_keys',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    /** null: an operator key. */
    orgId: uuid('org_id').references(() => orgs.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    /** 'read' (GETs only) or 'write' (an owner's rights within its org). */
    scope: text('scope').notNull(),
    keyHash: text('key_hash').notNull(),
    createdById: uuid('created_by_id').references(() => accounts.id, { onDelete: 'set null' }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
    /** Set when rotated: the old key keeps working until then. */
    expiresAt: timestamp('expires_at', { withTimezone: true }),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
    operator: boolean('operator').notNull().default(false),
  },
  (t) => [
    uniqueIndex('api_keys_hash_uq').on(t.keyHash),
    uniqueIndex('api_keys_active_name_uq')
      .on(sql`coalesce(${t.orgId}::text, 'operator')`, sql`lower(${t.name})`)
      .where(sql`${t.revokedAt} is null and ${t.expiresAt} is null`),
    check('api_keys_scope_check', sql`${t.scope} in ('read', 'write')`),
    check('api_keys_operator_has_no_org', sql`${t.operator} = (${t.orgId} is null)`),
  ],
);

export type ApiKeyRow = typeof apiKeys.$inferSelect;
