import { sql } from 'drizzle-orm';
import { boolean, check, index, integer, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { memberSourceEnum, memberStatusEnum, roleKey, timestamps } from './enums.js';
import { accounts } from './people.js';

/** Organizations and who belongs to them. */

export const orgs = pgTable(
  'orgs',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    name: text('name').notNull(),
    slug: text('slug').notNull(),
    primaryOwnerId: uuid('primary_owner_id')
      .notNull()
      .references(() => accounts.id),
    /** null = invites never expire. */
    inviteExpiryHours: integer('invite_expiry_hours').default(336),
    /** Hours before expiry at which invitees are reminded, e.g. {72,24}. */
    reminderHours: integer('reminder_hours')
      .array()
      .notNull()
      .default(sql`'{72,24}'::integer[]`),
    seatLimit: integer('seat_limit'),
    /** Role given to members SCIM provisions who are in no mapped group. */
    scimDefaultRole: roleKey('scim_default_role').notNull().default('member'),
    /** Whether SCIM group mappings may grant the owner role (off unless an owner allows it). */
    scimAllowOwner: boolean('scim_allow_owner').notNull().default(false),
    ...timestamps,
  },
  (t) => [uniqueIndex('orgs_slug_uq').on(t.slug), check('orgs_seat_limit_positive', sql`${t.seatLimit} is null or ${t.seatLimit} > 0`)],
);

export const memberships = pgTable(
  'memberships',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orgId: uuid('org_id')
      .notNull()
      .references(() => orgs.id, { onDelete: 'cascade' }),
    accountId: uuid('account_id')
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    role: roleKey('role').notNull(),
    status: memberStatusEnum('status').notNull().default('active'),
    billingEmails: boolean('billing_emails').notNull().default(false),
    source: memberSourceEnum('source').notNull(),
    /**
     * For a membership whose role SCIM groups manage: the role it would have without them (its role
     * before SCIM took over, or the org's default SCIM role). SCIM only takes away what it granted.
     * null = SCIM groups do not manage this member's role.
     */
    scimBaseRole: roleKey('scim_base_role'),
    joinedAt: timestamp('joined_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('memberships_org_account_uq').on(t.orgId, t.accountId), index('memberships_account_idx').on(t.accountId)],
);

/**
 * People who were members of an org, or declined to be: how it ended, the last time. Their email domain
 * never brings them back by itself (auto-join), and an IdP the person declined does not ask again.
 */
export const pastMemberships = pgTable(
  'past_memberships',
  {
    orgId: uuid('org_id')
      .notNull()
      .references(() => orgs.id, { onDelete: 'cascade' }),
    accountId: uuid('account_id')
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    /** removed, left, declined (an IdP's claim). */
    how: text('how').$type<'removed' | 'left' | 'declined'>().notNull(),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.accountId] })],
);

export type { StoredRole as Role } from './enums.js';
export type OrgRow = typeof orgs.$inferSelect;
export type MembershipRow = typeof memberships.$inferSelect;
