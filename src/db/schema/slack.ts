import { sql } from 'drizzle-orm';
import { boolean, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { timestamps } from './enums.js';

/**
 * Slack installations (distribution mode): one per workspace, or one per Enterprise Grid org for an
 * org-wide install. The installation (bot token, refresh token, scopes) is kept encrypted, as sealed
 * by the domain (AES-256-GCM, key derived from APP_SECRET); only the keys to find it are in the clear.
 */
export const slackInstallations = pgTable(
  'slack_installations',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    enterpriseId: text('enterprise_id'),
    teamId: text('team_id'),
    isEnterpriseInstall: boolean('is_enterprise_install').notNull().default(false),
    sealed: text('sealed').notNull(),
    ...timestamps,
  },
  (t) => [
    uniqueIndex('slack_installations_team_uq')
      .on(t.teamId)
      .where(sql`not ${t.isEnterpriseInstall}`),
    uniqueIndex('slack_installations_enterprise_uq')
      .on(t.enterpriseId)
      .where(sql`${t.isEnterpriseInstall}`),
  ],
);

export type SlackInstallationRow = typeof slackInstallations.$inferSelect;
