import { and, asc, eq, getTableColumns, inArray, sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import {
  memberships,
  orgs,
  scimGroupMembers,
  scimGroups,
  scimPendingMappings,
  scimUsers,
  type MembershipRow,
  type OrgRow,
  type Role,
  type ScimGroupRow,
  type ScimUserRow,
} from '../db/schema.js';
import { authorize, parseRole, roleRank } from './access.js';
import { findOrCreateAccountByEmail } from './accounts.js';
import { recordAudit } from './audit.js';
import { type Actor, type Deps, type Tx, isUniqueViolation } from './context.js';
import { fail } from './errors.js';
import { addMembership, assertMayJoinAnotherOrg, assertSeatAvailable } from './membership-rules.js';
import { findMembership, lockOrgFor, requireMembership, requireOrg } from './standing.js';
import { assertText, isValidEmail, parseInput, textProblem } from './validation.js';

/**
 * SCIM provisioning rules (SPEC §6), independent of the SCIM wire format: the scim/ adapter turns
 * requests into these calls. The org always comes from the token (the actor), never from the body.
 */

export type ScimEmail = { value: string; type?: string | undefined; primary?: boolean | undefined };
export type ScimUserInput = {
  userName: string;
  externalId?: string | null | undefined;
  givenName?: string | null | undefined;
  familyName?: string | null | undefined;
  displayName?: string | null | undefined;
  emails?: ScimEmail[] | undefined;
  active?: boolean | undefined;
};
export type ScimUserView = ScimUserRow & { groups: { id: string; displayName: string }[] };
export type ScimGroupInput = { displayName: string; externalId?: string | null | undefined; memberIds: string[] };
export type ScimGroupView = ScimGroupRow & { members: { id: string; display: string }[] | undefined };
/**
 * For a PATCH, which the adapter applies to the resource it read: that resource as read. Only what the
 * PATCH changed relative to it is written, on top of the current row (read under lock), so IdPs' parallel
 * PATCHes (Okta and Entra send them) don't undo each other: two member adds both stay, a removal stays removed.
 */
export type PatchBase<T> = { base?: T | undefined };

export type FilterOp = 'eq' | 'ne' | 'co' | 'sw' | 'ew' | 'pr' | 'gt' | 'ge' | 'lt' | 'le';
export type FilterTerm = { field: string; op: FilterOp; value?: string | boolean | number | null };
/** OR of ANDs, as SCIM filters come. */
export type ScimQuery = { anyOf: FilterTerm[][]; startIndex: number; count: number; withMembers?: boolean };

export const MAX_PAGE = 1000;

// The shape of SCIM input. Its characters are checked after it (assertCleanText), attribute by
// attribute, because a PATCH is held to the rule only for what it changes.
const text = (max: number) => z.string().trim().max(max, `at most ${max} characters`);
const userSchema = z.object({
  userName: text(256).min(1, 'userName is required'),
  externalId: text(256).nullish(),
  givenName: text(256).nullish(),
  familyName: text(256).nullish(),
  displayName: text(256).nullish(),
  emails: z.array(z.object({ value: z.string(), type: z.string().optional(), primary: z.boolean().optional() })).max(20).optional(),
  active: z.boolean().optional(),
});
const userTextKeys = ['userName', 'externalId', 'givenName', 'familyName', 'displayName', 'emails'] as const;
const groupSchema = z.object({
  displayName: text(256).min(1, 'displayName is required'),
  externalId: text(256).nullish(),
  memberIds: z.array(z.string()).max(100_000),
});
const groupTextKeys = ['displayName', 'externalId', 'memberIds'] as const;

/** Every string in a value, with its path for a message ("emails[0].value"). */
function stringsAt(value: unknown, path: string, out: [string, string][] = []): [string, string][] {
  if (typeof value === 'string') out.push([path, value]);
  else if (Array.isArray(value)) value.forEach((v, i) => stringsAt(v, `${path}[${i}]`, out));
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) stringsAt(v, `${path}.${k}`, out);
  return out;
}

/**
 * The character rule (validation.ts) on the given attributes of a SCIM input: all of them for a create
 * or a PUT; for a PATCH only those it changes, so a value stored before the rule existed never blocks a
 * PATCH that leaves it alone (deactivating the user, above all).
 */
function assertCleanText<T extends Record<string, unknown>>(input: T, keys: readonly (keyof T & string)[]): void {
  for (const key of keys) {
    for (const [path, value] of stringsAt(input[key], key)) {
      const problem = textProblem(value);
      if (problem) fail('invalid_input', `${path}: contains ${problem}. Remove it and try again.`, { field: path });
    }
  }
}

function scimOrgId(actor: Actor): string {
  if (actor.type !== 'scim') fail('forbidden', 'Only a SCIM token can do that.');
  return actor.orgId;
}

/** The email Roster keys accounts by: primary work email, any email, or a userName that is one. */
export function emailOf(input: Pick<ScimUserInput, 'userName' | 'emails'>): string {
  const emails = input.emails ?? [];
  const pick =
    emails.find((e) => e.primary && isValidEmail(e.value.trim())) ??
    emails.find((e) => e.type === 'work' && isValidEmail(e.value.trim())) ??
    emails.find((e) => isValidEmail(e.value.trim()));
  if (pick) return pick.value.trim();
  if (isValidEmail(input.userName.trim())) return input.userName.trim();
  fail('scim_no_email');
}

function maxRole(roles: Role[]): Role {
  return roles.reduce((a, b) => (roleRank[b] > roleRank[a] ? b : a));
}

const isUuid = (s: string) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s);

/**
 * A SCIM user's groups, as a column of the user's row (json, ordered by name). `scim_users.id` is
 * written out: drizzle renders a column of a single-table select as a bare "id", which here is g.id.
 */
const groupsOfUser = sql<{ id: string; displayName: string }[]>`coalesce((
  select json_agg(json_build_object('id', g.id, 'displayName', g.display_name) order by g.display_name)
  from ${scimGroupMembers} gm join ${scimGroups} g on g.id = gm.group_id
  where gm.scim_user_id = scim_users.id), '[]'::json)`;

export function createScimService(deps: Deps) {
  const { db, clock, settings } = deps;

  /**
   * The lookups an IdP makes before every change (userName eq, externalId eq), as prepared statements:
   * built once, planned once per connection. Same conditions and order as filterSql gives them.
   */
  const usersBy = (column: SQL, name: string) =>
    db
      .select({ ...getTableColumns(scimUsers), groups: groupsOfUser })
      .from(scimUsers)
      .where(and(eq(scimUsers.orgId, sql.placeholder('orgId')), sql`${column} = ${sql.placeholder('value')}`))
      .orderBy(asc(scimUsers.createdAt), asc(scimUsers.id))
      .limit(sql.placeholder('limit'))
      .offset(sql.placeholder('offset'))
      .prepare(name);
  const usersByUserName = usersBy(sql`lower(${scimUsers.userName})`, 'roster_scim_users_by_username');
  const usersByExternalId = usersBy(sql`${scimUsers.externalId}`, 'roster_scim_users_by_external_id');

  /**
   * Locks the org against change while SCIM adds to it: every change to an org row first takes FOR
   * UPDATE (lockOrgFor, requireOrg with lock), which waits for this. KEY SHARE, not SHARE: it is the lock
   * the foreign-key checks of the inserts take anyway, so concurrent provisioning adds no second lock
   * mode on the one hot org row. Seat-limited orgs also serialize SCIM adds.
   */
  async function lockOrgForScim(tx: Tx, orgId: string): Promise<OrgRow> {
    const [org] = await tx.select().from(orgs).where(eq(orgs.id, orgId)).for('key share');
    if (!org) fail('org_not_found');
    if (org.seatLimit !== null) await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${orgId}::text, 7))`);
    return org;
  }

  async function findUser(ex: Tx | typeof db, orgId: string, id: string, lock = false): Promise<ScimUserRow> {
    if (!isUuid(id)) fail('scim_user_not_found');
    const q = ex.select().from(scimUsers).where(and(eq(scimUsers.orgId, orgId), eq(scimUsers.id, id)));
    const [row] = lock ? await q.for('update') : await q;
    if (!row) fail('scim_user_not_found');
    return row;
  }

  /**
   * POST /Users: finds or creates the account by email, links it, and adds a membership with the org's
   * default SCIM role (or keeps the membership a person already had).
   */
  async function createUser(actor: Actor, raw: ScimUserInput): Promise<ScimUserView> {
    const orgId = scimOrgId(actor);
    const input = parseInput(userSchema, raw);
    assertCleanText(input, userTextKeys);
    const email = emailOf(input);
    try {
      return await db.transaction(async (tx) => {
        const org = await lockOrgForScim(tx, orgId);
        const now = clock.now();
        // A taken userName is caught by the unique index at the insert below (no read first).
        const { account, created } = await findOrCreateAccountByEmail(
          tx,
          { email, displayName: input.displayName || [input.givenName, input.familyName].filter(Boolean).join(' ') || undefined },
          actor,
          now,
        );
        const [row] = await tx
          .insert(scimUsers)
          .values({
            orgId,
            accountId: account.id,
            userName: input.userName,
            externalId: input.externalId ?? null,
            givenName: input.givenName ?? null,
            familyName: input.familyName ?? null,
            displayName: input.displayName ?? null,
            email,
            active: input.active ?? true,
            createdAt: now,
            updatedAt: now,
          })
          .returning();
        // A person Roster has never seen has no membership to look for.
        const membership = created ? undefined : await findMembership(tx, orgId, account.id, { lock: true });
        if (!membership) {
          await assertMayJoinAnotherOrg(tx, settings, account.id, orgId);
          await assertSeatAvailable(tx, org, now);
          await addMembership(tx, actor, { org, accountId: account.id, role: org.scimDefaultRole, billingEmails: false, source: 'scim' }, now);
        }
        if (!row!.active) await setStatus(tx, actor, org, account.id, 'suspended', now);
        await recordAudit(tx, actor, { orgId, action: 'scim.user_provisioned', targetType: 'scim_user', targetId: row!.id, after: auditUser(row!) }, now);
        return { ...row!, groups: [] };
      });
    } catch (err) {
      if (isUniqueViolation(err, 'scim_users_org_username_uq')) fail('scim_uniqueness', `A user with userName "${input.userName}" already exists in this organization.`);
      if (isUniqueViolation(err, 'scim_users_org_account_uq')) fail('scim_uniqueness', `A user with the email ${email} is already provisioned in this organization.`);
      throw err;
    }
  }

  async function getUser(actor: Actor, id: string): Promise<ScimUserView> {
    const orgId = scimOrgId(actor);
    if (!isUuid(id)) fail('scim_user_not_found');
    const [row] = await db
      .select({ ...getTableColumns(scimUsers), groups: groupsOfUser })
      .from(scimUsers)
      .where(and(eq(scimUsers.orgId, orgId), eq(scimUsers.id, id)));
    if (!row) fail('scim_user_not_found');
    return row;
  }

  /** PUT, and PATCH (the adapter applies it to what it read: see PatchBase). active=false suspends at once. */
  async function replaceUser(actor: Actor, id: string, raw: ScimUserInput, opts: PatchBase<ScimUserInput> = {}): Promise<ScimUserView> {
    const orgId = scimOrgId(actor);
    const input = parseInput(userSchema, raw);
    const base = opts.base ? parseInput(userSchema, opts.base) : undefined;
    const changed = (k: keyof typeof input) => !base || JSON.stringify(input[k] ?? null) !== JSON.stringify(base[k] ?? null);
    assertCleanText(input, userTextKeys.filter(changed));
    try {
      return await db.transaction(async (tx) => {
        const org = await lockOrgForScim(tx, orgId);
        const before = await findUser(tx, orgId, id, true);
        const now = clock.now();
        const email =
          !changed('emails') && !changed('userName') ? before.email : input.emails?.length || isValidEmail(input.userName) ? emailOf(input) : before.email;
        const [after] = await tx
          .update(scimUsers)
          .set({
            userName: changed('userName') ? input.userName : before.userName,
            externalId: changed('externalId') ? (input.externalId ?? null) : before.externalId,
            givenName: changed('givenName') ? (input.givenName ?? null) : before.givenName,
            familyName: changed('familyName') ? (input.familyName ?? null) : before.familyName,
            displayName: changed('displayName') ? (input.displayName ?? null) : before.displayName,
            email,
            active: changed('active') ? (input.active ?? true) : before.active,
            updatedAt: now,
          })
          .where(eq(scimUsers.id, id))
          .returning({ ...getTableColumns(scimUsers), groups: groupsOfUser });
        if (before.active !== after!.active) await setStatus(tx, actor, org, before.accountId, after!.active ? 'active' : 'suspended', now);
        const { groups: _, ...afterRow } = after!;
        await recordAudit(tx, actor, { orgId, action: 'scim.user_updated', targetType: 'scim_user', targetId: id, before: auditUser(before), after: auditUser(afterRow) }, now);
        return after!;
      });
    } catch (err) {
      if (isUniqueViolation(err, 'scim_users_org_username_uq')) fail('scim_uniqueness', `A user with userName "${input.userName}" already exists in this organization.`);
      throw err;
    }
  }

  /** Suspends or restores a member (if the person is one), in one statement. */
  async function setStatus(tx: Tx, actor: Actor, org: OrgRow, accountId: string, status: 'active' | 'suspended', now: Date) {
    if (status === 'suspended' && accountId === org.primaryOwnerId) {
      fail('primary_owner_protected', "The organization's primary owner cannot be deactivated through SCIM. An owner must transfer primary ownership in Roster first.");
    }
    const r = await tx.execute<{ id: string; was: MembershipRow['status'] }>(sql`
      with old as (
        select id, status from memberships where org_id = ${org.id} and account_id = ${accountId} for update)
      update memberships m set status = ${status}, updated_at = ${now}
      from old where m.id = old.id and old.status <> ${status}
      returning m.id, old.status as was`);
    const changed = r.rows[0];
    if (!changed) return;
    await recordAudit(
      tx,
      actor,
      { orgId: org.id, action: status === 'suspended' ? 'member.suspended' : 'member.restored', targetType: 'membership', targetId: changed.id, before: { status: changed.was }, after: { status } },
      now,
    );
  }

  /** DELETE: the SCIM identity goes; the membership goes too if SCIM created it (SCIM only takes away what it granted). */
  async function deleteUser(actor: Actor, id: string): Promise<void> {
    const orgId = scimOrgId(actor);
    await db.transaction(async (tx) => {
      const org = await lockOrgForScim(tx, orgId);
      const row = await findUser(tx, orgId, id, true);
      const now = clock.now();
      const m = await findMembership(tx, orgId, row.accountId, { lock: true });
      if (m && m.accountId === org.primaryOwnerId) {
        fail('primary_owner_protected', "The organization's primary owner cannot be deprovisioned through SCIM. An owner must transfer primary ownership in Roster first.");
      }
      await tx.delete(scimUsers).where(eq(scimUsers.id, id));
      if (m && m.source === 'scim') {
        await tx.delete(memberships).where(eq(memberships.id, m.id));
        await tx.execute(sql`update accounts set active_org_id = null where id = ${m.accountId} and active_org_id = ${orgId}`);
        await recordAudit(tx, actor, { orgId, action: 'member.removed', targetType: 'membership', targetId: m.id, before: { accountId: m.accountId, role: m.role, source: m.source } }, now);
      } else if (m && m.scimBaseRole !== null) {
        // Roles the groups granted go back to what the person had before.
        await tx.update(memberships).set({ role: m.scimBaseRole, scimBaseRole: null, updatedAt: now }).where(eq(memberships.id, m.id));
      }
      await recordAudit(tx, actor, { orgId, action: 'scim.user_deprovisioned', targetType: 'scim_user', targetId: id, before: auditUser(row) }, now);
    });
  }

  async function listUsers(actor: Actor, q: ScimQuery): Promise<{ total: number; items: ScimUserView[] }> {
    const orgId = scimOrgId(actor);
    const where = and(eq(scimUsers.orgId, orgId), filterSql(q.anyOf, userField));
    const { limit, offset } = pageOf(q);
    // Each user's groups come in the same query: one round trip for the IdP's lookup by userName.
    const lookup = singleEqLookup(q.anyOf);
    const rows = !limit
      ? []
      : lookup
        ? await (lookup.field === 'username' ? usersByUserName : usersByExternalId).execute({ orgId, value: lookup.value, limit, offset })
        : await pageOfUsers(where, limit, offset);
    // A page that ends before the limit tells the total without counting (the common IdP lookup by userName).
    const n = rows.length && rows.length < limit ? offset + rows.length : await countWhere(scimUsers, where);
    return { total: n, items: rows };
  }

  /**
   * The page's ids first (an index-only scan for a plain page), then only those rows and their groups:
   * selecting whole rows with OFFSET would read, and compute groups for, every row it skips.
   */
  async function pageOfUsers(where: SQL | undefined, limit: number, offset: number): Promise<ScimUserView[]> {
    const page = db.select({ id: scimUsers.id }).from(scimUsers).where(where).orderBy(asc(scimUsers.createdAt), asc(scimUsers.id)).limit(limit).offset(offset).as('page');
    return db
      .select({ ...getTableColumns(scimUsers), groups: groupsOfUser })
      .from(page)
      .innerJoin(scimUsers, eq(scimUsers.id, page.id))
      .orderBy(asc(scimUsers.createdAt), asc(scimUsers.id));
  }

  async function countWhere(table: typeof scimUsers | typeof scimGroups, where: SQL | undefined): Promise<number> {
    const [r] = await db.select({ n: sql<number>`count(*)::int` }).from(table).where(where);
    return r?.n ?? 0;
  }

  // ---- Groups ----

  async function findGroup(ex: Tx | typeof db, orgId: string, id: string, lock = false): Promise<ScimGroupRow> {
    if (!isUuid(id)) fail('scim_group_not_found');
    const q = ex.select().from(scimGroups).where(and(eq(scimGroups.orgId, orgId), eq(scimGroups.id, id)));
    const [row] = lock ? await q.for('update') : await q;
    if (!row) fail('scim_group_not_found');
    return row;
  }

  async function groupMembers(ex: Tx | typeof db, groupId: string) {
    return ex
      .select({ id: scimUsers.id, display: sql<string>`coalesce(${scimUsers.displayName}, ${scimUsers.userName})` })
      .from(scimGroupMembers)
      .innerJoin(scimUsers, eq(scimUsers.id, scimGroupMembers.scimUserId))
      .where(eq(scimGroupMembers.groupId, groupId))
      .orderBy(asc(scimUsers.userName));
  }

  /**
   * Sets a group's members (and syncs their roles). With baseIds (a PATCH), only the PATCH's own adds and
   * removals relative to baseIds are applied to the current members. Returns the member count.
   */
  async function setGroupMembers(tx: Tx, actor: Actor, org: OrgRow, groupId: string, memberIds: string[], now: Date, baseIds?: string[]): Promise<number> {
    const requested = [...new Set(memberIds)];
    const current = (await tx.select({ id: scimGroupMembers.scimUserId }).from(scimGroupMembers).where(eq(scimGroupMembers.groupId, groupId))).map((r) => r.id);
    // Sets: groups can have many thousands of members.
    const base = baseIds ? new Set(baseIds) : undefined;
    const requestedSet = new Set(requested);
    const added = base ? requested.filter((w) => !base.has(w)) : requested;
    const dropped = new Set(baseIds?.filter((b) => !requestedSet.has(b)) ?? []);
    const wanted = base ? [...new Set([...current.filter((c) => !dropped.has(c)), ...added])] : requested;
    for (const id of added) if (!isUuid(id)) fail('invalid_input', `Group member "${id.slice(0, 60)}" is not a user of this organization.`);
    const known = added.length
      ? await tx.select({ id: scimUsers.id }).from(scimUsers).where(and(eq(scimUsers.orgId, org.id), inArray(scimUsers.id, added)))
      : [];
    if (known.length !== added.length) {
      const missing = added.find((w) => !known.some((k) => k.id === w));
      fail('invalid_input', `Group member "${missing}" is not a user of this organization.`);
    }
    const currentSet = new Set(current);
    const wantedSet = new Set(wanted);
    const add = wanted.filter((w) => !currentSet.has(w));
    const remove = current.filter((c) => !wantedSet.has(c));
    if (add.length) await tx.insert(scimGroupMembers).values(add.map((scimUserId) => ({ groupId, scimUserId }))).onConflictDoNothing();
    if (remove.length) await tx.delete(scimGroupMembers).where(and(eq(scimGroupMembers.groupId, groupId), inArray(scimGroupMembers.scimUserId, remove)));
    for (const userId of [...add, ...remove]) await syncRole(tx, actor, org, userId, now);
    return wanted.length;
  }

  /**
   * A member's role under SCIM groups: the highest role among their mapped groups, never below the
   * role they had without them (SCIM only takes away what it granted). Owner only if the org allows.
   */
  async function syncRole(tx: Tx, actor: Actor, org: OrgRow, scimUserId: string, now: Date): Promise<void> {
    const [u] = await tx.select({ accountId: scimUsers.accountId }).from(scimUsers).where(eq(scimUsers.id, scimUserId));
    if (!u || u.accountId === org.primaryOwnerId) return;
    const m = await findMembership(tx, org.id, u.accountId, { lock: true });
    if (!m) return;
    const granted = (
      await tx
        .select({ role: scimGroups.role })
        .from(scimGroupMembers)
        .innerJoin(scimGroups, eq(scimGroups.id, scimGroupMembers.groupId))
        .where(and(eq(scimGroupMembers.scimUserId, scimUserId), sql`${scimGroups.role} is not null`))
    )
      .map((r) => r.role!)
      .filter((r) => r !== 'owner' || org.scimAllowOwner);
    const base = m.scimBaseRole ?? m.role;
    const role = granted.length ? maxRole([...granted, base]) : base;
    const scimBaseRole = granted.length ? base : null;
    if (role === m.role && scimBaseRole === m.scimBaseRole) return;
    await tx.update(memberships).set({ role, scimBaseRole, updatedAt: now }).where(eq(memberships.id, m.id));
    if (role !== m.role) {
      await recordAudit(
        tx,
        actor,
        { orgId: org.id, action: 'member.role_changed', targetType: 'membership', targetId: m.id, before: { accountId: m.accountId, role: m.role }, after: { accountId: m.accountId, role, via: 'scim groups' } },
        now,
      );
    }
  }

  async function attachPendingMapping(tx: Tx, orgId: string, displayName: string): Promise<Role | null> {
    const [pending] = await tx
      .delete(scimPendingMappings)
      .where(and(eq(scimPendingMappings.orgId, orgId), sql`lower(${scimPendingMappings.displayName}) = lower(${displayName})`))
      .returning();
    return pending?.role ?? null;
  }

  async function createGroup(actor: Actor, raw: ScimGroupInput): Promise<ScimGroupView> {
    const orgId = scimOrgId(actor);
    const input = parseInput(groupSchema, raw);
    assertCleanText(input, groupTextKeys);
    return db.transaction(async (tx) => {
      const org = await lockOrgForScim(tx, orgId);
      const now = clock.now();
      const role = await attachPendingMapping(tx, orgId, input.displayName);
      const [group] = await tx
        .insert(scimGroups)
        .values({ orgId, displayName: input.displayName, externalId: input.externalId ?? null, role, createdAt: now, updatedAt: now })
        .returning();
      await setGroupMembers(tx, actor, org, group!.id, input.memberIds, now);
      await recordAudit(tx, actor, { orgId, action: 'scim.group_created', targetType: 'scim_group', targetId: group!.id, after: { displayName: input.displayName, role, members: input.memberIds.length } }, now);
      return { ...group!, members: await groupMembers(tx, group!.id) };
    });
  }

  async function getGroup(actor: Actor, id: string, withMembers = true): Promise<ScimGroupView> {
    const orgId = scimOrgId(actor);
    const g = await findGroup(db, orgId, id);
    return { ...g, members: withMembers ? await groupMembers(db, g.id) : undefined };
  }

  /** PUT, and PATCH (the adapter applies it to what it read: see PatchBase). */
  async function replaceGroup(actor: Actor, id: string, raw: ScimGroupInput, opts: PatchBase<ScimGroupInput> = {}): Promise<ScimGroupView> {
    const orgId = scimOrgId(actor);
    const input = parseInput(groupSchema, raw);
    const base = opts.base ? parseInput(groupSchema, opts.base) : undefined;
    assertCleanText(input, groupTextKeys.filter((k) => !base || JSON.stringify(input[k] ?? null) !== JSON.stringify(base[k] ?? null)));
    return db.transaction(async (tx) => {
      const org = await lockOrgForScim(tx, orgId);
      const before = await findGroup(tx, orgId, id, true);
      const now = clock.now();
      const [after] = await tx
        .update(scimGroups)
        .set({
          displayName: !base || input.displayName !== base.displayName ? input.displayName : before.displayName,
          externalId: !base || (input.externalId ?? null) !== (base.externalId ?? null) ? (input.externalId ?? null) : before.externalId,
          updatedAt: now,
        })
        .where(eq(scimGroups.id, id))
        .returning();
      const members = await setGroupMembers(tx, actor, org, id, input.memberIds, now, base?.memberIds);
      await recordAudit(
        tx,
        actor,
        { orgId, action: 'scim.group_updated', targetType: 'scim_group', targetId: id, before: { displayName: before.displayName }, after: { displayName: after!.displayName, members } },
        now,
      );
      return { ...after!, members: await groupMembers(tx, id) };
    });
  }

  async function deleteGroup(actor: Actor, id: string): Promise<void> {
    const orgId = scimOrgId(actor);
    await db.transaction(async (tx) => {
      const org = await lockOrgForScim(tx, orgId);
      const g = await findGroup(tx, orgId, id, true);
      const now = clock.now();
      await setGroupMembers(tx, actor, org, id, [], now);
      await tx.delete(scimGroups).where(eq(scimGroups.id, id));
      await recordAudit(tx, actor, { orgId, action: 'scim.group_deleted', targetType: 'scim_group', targetId: id, before: { displayName: g.displayName, role: g.role } }, now);
    });
  }

  async function listGroups(actor: Actor, q: ScimQuery): Promise<{ total: number; items: ScimGroupView[] }> {
    const orgId = scimOrgId(actor);
    const where = and(eq(scimGroups.orgId, orgId), filterSql(q.anyOf, groupField));
    const { limit, offset } = pageOf(q);
    const rows = limit
      ? await db.select().from(scimGroups).where(where).orderBy(asc(scimGroups.createdAt), asc(scimGroups.id)).limit(limit).offset(offset)
      : [];
    const n = rows.length && rows.length < limit ? offset + rows.length : await countWhere(scimGroups, where);
    const items: ScimGroupView[] = [];
    for (const g of rows) items.push({ ...g, members: q.withMembers === false ? undefined : await groupMembers(db, g.id) });
    return { total: n, items };
  }

  // ---- What owners configure (Slack, CLI) ----

  /**
   * Maps a group, by its name as the IdP shows it, to a role (null removes the mapping). The mapping is
   * stored on the group (its stable id), so renaming the group in the IdP keeps it; for a group the IdP
   * has not pushed yet, it waits under the name and moves onto the group when it arrives.
   */
  async function mapGroup(actor: Actor, orgId: string, groupName: string, roleName: string | null): Promise<{ pending: boolean; groups: number }> {
    const role = roleName === null ? null : parseRole(roleName);
    const name = assertText(groupName, 'The group name').trim();
    if (!name || name.length > 256) fail('invalid_input', 'Give the group name as your identity provider shows it (1–256 characters).');
    return db.transaction(async (tx) => {
      const { org } = await lockOrgFor(tx, actor, orgId, 'scim:manage');
      if (role === 'owner' && !org.scimAllowOwner) {
        fail('forbidden', 'SCIM may not grant the owner role in this organization. An owner can allow it first (`/org scim allow-owner on`).');
      }
      const now = clock.now();
      const groups = await tx
        .select()
        .from(scimGroups)
        .where(and(eq(scimGroups.orgId, orgId), sql`lower(${scimGroups.displayName}) = lower(${name})`))
        .for('update');
      await tx.delete(scimPendingMappings).where(and(eq(scimPendingMappings.orgId, orgId), sql`lower(${scimPendingMappings.displayName}) = lower(${name})`));
      if (!groups.length && role) await tx.insert(scimPendingMappings).values({ orgId, displayName: name, role, createdAt: now });
      for (const g of groups) {
        await tx.update(scimGroups).set({ role, updatedAt: now }).where(eq(scimGroups.id, g.id));
        const memberIds = (await tx.select({ id: scimGroupMembers.scimUserId }).from(scimGroupMembers).where(eq(scimGroupMembers.groupId, g.id))).map((r) => r.id);
        const fresh = await requireOrg(tx, orgId);
        for (const id of memberIds) await syncRole(tx, actor, fresh, id, now);
      }
      await recordAudit(tx, actor, { orgId, action: 'scim.group_mapped', targetType: 'org', targetId: orgId, after: { group: name, role, pending: !groups.length } }, now);
      return { pending: !groups.length, groups: groups.length };
    });
  }

  async function mappings(actor: Actor, orgId: string): Promise<{ group: string; role: Role; pending: boolean; members: number }[]> {
    authorize(await requireMembership(db, actor, orgId), 'scim:manage');
    const live = await db
      .select({ group: scimGroups.displayName, role: scimGroups.role, members: sql<number>`(select count(*)::int from scim_group_members m where m.group_id = "scim_groups"."id")` })
      .from(scimGroups)
      .where(and(eq(scimGroups.orgId, orgId), sql`${scimGroups.role} is not null`))
      .orderBy(asc(scimGroups.displayName));
    const pending = await db.select().from(scimPendingMappings).where(eq(scimPendingMappings.orgId, orgId));
    return [
      ...live.map((l) => ({ group: l.group, role: l.role!, pending: false, members: l.members })),
      ...pending.map((p) => ({ group: p.displayName, role: p.role, pending: true, members: 0 })),
    ];
  }

  async function updateSettings(actor: Actor, orgId: string, s: { defaultRole?: string; allowOwner?: boolean }): Promise<OrgRow> {
    const defaultRole = s.defaultRole !== undefined ? parseRole(s.defaultRole) : undefined;
    return db.transaction(async (tx) => {
      const { org } = await lockOrgFor(tx, actor, orgId, 'scim:manage');
      const allowOwner = s.allowOwner ?? org.scimAllowOwner;
      // The default that would apply, not only a new one: turning owner off must not leave owner as the default.
      if ((defaultRole ?? org.scimDefaultRole) === 'owner' && !allowOwner) {
        fail('invalid_input', 'The default SCIM role cannot be owner unless SCIM may grant owner. Change the default SCIM role first (`/org scim default-role member`).');
      }
      const now = clock.now();
      const [after] = await tx
        .update(orgs)
        .set({ scimDefaultRole: defaultRole ?? org.scimDefaultRole, scimAllowOwner: allowOwner, updatedAt: now })
        .where(eq(orgs.id, orgId))
        .returning();
      if (org.scimAllowOwner && !allowOwner) {
        // SCIM may no longer grant owner: take back the owner role its groups granted (never below the base role).
        const granted = await tx
          .selectDistinct({ id: scimGroupMembers.scimUserId })
          .from(scimGroupMembers)
          .innerJoin(scimGroups, eq(scimGroups.id, scimGroupMembers.groupId))
          .where(and(eq(scimGroups.orgId, orgId), eq(scimGroups.role, 'owner')));
        for (const { id } of granted) await syncRole(tx, actor, after!, id, now);
      }
      await recordAudit(
        tx,
        actor,
        {
          orgId,
          action: 'scim.settings_changed',
          targetType: 'org',
          targetId: orgId,
          before: { defaultRole: org.scimDefaultRole, allowOwner: org.scimAllowOwner },
          after: { defaultRole: after!.scimDefaultRole, allowOwner: after!.scimAllowOwner },
        },
        now,
      );
      return after!;
    });
  }

  return {
    createUser,
    getUser,
    replaceUser,
    deleteUser,
    listUsers,
    createGroup,
    getGroup,
    replaceGroup,
    deleteGroup,
    listGroups,
    mapGroup,
    mappings,
    updateSettings,
  };
}

/**
 * LIMIT and OFFSET for a list request. A startIndex past 2^53 is refused: JavaScript numbers lose
 * precision there, and from 2^63 PostgreSQL fails ("out of range for type bigint"). A count is capped
 * at MAX_PAGE; a startIndex below 1 means 1 (RFC 7644 §3.4.2.4).
 */
function pageOf(q: ScimQuery): { limit: number; offset: number } {
  if (!(q.startIndex <= Number.MAX_SAFE_INTEGER)) fail('invalid_input', `startIndex can be at most ${Number.MAX_SAFE_INTEGER}.`);
  const limit = Math.max(0, Math.min(Math.trunc(q.count) || 0, MAX_PAGE));
  return { limit, offset: Math.max(Math.trunc(q.startIndex) - 1, 0) };
}

function auditUser(u: ScimUserRow) {
  return { userName: u.userName, externalId: u.externalId, email: u.email, active: u.active };
}

// ---- Filters → SQL (indexed: userName, externalId and email lookups stay fast at 100k users) ----

type FieldSql = { expr: SQL; caseInsensitive: boolean; kind: 'text' | 'bool' | 'time' | 'id' };

function userField(field: string): FieldSql | undefined {
  switch (field.toLowerCase()) {
    case 'id':
      return { expr: sql`${scimUsers.id}::text`, caseInsensitive: true, kind: 'id' };
    case 'username':
      return { expr: sql`${scimUsers.userName}`, caseInsensitive: true, kind: 'text' };
    case 'externalid':
      return { expr: sql`${scimUsers.externalId}`, caseInsensitive: false, kind: 'text' };
    case 'emails.value':
    case 'emails':
      return { expr: sql`${scimUsers.email}`, caseInsensitive: true, kind: 'text' };
    case 'displayname':
      return { expr: sql`${scimUsers.displayName}`, caseInsensitive: true, kind: 'text' };
    case 'name.givenname':
      return { expr: sql`${scimUsers.givenName}`, caseInsensitive: true, kind: 'text' };
    case 'name.familyname':
      return { expr: sql`${scimUsers.familyName}`, caseInsensitive: true, kind: 'text' };
    case 'active':
      return { expr: sql`${scimUsers.active}`, caseInsensitive: false, kind: 'bool' };
    case 'meta.created':
      return { expr: sql`${scimUsers.createdAt}`, caseInsensitive: false, kind: 'time' };
    case 'meta.lastmodified':
      return { expr: sql`${scimUsers.updatedAt}`, caseInsensitive: false, kind: 'time' };
    default:
      return undefined;
  }
}

function groupField(field: string): FieldSql | undefined {
  switch (field.toLowerCase()) {
    case 'id':
      return { expr: sql`${scimGroups.id}::text`, caseInsensitive: true, kind: 'id' };
    case 'displayname':
      return { expr: sql`${scimGroups.displayName}`, caseInsensitive: true, kind: 'text' };
    case 'externalid':
      return { expr: sql`${scimGroups.externalId}`, caseInsensitive: false, kind: 'text' };
    case 'members.value':
    case 'members':
      return { expr: sql`(select string_agg(scim_user_id::text, ',') from scim_group_members m where m.group_id = "scim_groups"."id")`, caseInsensitive: true, kind: 'id' };
    case 'meta.created':
      return { expr: sql`${scimGroups.createdAt}`, caseInsensitive: false, kind: 'time' };
    case 'meta.lastmodified':
      return { expr: sql`${scimGroups.updatedAt}`, caseInsensitive: false, kind: 'time' };
    default:
      return undefined;
  }
}

export class UnsupportedFilterError extends Error {}

function likeEscape(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** `userName eq "…"` or `externalId eq "…"` alone, with the value as filterSql compares it; else undefined. */
function singleEqLookup(anyOf: FilterTerm[][]): { field: 'username' | 'externalid'; value: string } | undefined {
  const t = anyOf.length === 1 && anyOf[0]!.length === 1 ? anyOf[0]![0]! : undefined;
  if (!t || t.op !== 'eq' || typeof t.value !== 'string') return undefined;
  const field = t.field.toLowerCase();
  const f = field === 'username' || field === 'externalid' ? userField(field) : undefined;
  if (!f) return undefined;
  return { field: field as 'username' | 'externalid', value: f.caseInsensitive ? t.value.toLowerCase() : t.value };
}

function filterSql(anyOf: FilterTerm[][], fieldOf: (f: string) => FieldSql | undefined): SQL | undefined {
  if (!anyOf.length) return undefined;
  const ors = anyOf.map((all) => {
    const ands = all.map((t) => termSql(t, fieldOf));
    // No terms left (e.g. only emails[type eq "work"], which every user has): matches all, not "()".
    if (!ands.length) return sql`true`;
    return ands.length === 1 ? ands[0]! : sql`(${sql.join(ands, sql` and `)})`;
  });
  return ors.length === 1 ? ors[0] : sql`(${sql.join(ors, sql` or `)})`;
}

function termSql(t: FilterTerm, fieldOf: (f: string) => FieldSql | undefined): SQL {
  const problem = typeof t.value === 'string' ? textProblem(t.value) : undefined;
  if (problem) throw new UnsupportedFilterError(`The value compared with "${t.field}" contains ${problem}.`);
  const f = fieldOf(t.field);
  if (!f) throw new UnsupportedFilterError(`Filtering on "${t.field}" is not supported.`);
  if (t.op === 'pr') return sql`(${f.expr} is not null)`;
  if (t.value === undefined) throw new UnsupportedFilterError(`The "${t.op}" comparison on "${t.field}" needs a value.`);
  if (f.kind === 'bool') {
    // "True"/"False" strings are Entra's booleans; anything else is not a boolean, and no match is a guess.
    if (typeof t.value !== 'boolean' && !/^(true|false)$/i.test(String(t.value))) throw new UnsupportedFilterError(`"${t.field}" is true or false, not ${JSON.stringify(t.value)}.`);
    const v = typeof t.value === 'boolean' ? t.value : String(t.value).toLowerCase() === 'true';
    if (t.op === 'eq') return sql`(${f.expr} = ${v})`;
    if (t.op === 'ne') return sql`(${f.expr} <> ${v})`;
    throw new UnsupportedFilterError(`"${t.field}" can only be compared with eq or ne.`);
  }
  if (t.value === null) return t.op === 'ne' ? sql`(${f.expr} is not null)` : sql`(${f.expr} is null)`;
  const raw = String(t.value);
  if (f.kind === 'time') {
    const d = new Date(raw);
    if (Number.isNaN(d.getTime())) throw new UnsupportedFilterError(`"${raw}" is not a date-time.`);
    // JavaScript dates reach years PostgreSQL's timestamps cannot hold ("timestamp out of range").
    if (d.getUTCFullYear() < 1 || d.getUTCFullYear() > 9999) throw new UnsupportedFilterError(`"${raw}" is not a date-time between the years 1 and 9999.`);
    const op = { eq: '=', ne: '<>', gt: '>', ge: '>=', lt: '<', le: '<=' }[t.op as 'eq'];
    if (!op) throw new UnsupportedFilterError(`"${t.field}" cannot be compared with ${t.op}.`);
    return sql`(${f.expr} ${sql.raw(op)} ${d})`;
  }
  const col = f.caseInsensitive ? sql`lower(${f.expr})` : f.expr;
  const val = f.caseInsensitive ? raw.toLowerCase() : raw;
  if (f.kind === 'id' && t.field.toLowerCase().startsWith('members')) {
    if (t.op !== 'eq') throw new UnsupportedFilterError('members can only be filtered with eq.');
    return sql`exists (select 1 from scim_group_members m where m.group_id = "scim_groups"."id" and m.scim_user_id::text = ${val})`;
  }
  switch (t.op) {
    case 'eq':
      return sql`(${col} = ${val})`;
    case 'ne':
      return sql`(${col} is distinct from ${val})`;
    case 'co':
      return sql`(${col} like ${`%${likeEscape(val)}%`})`;
    case 'sw':
      return sql`(${col} like ${`${likeEscape(val)}%`})`;
    case 'ew':
      return sql`(${col} like ${`%${likeEscape(val)}`})`;
    case 'gt':
      return sql`(${col} > ${val})`;
    case 'ge':
      return sql`(${col} >= ${val})`;
    case 'lt':
      return sql`(${col} < ${val})`;
    case 'le':
      return sql`(${col} <= ${val})`;
    default:
      throw new UnsupportedFilterError(`Unknown comparison "${t.op}".`);
  }
}
