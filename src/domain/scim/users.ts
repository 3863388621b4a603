import { and, asc, eq, getTableColumns, sql, type SQL } from 'drizzle-orm';
import { scimUsers } from '../../db/schema.js';
import { findOrCreateAccountByEmail } from '../accounts.js';
import { emit } from '../events.js';
import { type Actor, type Deps, isUniqueViolation } from '../context.js';
import { fail } from '../errors.js';
import { addMembership, assertMayJoinAnotherOrg, assertSeatAvailable, declinedBefore } from '../membership-rules/index.js';
import { isOnVerifiedDomain } from '../domains/service.js';
import { findMembership } from '../standing.js';
import { isValidEmail, parseInput } from '../validation.js';
import { pageOf, singleEqLookup, filterSql, userField } from './filter-sql.js';
import { assertCleanText, auditUser, emailOf, isUuid, scimOrgId, userSchema, userTextKeys } from './input.js';
import { countWhere, findUser, groupsOfUser, lockOrgForScim } from './queries.js';
import { primaryOwnerThroughScim, setStatus } from './roles.js';
import { assertNotPrimaryOwner, changeMembershipRole, endMembership } from '../membership-rules/index.js';
import type { PatchBase, ScimQuery, ScimUserInput, ScimUserView } from './types.js';

/** How the person asked for consent hears of the IdP: "Acme's identity provider (SCIM token okta)". */
function idpLabel(actor: Actor): string {
  return actor.type === 'scim' ? `SCIM token ${actor.label}` : 'identity provider';
}

/** /Users: provisioning people. The org always comes from the token (the actor), never from the body. */
export function createScimUsers(deps: Deps) {
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
        // The org's IdP speaks for people on the org's verified domains only (see README, Domains and trust).
        const trusted = await isOnVerifiedDomain(tx, orgId, email);
        // A taken userName is caught by the unique index at the insert below (no read first). What the IdP
        // calls the person stays on this org's SCIM user; a new account takes it only from a trusted IdP.
        const idpName = input.displayName || [input.givenName, input.familyName].filter(Boolean).join(' ') || undefined;
        const { account, created } = await findOrCreateAccountByEmail(tx, { email, displayName: trusted ? idpName : undefined }, actor, now);
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
          // Someone else's address waits for their consent: no access, and no refusal the IdP would retry.
          if (trusted) await assertMayJoinAnotherOrg(tx, settings, account.id, orgId);
          await assertSeatAvailable(tx, org, now);
          // Someone who declined this org before is not asked again (an IdP re-creating them cannot spam them).
          const pending = trusted ? undefined : { email, idp: idpLabel(actor), quiet: !created && (await declinedBefore(tx, orgId, account.id)) };
          await addMembership(tx, actor, { org, accountId: account.id, role: org.scimDefaultRole, billingEmails: false, source: 'scim', pending }, now);
        }
        if (!row!.active) await setStatus(tx, actor, org, account.id, 'suspended', now);
        await emit(tx, actor, { orgId, action: 'scim.user_provisioned', targetType: 'scim_user', targetId: row!.id, after: auditUser(row!) }, now);
        return { ...row!, groups: [] };
      });
    } catch (err) {
      if (isUniqueViolation(err, 'scim_users_org_username_uq'))
        fail('scim_uniqueness', `A user with userName "${input.userName}" already exists in this organization.`);
      if (isUniqueViolation(err, 'scim_users_org_account_uq'))
        fail('scim_uniqueness', `A user with the email ${email} is already provisioned in this organization.`);
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
        await emit(
          tx,
          actor,
          { orgId, action: 'scim.user_updated', targetType: 'scim_user', targetId: id, before: auditUser(before), after: auditUser(afterRow) },
          now,
        );
        return after!;
      });
    } catch (err) {
      if (isUniqueViolation(err, 'scim_users_org_username_uq'))
        fail('scim_uniqueness', `A user with userName "${input.userName}" already exists in this organization.`);
      throw err;
    }
  }

  /** DELETE: the SCIM identity goes; the membership goes too if SCIM created it (SCIM only takes away what it granted). */
  async function deleteUser(actor: Actor, id: string): Promise<void> {
    const orgId = scimOrgId(actor);
    await db.transaction(async (tx) => {
      const org = await lockOrgForScim(tx, orgId);
      const row = await findUser(tx, orgId, id, true);
      const now = clock.now();
      const m = await findMembership(tx, orgId, row.accountId, { lock: true });
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

  return { createUser, getUser, replaceUser, deleteUser, listUsers };
}
