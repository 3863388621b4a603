import { and, asc, eq, sql, type SQL } from 'drizzle-orm';
import { orgs, scimGroupMembers, scimGroups, scimUsers, type OrgRow, type ScimGroupRow, type ScimUserRow } from '../../db/schema.js';
import { builtOnce, builtOnceSql, slot } from '../../db/built-once.js';
import type { Executor, Tx } from '../context.js';
import { fail } from '../errors.js';
import { isUuid } from './input.js';

/** Reads and locks that SCIM's users, groups and mappings share. */

/**
 * A SCIM user's groups, as a column of the user's row (json, ordered by name). `scim_users.id` is
 * written out: drizzle renders a column of a single-table select as a bare "id", which here is g.id.
 */
export const groupsOfUser = sql<{ id: string; displayName: string }[]>`coalesce((
  select json_agg(json_build_object('id', g.id, 'displayName', g.display_name) order by g.display_name)
  from ${scimGroupMembers} gm join ${scimGroups} g on g.id = gm.group_id
  where gm.scim_user_id = scim_users.id), '[]'::json)`;

/**
 * Locks the org against change while SCIM adds to it: every change to an org row first takes FOR
 * UPDATE (lockOrgFor, requireOrg with lock), which waits for this. KEY SHARE, not SHARE: it is the lock
 * the foreign-key checks of the inserts take anyway, so concurrent provisioning adds no second lock
 * mode on the one hot org row. Seat-limited orgs also serialize SCIM adds.
 */
export async function lockOrgForScim(tx: Tx, orgId: string): Promise<OrgRow> {
  // Both statements are sent now, in this order (built-once statements are sent when called), with
  // whatever the caller sends next: the seat lock is taken by the server if the org row just locked has
  // a seat limit, so nothing waits for the first answer.
  const read = orgForScim(tx, { orgId });
  const seats = seatLockForScim(tx, { orgId });
  const [[org]] = await Promise.all([read, seats]);
  if (!org) fail('org_not_found');
  return org;
}

const orgForScim = builtOnce('org for SCIM', (tx) =>
  tx
    .select()
    .from(orgs)
    .where(eq(orgs.id, slot('orgId')))
    .for('key share'),
);
const seatLockForScim = builtOnceSql(
  'seat lock for SCIM',
  sql`select pg_advisory_xact_lock(hashtextextended(${slot('orgId')}::text, 7)) from orgs where id = ${slot('orgId')} and seat_limit is not null`,
);

const userOf = (ex: Executor) =>
  ex
    .select()
    .from(scimUsers)
    .where(and(eq(scimUsers.orgId, slot('orgId')), eq(scimUsers.id, slot('id'))));
const userById = builtOnce('SCIM user', userOf);
const userByIdLocked = builtOnce('SCIM user, locked', (ex) => userOf(ex).for('update'));

export async function findUser(ex: Executor, orgId: string, id: string, lock = false): Promise<ScimUserRow> {
  if (!isUuid(id)) fail('scim_user_not_found');
  const [row] = await (lock ? userByIdLocked : userById)(ex, { orgId, id });
  if (!row) fail('scim_user_not_found');
  return row;
}

export async function countWhere(ex: Executor, table: typeof scimUsers | typeof scimGroups, where: SQL | undefined): Promise<number> {
  const [r] = await ex
    .select({ n: sql<number>`count(*)::int` })
    .from(table)
    .where(where);
  return r?.n ?? 0;
}

export async function findGroup(ex: Executor, orgId: string, id: string, lock = false): Promise<ScimGroupRow> {
  if (!isUuid(id)) fail('scim_group_not_found');
  const q = ex
    .select()
    .from(scimGroups)
    .where(and(eq(scimGroups.orgId, orgId), eq(scimGroups.id, id)));
  const [row] = lock ? await q.for('update') : await q;
  if (!row) fail('scim_group_not_found');
  return row;
}

export async function groupMembers(ex: Executor, groupId: string) {
  return ex
    .select({ id: scimUsers.id, display: sql<string>`coalesce(${scimUsers.displayName}, ${scimUsers.userName})` })
    .from(scimGroupMembers)
    .innerJoin(scimUsers, eq(scimUsers.id, scimGroupMembers.scimUserId))
    .where(eq(scimGroupMembers.groupId, groupId))
    .orderBy(asc(scimUsers.userName));
}
