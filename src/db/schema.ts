import { sql } from 'drizzle-orm';
import {
  type AnyPgColumn,
  bigserial,
  boolean,
  check,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

export const roleEnum = pgEnum('role', ['owner', 'admin', 'billing', 'developer', 'member']);
export const memberStatusEnum = pgEnum('member_status', ['active', 'suspended']);
export const memberSourceEnum = pgEnum('member_source', ['creator', 'invite', 'join_request', 'scim', 'cli']);
export const inviteStatusEnum = pgEnum('invite_status', ['pending', 'accepted', 'declined', 'revoked', 'expired']);
export const joinRequestStatusEnum = pgEnum('join_request_status', ['pending', 'approved', 'denied', 'cancelled']);

const timestamps = {
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
};

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
    reminderHours: integer('reminder_hours').array().notNull().default(sql`'{72,24}'::integer[]`),
    seatLimit: integer('seat_limit'),
    /** Role given to members SCIM provisions who are in no mapped group. */
    scimDefaultRole: roleEnum('scim_default_role').notNull().default('member'),
    /** Whether SCIM group mappings may grant the owner role (off unless an owner allows it). */
    scimAllowOwner: boolean('scim_allow_owner').notNull().default(false),
    ...timestamps,
  },
  (t) => [
    uniqueIndex('orgs_slug_uq').on(t.slug),
    check('orgs_seat_limit_positive', sql`${t.seatLimit} is null or ${t.seatLimit} > 0`),
  ],
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
    role: roleEnum('role').notNull(),
    status: memberStatusEnum('status').notNull().default('active'),
    billingEmails: boolean('billing_emails').notNull().default(false),
    source: memberSourceEnum('source').notNull(),
    /**
     * For a membership whose role SCIM groups manage: the role it would have without them (its role
     * before SCIM took over, or the org's default SCIM role). SCIM only takes away what it granted.
     * null = SCIM groups do not manage this member's role.
     */
    scimBaseRole: roleEnum('scim_base_role'),
    joinedAt: timestamp('joined_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('memberships_org_account_uq').on(t.orgId, t.accountId),
    index('memberships_account_idx').on(t.accountId),
  ],
);

export const invites = pgTable(
  'invites',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orgId: uuid('org_id')
      .notNull()
      .references(() => orgs.id, { onDelete: 'cascade' }),
    email: text('email').notNull(),
    role: roleEnum('role').notNull(),
    billingEmails: boolean('billing_emails').notNull().default(false),
    status: inviteStatusEnum('status').notNull().default('pending'),
    /** sha256 of the secret token; the token itself is never stored. */
    tokenHash: text('token_hash').notNull(),
    /** Random per-token salt; the link token is HMAC(INVITE key, id:nonce), so it can be re-derived for reminders. */
    tokenNonce: text('token_nonce').notNull(),
    invitedById: uuid('invited_by_id').references(() => accounts.id, { onDelete: 'set null' }),
    expiresAt: timestamp('expires_at', { withTimezone: true }),
    lastSentAt: timestamp('last_sent_at', { withTimezone: true }).notNull().defaultNow(),
    /** Reminder steps (hours before expiry) already sent for the current token. */
    remindersSent: integer('reminders_sent').array().notNull().default(sql`'{}'::integer[]`),
    decidedById: uuid('decided_by_id').references(() => accounts.id, { onDelete: 'set null' }),
    decidedAt: timestamp('decided_at', { withTimezone: true }),
    ...timestamps,
  },
  (t) => [
    uniqueIndex('invites_token_hash_uq').on(t.tokenHash),
    uniqueIndex('invites_one_pending_per_email_uq')
      .on(t.orgId, sql`lower(${t.email})`)
      .where(sql`${t.status} = 'pending'`),
    index('invites_org_status_idx').on(t.orgId, t.status),
    index('invites_pending_expiry_idx').on(t.expiresAt).where(sql`${t.status} = 'pending'`),
  ],
);

export const joinRequests = pgTable(
  'join_requests',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orgId: uuid('org_id')
      .notNull()
      .references(() => orgs.id, { onDelete: 'cascade' }),
    accountId: uuid('account_id')
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    message: text('message'),
    status: joinRequestStatusEnum('status').notNull().default('pending'),
    role: roleEnum('role'),
    reason: text('reason'),
    decidedById: uuid('decided_by_id').references(() => accounts.id, { onDelete: 'set null' }),
    decidedAt: timestamp('decided_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('join_requests_one_pending_uq').on(t.orgId, t.accountId).where(sql`${t.status} = 'pending'`),
  ],
);

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
    index('notifications_due_idx').on(t.nextAttemptAt).where(sql`${t.status} in ('pending', 'sending')`),
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
    uniqueIndex('scim_tokens_active_name_uq').on(t.orgId, sql`lower(${t.name})`).where(sql`${t.revokedAt} is null and ${t.expiresAt} is null`),
  ],
);

/** A user as the org's identity provider knows them; linked to the account and its membership. */
export const scimUsers = pgTable(
  'scim_users',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orgId: uuid('org_id')
      .notNull()
      .references(() => orgs.id, { onDelete: 'cascade' }),
    accountId: uuid('account_id')
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    userName: text('user_name').notNull(),
    externalId: text('external_id'),
    givenName: text('given_name'),
    familyName: text('family_name'),
    displayName: text('display_name'),
    email: text('email').notNull(),
    active: boolean('active').notNull().default(true),
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
    role: roleEnum('role'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('scim_groups_org_name_idx').on(t.orgId, sql`lower(${t.displayName})`),
    index('scim_groups_org_external_idx').on(t.orgId, t.externalId),
  ],
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
    role: roleEnum('role').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('scim_pending_mappings_uq').on(t.orgId, sql`lower(${t.displayName})`)],
);

export type ScimTokenRow = typeof scimTokens.$inferSelect;
export type ScimUserRow = typeof scimUsers.$inferSelect;
export type ScimGroupRow = typeof scimGroups.$inferSelect;

export type NotificationRow = typeof notifications.$inferSelect;

export type Role = (typeof roleEnum.enumValues)[number];
export type AccountRow = typeof accounts.$inferSelect;
export type OrgRow = typeof orgs.$inferSelect;
export type MembershipRow = typeof memberships.$inferSelect;
export type InviteRow = typeof invites.$inferSelect;
export type JoinRequestRow = typeof joinRequests.$inferSelect;
export type AuditEventRow = typeof auditEvents.$inferSelect;

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
