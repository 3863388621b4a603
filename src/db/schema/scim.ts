import { sql } from 'drizzle-orm';
import { boolean, index, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { roleKey } from './enums.js';
import { orgs } from './orgs.js';
import { accounts } from './people.js';

/** SCIM: tokens, users and groups as the IdP knows them, and group → role mappings waiting for their group. */

export const scimTokens = pgTable(
  'scim_tokens',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orgId: uuid('org_id')
      .notNull()
      .references(() => orgs.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    tokenHash: text('token_hash').notNull(),
    createdById: uuid('created_by_id').references(() => accounts.id, { onDelete: 'set null' }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
    /** Set when rotated: the old token keeps working until then, so the IdP can be updated. */
    expiresAt: timestamp('expires_at', { withTimezone: true }),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
  },
  (t) => [
    uniqueIndex('scim_tokens_hash_uq').on(t.tokenHash),
    uniqueIndex('scim_tokens_active_name_uq')
      .on(t.orgId, sql`lower(${t.name})`)
      .where(sql`${t.revokedAt} is null and ${t.expiresAt} is null`),
  ],
);

/**
 * A user as the org's identity provider knows them; linked to the account and its membership. `resource`
 * is the user as the IdP sent it (every attribute /Schemas advertises, without id, meta and groups); the
 * other columns are derived from it (scim/mapping.ts) for matching, uniqueness and Roster's own use. A
 * user whose userName is no email and who has no emails has no account (and so no membership) yet.
 */
export const scimUsers = pgTable(
  'scim_users',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orgId: uuid('org_id')
      .notNull()
      .references(() => orgs.id, { onDelete: 'cascade' }),
    accountId: uuid('account_id').references(() => accounts.id, { onDelete: 'cascade' }),
    userName: text('user_name').notNull(),
    externalId: text('external_id'),
    givenName: text('given_name'),
    familyName: text('family_name'),
    displayName: text('display_name'),
    email: text('email'),
    active: boolean('active').notNull().default(true),
    resource: jsonb('resource').$type<Record<string, unknown>>().notNull().default({}),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('scim_users_org_username_uq').on(t.orgId, sql`lower(${t.userName})`),
    uniqueIndex('scim_users_org_account_uq').on(t.orgId, t.accountId),
    index('scim_users_org_external_idx').on(t.orgId, t.externalId),
    index('scim_users_org_email_idx').on(t.orgId, sql`lower(${t.email})`),
    index('scim_users_org_created_idx').on(t.orgId, t.createdAt, t.id),
  ],
);

export const scimGroups = pgTable(
  'scim_groups',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orgId: uuid('org_id')
      .notNull()
      .references(() => orgs.id, { onDelete: 'cascade' }),
    displayName: text('display_name').notNull(),
    externalId: text('external_id'),
    /** The role this group grants its members; keyed by the group, so renaming it in the IdP keeps it. */
    role: roleKey('role'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('scim_groups_org_name_idx').on(t.orgId, sql`lower(${t.displayName})`), index('scim_groups_org_external_idx').on(t.orgId, t.externalId)],
);

export const scimGroupMembers = pgTable(
  'scim_group_members',
  {
    groupId: uuid('group_id')
      .notNull()
      .references(() => scimGroups.id, { onDelete: 'cascade' }),
    scimUserId: uuid('scim_user_id')
      .notNull()
      .references(() => scimUsers.id, { onDelete: 'cascade' }),
  },
  (t) => [primaryKey({ columns: [t.groupId, t.scimUserId] }), index('scim_group_members_user_idx').on(t.scimUserId)],
);

/**
 * A role mapped by group name before the IdP has pushed that group. When a group with this name
 * arrives, the mapping moves onto the group itself (keyed by its id) and this row goes away.
 */
export const scimPendingMappings = pgTable(
  'scim_pending_mappings',
  {
    orgId: uuid('org_id')
      .notNull()
      .references(() => orgs.id, { onDelete: 'cascade' }),
    displayName: text('display_name').notNull(),
    role: roleKey('role').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('scim_pending_mappings_uq').on(t.orgId, sql`lower(${t.displayName})`)],
);

export type ScimTokenRow = typeof scimTokens.$inferSelect;
export type ScimUserRow = typeof scimUsers.$inferSelect;
export type ScimGroupRow = typeof scimGroups.$inferSelect;
