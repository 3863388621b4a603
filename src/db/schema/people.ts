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

/**
 * A Slack user who must confirm their Slack email before Roster links them to the account it names (a
 * workspace Roster does not trust for emails: any workspace's admins can set any address). One row per
 * Slack user while they wait; the emailed link is signed over this row's email.
 */
export const slackEmailLinks = pgTable(
  'slack_email_links',
  {
    teamId: text('team_id').notNull(),
    userId: text('user_id').notNull(),
    email: text('email').notNull(),
    displayName: text('display_name'),
    /** The workspace (or Grid) as the email and page name it, so the person can tell who is asking. */
    workspace: text('workspace'),
    /** When the last link was emailed: at most one per few minutes. */
    sentAt: timestamp('sent_at', { withTimezone: true }).notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.teamId, t.userId] }), index('slack_email_links_email_idx').on(sql`lower(${t.email})`, t.sentAt)],
);

/** Every Slack-link email sent: the limits count these (per address a day, per Slack user, per workspace). */
export const slackLinkSends = pgTable(
  'slack_link_sends',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    email: text('email').notNull(),
    teamId: text('team_id').notNull(),
    userId: text('user_id').notNull(),
    sentAt: timestamp('sent_at', { withTimezone: true }).notNull(),
  },
  (t) => [index('slack_link_sends_email_idx').on(sql`lower(${t.email})`, t.sentAt), index('slack_link_sends_user_idx').on(t.teamId, t.userId, t.sentAt)],
);
