import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import { scimGroupMembers, scimGroups, scimPendingMappings, scimUsers, type OrgRow } from '../../db/schema.js';
import type { Role } from '../access.js';
import { emit } from '../events.js';
import type { Actor, Deps, Tx } from '../context.js';
import { fail } from '../errors.js';
import { parseInput } from '../validation.js';
import { filterSql, groupField, pageOf } from './filter-sql.js';
import { assertCleanText, groupSchema, groupTextKeys, isUuid, scimOrgId } from './input.js';
import { countWhere, findGroup, groupMembers, lockOrgForScim } from './queries.js';
import { syncRole } from './roles.js';
import type { PatchBase, ScimGroupInput, ScimGroupView, ScimQuery } from './types.js';

/** /Groups: groups, their members, and the roles mapped groups grant. */
export function createScimGroups(deps: Deps) {
  const { db, clock } = deps;

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
      ? await tx
          .select({ id: scimUsers.id })
          .from(scimUsers)
          .where(and(eq(scimUsers.orgId, org.id), inArray(scimUsers.id, added)))
      : [];
    if (known.length !== added.length) {
      const missing = added.find((w) => !known.some((k) => k.id === w));
      fail('invalid_input', `Group member "${missing}" is not a user of this organization.`);
    }
    const currentSet = new Set(current);
    const wantedSet = new Set(wanted);
    const add = wanted.filter((w) => !currentSet.has(w));
    const remove = current.filter((c) => !wantedSet.has(c));
    if (add.length)
      await tx
        .insert(scimGroupMembers)
        .values(add.map((scimUserId) => ({ groupId, scimUserId })))
        .onConflictDoNothing();
    if (remove.length) await tx.delete(scimGroupMembers).where(and(eq(scimGroupMembers.groupId, groupId), inArray(scimGroupMembers.scimUserId, remove)));
    for (const userId of [...add, ...remove]) await syncRole(tx, actor, org, userId, now);
    return wanted.length;
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
      await emit(
        tx,
        actor,
        {
          orgId,
          action: 'scim.group_created',
          targetType: 'scim_group',
          targetId: group!.id,
          after: { displayName: input.displayName, role, members: input.memberIds.length },
        },
        now,
      );
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
    assertCleanText(
      input,
      groupTextKeys.filter((k) => !base || JSON.stringify(input[k] ?? null) !== JSON.stringify(base[k] ?? null)),
    );
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
      await emit(
        tx,
        actor,
        {
          orgId,
          action: 'scim.group_updated',
          targetType: 'scim_group',
          targetId: id,
          before: { displayName: before.displayName },
          after: { displayName: after!.displayName, members },
        },
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
      await emit(
        tx,
        actor,
        { orgId, action: 'scim.group_deleted', targetType: 'scim_group', targetId: id, before: { displayName: g.displayName, role: g.role } },
        now,
      );
    });
  }

  async function listGroups(actor: Actor, q: ScimQuery): Promise<{ total: number; items: ScimGroupView[] }> {
    const orgId = scimOrgId(actor);
    const where = and(eq(scimGroups.orgId, orgId), filterSql(q.anyOf, groupField));
    const { limit, offset } = pageOf(q);
    const rows = limit
      ? await db.select().from(scimGroups).where(where).orderBy(asc(scimGroups.createdAt), asc(scimGroups.id)).limit(limit).offset(offset)
      : [];
    const n = rows.length && rows.length < limit ? offset + rows.length : await countWhere(db, scimGroups, where);
    const items: ScimGroupView[] = [];
    for (const g of rows) items.push({ ...g, members: q.withMembers === false ? undefined : await groupMembers(db, g.id) });
    return { total: n, items };
  }

  return { createGroup, getGroup, replaceGroup, deleteGroup, listGroups };
}
