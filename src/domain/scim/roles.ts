import { and, eq, sql } from 'drizzle-orm';
import { scimGroupMembers, scimGroups, scimUsers, type OrgRow } from '../../db/schema.js';
import { highestRole, ownerRole } from '../access.js';
import { changeMembershipRole, setMembershipStatus } from '../membership-rules/index.js';
import type { Actor, Tx } from '../context.js';
import { findMembership } from '../standing.js';

/** What SCIM does to a membership: suspend or restore it, and give it the role its mapped groups grant. */

/** Suspends or restores a member (if the person is one), in one statement. */
export async function setStatus(tx: Tx, actor: Actor, org: OrgRow, accountId: string, status: 'active' | 'suspended', now: Date) {
  await setMembershipStatus(tx, actor, org, accountId, status, now, { primaryOwner: { message: primaryOwnerThroughScim('deactivated') } });
}

/** Why SCIM may not take the primary owner away: "deactivated", "deprovisioned". */
export function primaryOwnerThroughScim(what: string): string {
  return `The organization's primary owner cannot be ${what} through SCIM. The primary owner must first transfer primary ownership in Roster.`;
}

/**
 * A member's role under SCIM groups: the highest role among their mapped groups, never below the
 * role they had without them (SCIM only takes away what it granted). Owner only if the org allows.
 */
export async function syncRole(tx: Tx, actor: Actor, org: OrgRow, scimUserId: string, now: Date): Promise<void> {
  const [u] = await tx.select({ accountId: scimUsers.accountId }).from(scimUsers).where(eq(scimUsers.id, scimUserId));
  if (!u?.accountId || u.accountId === org.primaryOwnerId) return;
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
  await changeMembershipRole(tx, actor, org, { membershipId: m.id, ...m }, role, now, { scimBaseRole, via: 'scim groups' });
}
