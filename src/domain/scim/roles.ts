import { capitalized } from '../../shared/text.js';
import { and, eq, sql } from 'drizzle-orm';
import { memberships, scimGroupMembers, scimGroups, scimUsers, type MembershipRow, type OrgRow } from '../../db/schema.js';
import { highestRole, oneWhoMay, ownerRole } from '../access.js';
import { emit } from '../events.js';
import type { Actor, Tx } from '../context.js';
import { fail } from '../errors.js';
import { findMembership } from '../standing.js';

/** What SCIM does to a membership: suspend or restore it, and give it the role its mapped groups grant. */

/** Suspends or restores a member (if the person is one), in one statement. */
export async function setStatus(tx: Tx, actor: Actor, org: OrgRow, accountId: string, status: 'active' | 'suspended', now: Date) {
  if (status === 'suspended' && accountId === org.primaryOwnerId) {
    fail('primary_owner_protected', `The organization's primary owner cannot be deactivated through SCIM. ${capitalized(oneWhoMay('owner:grant'))} must transfer primary ownership in Roster first.`);
  }
  const r = await tx.execute<{ id: string; was: MembershipRow['status'] }>(sql`
    with old as (
      select id, status from memberships where org_id = ${org.id} and account_id = ${accountId} for update)
    update memberships m set status = ${status}, updated_at = ${now}
    from old where m.id = old.id and old.status <> ${status}
    returning m.id, old.status as was`);
  const changed = r.rows[0];
  if (!changed) return;
  await emit(
    tx,
    actor,
    { orgId: org.id, action: status === 'suspended' ? 'member.suspended' : 'member.restored', targetType: 'membership', targetId: changed.id, before: { status: changed.was }, after: { status } },
    now,
  );
}

/**
 * A member's role under SCIM groups: the highest role among their mapped groups, never below the
 * role they had without them (SCIM only takes away what it granted). Owner only if the org allows.
 */
export async function syncRole(tx: Tx, actor: Actor, org: OrgRow, scimUserId: string, now: Date): Promise<void> {
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
    .filter((r) => r !== ownerRole || org.scimAllowOwner);
  const base = m.scimBaseRole ?? m.role;
  const role = granted.length ? highestRole([...granted, base]) : base;
  const scimBaseRole = granted.length ? base : null;
  if (role === m.role && scimBaseRole === m.scimBaseRole) return;
  await tx.update(memberships).set({ role, scimBaseRole, updatedAt: now }).where(eq(memberships.id, m.id));
  if (role !== m.role) {
    await emit(
      tx,
      actor,
      { orgId: org.id, action: 'member.role_changed', targetType: 'membership', targetId: m.id, before: { accountId: m.accountId, role: m.role }, after: { accountId: m.accountId, role, via: 'scim groups' } },
      now,
    );
  }
}
