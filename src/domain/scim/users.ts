import { and, asc, eq, getTableColumns, sql, type SQL } from 'drizzle-orm';
import { builtOnce, slot, slotsFor } from '../../db/built-once.js';
import { scimUsers } from '../../db/schema.js';
import { emit } from '../events.js';
import { type Actor, type Deps } from '../context.js';
import { fail } from '../errors.js';
import { findMembership } from '../standing.js';
import { parseInput } from '../validation.js';
import { pageOf, singleEqLookup, filterSql, userField } from './filter-sql.js';
import { assertCleanText, auditUser, emailOf, isUuid, scimOrgId, userSchema, userTextKeys } from './input.js';
import { countWhere, findUser, groupsOfUser, lockOrgForScim } from './queries.js';
import { primaryOwnerThroughScim } from './roles.js';
import { assertNotPrimaryOwner, changeMembershipRole, endMembership } from '../membership-rules/index.js';
import { accountFor, admit } from './provision.js';
import { isOnVerifiedDomain } from '../domains/service.js';
import type { ScimQuery, ScimUserInput, ScimUserView } from './types.js';
import { columnsOf, idpNameOf, uniqueness } from './user-columns.js';
import { createUserWrites, type NextUser } from './user-writes.js';

/** /Users: provisioning people. The org always comes from the token (the actor), never from the body. */
/** A new SCIM user, every column decided by the create (columnsOf's, the account, the email, the times). */
const insertUser = builtOnce('SCIM user insert', (tx) =>
  tx
    .insert(scimUsers)
    .values(
      slotsFor(scimUsers, [
        'orgId',
        'accountId',
        'userName',
        'externalId',
        'givenName',
        'familyName',
        'displayName',
        'active',
        'resource',
        'email',
        'createdAt',
        'updatedAt',
      ]),
    )
    .returning(),
);

/** GET by id: the user with its groups. */
const userWithGroups = builtOnce('SCIM user with groups', (ex) =>
  ex
    .select({ ...getTableColumns(scimUsers), groups: groupsOfUser })
    .from(scimUsers)
    .where(and(eq(scimUsers.orgId, slot('orgId')), eq(scimUsers.id, slot('id')))),
);

export function createScimUsers(deps: Deps) {
  const { db, clock } = deps;
  const writes = createUserWrites(deps);

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
   * POST /Users: finds or creates the account by email, links it, and adds a membership with the org's
   * default SCIM role (or keeps the membership a person already had). A user with no email is kept
   * without an account until one is known.
   */
  async function createUser(actor: Actor, raw: ScimUserInput): Promise<ScimUserView> {
    const orgId = scimOrgId(actor);
    const input = parseInput(userSchema, raw);
    assertCleanText(input, userTextKeys);
    const email = emailOf(input);
    try {
      return await db.transaction(async (tx) => {
        // The org's lock and the verified-domain check travel together (the lock first).
        const [org, onVerifiedDomain] = await Promise.all([lockOrgForScim(tx, orgId), email ? isOnVerifiedDomain(tx, orgId, email) : false]);
        const now = clock.now();
        const linked = email ? await accountFor(tx, actor, orgId, email, idpNameOf(input), now, onVerifiedDomain) : undefined;
        const columns = columnsOf(input);
        // A taken userName is caught by the unique index at this insert (no read first); the membership
        // needs nothing the insert answers, so its statements follow in the same trip.
        const inserted = insertUser(tx, { orgId, accountId: linked?.account.id ?? null, ...columns, email: email ?? null, createdAt: now, updatedAt: now });
        const admitted = linked ? admit(tx, deps, actor, org, linked, columns.active, now) : undefined;
        const [[row]] = await Promise.all([inserted, admitted]);
        await emit(tx, actor, { orgId, action: 'scim.user_provisioned', targetType: 'scim_user', targetId: row!.id, after: auditUser(row!) }, now);
        return { ...row!, groups: [] };
      });
    } catch (err) {
      uniqueness(err, input.userName, email);
    }
  }

  async function getUser(actor: Actor, id: string): Promise<ScimUserView> {
    const orgId = scimOrgId(actor);
    if (!isUuid(id)) fail('scim_user_not_found');
    const [row] = await userWithGroups(db, { orgId, id });
    if (!row) fail('scim_user_not_found');
    return row;
  }

  /** PUT: the user becomes what the IdP sent. active=false suspends at once. */
  async function replaceUser(actor: Actor, id: string, raw: ScimUserInput): Promise<ScimUserView> {
    return writes.write(actor, id, async () => raw);
  }

  /**
   * PATCH: `apply` (the adapter's, RFC 7644 §3.5.2) turns the user as it is now, read under its row
   * lock, into the user it becomes; parallel PATCHes of one user (Okta and Entra send them) apply one
   * after the other, each to what the one before wrote. Nothing changed writes nothing.
   */
  async function patchUser(actor: Actor, id: string, apply: NextUser): Promise<ScimUserView> {
    return writes.write(actor, id, apply);
  }

  /** DELETE: the SCIM identity goes; the membership goes too if SCIM created it (SCIM only takes away what it granted). */
  async function deleteUser(actor: Actor, id: string): Promise<void> {
    const orgId = scimOrgId(actor);
    await db.transaction(async (tx) => {
      const org = await lockOrgForScim(tx, orgId);
      const row = await findUser(tx, orgId, id, true);
      const now = clock.now();
      const m = row.accountId ? await findMembership(tx, orgId, row.accountId, { lock: true }) : undefined;
      const refusal = { message: primaryOwnerThroughScim('deprovisioned') };
      if (m) assertNotPrimaryOwner(org, m, refusal);
      await tx.delete(scimUsers).where(eq(scimUsers.id, id));
      if (m && m.source === 'scim') {
        await endMembership(tx, actor, org, { membershipId: m.id, accountId: m.accountId, role: m.role, status: m.status, source: m.source }, now, {
          how: 'removed',
          primaryOwner: refusal,
        });
      } else if (m && m.scimBaseRole !== null) {
        // Roles the groups granted go back to what the person had before.
        await changeMembershipRole(tx, actor, org, { membershipId: m.id, ...m }, m.scimBaseRole, now, { scimBaseRole: null, via: 'scim groups' });
      }
      await emit(tx, actor, { orgId, action: 'scim.user_deprovisioned', targetType: 'scim_user', targetId: id, before: auditUser(row) }, now);
    });
  }

  async function listUsers(actor: Actor, q: ScimQuery): Promise<{ total: number; items: ScimUserView[] }> {
    const orgId = scimOrgId(actor);
    const where = and(eq(scimUsers.orgId, orgId), filterSql(q.anyOf, userField, sql`${scimUsers.resource}`));
    const { limit, offset } = pageOf(q);
    // Each user's groups come in the same query: one round trip for the IdP's lookup by userName.
    const lookup = singleEqLookup(q.anyOf);
    const rows = !limit
      ? []
      : lookup
        ? await (lookup.field === 'username' ? usersByUserName : usersByExternalId).execute({ orgId, value: lookup.value, limit, offset })
        : await pageOfUsers(where, limit, offset);
    // A page that ends before the limit tells the total without counting (the common IdP lookup by userName).
    const n = rows.length && rows.length < limit ? offset + rows.length : await countWhere(db, scimUsers, where);
    return { total: n, items: rows };
  }

  /**
   * The page's ids first (an index-only scan for a plain page), then only those rows and their groups:
   * selecting whole rows with OFFSET would read, and compute groups for, every row it skips.
   */
  async function pageOfUsers(where: SQL | undefined, limit: number, offset: number): Promise<ScimUserView[]> {
    const page = db
      .select({ id: scimUsers.id })
      .from(scimUsers)
      .where(where)
      .orderBy(asc(scimUsers.createdAt), asc(scimUsers.id))
      .limit(limit)
      .offset(offset)
      .as('page');
    return db
      .select({ ...getTableColumns(scimUsers), groups: groupsOfUser })
      .from(page)
      .innerJoin(scimUsers, eq(scimUsers.id, page.id))
      .orderBy(asc(scimUsers.createdAt), asc(scimUsers.id));
  }

  return { createUser, getUser, replaceUser, patchUser, deleteUser, listUsers };
}
