import { sql } from 'drizzle-orm';
import { type AnyPgColumn, index, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { timestamps } from './enums.js';
import { orgs } from './orgs.js';

/** People: accounts and their Slack identities. */

export const accounts = pgTable(
  'accounts',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    displayName: text('display_name').notNull(),
    /** Primary email. Roster's users never change it (it comes from Slack, SCIM or an accepted invite). */
    email: text('email'),
    activeOrgId: uuid('active_org_id').references((): AnyPgColumn => orgs.id, { onDelete: 'set null' }),
    ...timestamps,
  },
  (t) => [uniqueIndex('accounts_email_lower_uq').on(sql`lower(${t.email})`)],
);

export const slackIdentities = pgTable(
  'slack_identities',
  {
    teamId: text('team_id').notNull(),
    userId: text('user_id').notNull(),
    accountId: uuid('account_id')
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.teamId, t.userId] }), index('slack_identities_account_idx').on(t.accountId)],
);

export type AccountRow = typeof accounts.$inferSelect;
