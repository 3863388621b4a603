import { sql } from 'drizzle-orm';
import { index, pgEnum, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { defaultRoleKey, roleKey, timestamps } from './enums.js';
import { orgs } from './orgs.js';
import { accounts } from './people.js';

/** Email domains an org claims, proves by DNS, and lets people join by. */

export const domainStatusEnum = pgEnum('domain_status', ['pending', 'verified', 'failed']);
export const domainEnrollmentEnum = pgEnum('domain_enrollment', ['off', 'suggest', 'auto_join']);

export const orgDomains = pgTable(
  'org_domains',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orgId: uuid('org_id')
      .notNull()
      .references(() => orgs.id, { onDelete: 'cascade' }),
    /** Lowercase, ASCII (punycode), no trailing dot. */
    domain: text('domain').notNull(),
    status: domainStatusEnum('status').notNull().default('pending'),
    /** The TXT record's value the org publishes to prove control; not a secret (anyone can read DNS). */
    challenge: text('challenge').notNull(),
    /** Start of the current verification window: a domain still unproven 30 days later is marked failed. */
    pendingSince: timestamp('pending_since', { withTimezone: true }).notNull().defaultNow(),
    lastCheckedAt: timestamp('last_checked_at', { withTimezone: true }),
    /** What the last check found, in words for the owner (null after success). */
    lastCheckResult: text('last_check_result'),
    verifiedAt: timestamp('verified_at', { withTimezone: true }),
    failedAt: timestamp('failed_at', { withTimezone: true }),
    enrollment: domainEnrollmentEnum('enrollment').notNull().default('off'),
    /** The role people joining by this domain get. */
    enrollmentRole: roleKey('enrollment_role').notNull().default(defaultRoleKey),
    createdById: uuid('created_by_id').references(() => accounts.id, { onDelete: 'set null' }),
    ...timestamps,
  },
  (t) => [
    uniqueIndex('org_domains_org_domain_uq').on(t.orgId, t.domain),
    // One domain, one org: several orgs may claim it, only one can prove it.
    uniqueIndex('org_domains_verified_uq')
      .on(t.domain)
      .where(sql`${t.status} = 'verified'`),
    index('org_domains_pending_idx')
      .on(t.lastCheckedAt)
      .where(sql`${t.status} = 'pending'`),
  ],
);

export type OrgDomainRow = typeof orgDomains.$inferSelect;
