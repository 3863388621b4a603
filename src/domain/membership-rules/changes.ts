import { randomUUID } from 'node:crypto';
import { and, eq, sql } from 'drizzle-orm';
import { builtOnceSql, slot } from '../../db/built-once.js';
import { accounts, memberships, orgs, pastMemberships, type MembershipRow, type OrgRow } from '../../db/schema.js';
import { ownerRole, type Role } from '../access.js';
import { emit } from '../events.js';
import type { Actor, Executor } from '../context.js';
import { fail, type Hint } from '../errors.js';

/** Changes to a membership: role, suspension, billing emails, primary ownership, and its end. */

/** Active owners left in the org. Call with the org row locked. */
async function ownerCount(tx: Executor, orgId: string): Promise<number> {
  const [r] = await tx
    .select({ n: sql<number>`count(*)::int` })
    .from(memberships)
    .where(and(eq(memberships.orgId, orgId), eq(memberships.role, ownerRole), eq(memberships.status, 'active')));
  return r?.n ?? 0;
}

/** A membership as the write path needs it. */
type MembershipTarget = {
  membershipId: string;
  accountId: string;
  role: Role;
  status: MembershipRow['status'];
  email?: string | null;
  source?: MembershipRow['source'];
  scimBaseRole?: Role | null;
};

/** How a refusal to touch the primary owner is worded where the default does not fit. */
type PrimaryOwnerRefusal = { message?: string; hint?: Hint };

/** The primary owner cannot be removed, demoted, suspended or leave: they transfer primary ownership first. */
export function assertNotPrimaryOwner(org: OrgRow, target: { accountId: string }, refusal: PrimaryOwnerRefusal = {}): void {
  if (target.accountId === org.primaryOwnerId) fail('primary_owner_protected', refusal.message, refusal.hint ? { hint: refusal.hint } : {});
}

/** An org keeps at least one active owner: refuses a change that would take away its last one. */
async function assertKeepsAnOwner(tx: Executor, org: OrgRow, target: MembershipTarget): Promise<void> {
  if (target.role === ownerRole && target.status === 'active' && (await ownerCount(tx, org.id)) <= 1) fail('last_owner');
}

/**
 * Gives a member another role, emitting member.role_changed (with the notification to the member when
 * `notice` says so). `scimBaseRole` sets the role SCIM groups fall back to (undefined: unchanged).
 */
export async function changeMembershipRole(
  tx: Executor,
  actor: Actor,
  org: OrgRow,
  target: MembershipTarget,
  role: Role,
  now: Date,
  opts: { scimBaseRole?: Role | null; via?: string; notice?: { byAccountId: string | null } } = {},
): Promise<void> {
  if (role !== target.role) {
    assertNotPrimaryOwner(org, target);
    if (role !== ownerRole) await assertKeepsAnOwner(tx, org, target);
  }
  await tx
    .update(memberships)
    .set({ role, updatedAt: now, ...(opts.scimBaseRole !== undefined ? { scimBaseRole: opts.scimBaseRole } : {}) })
    .where(eq(memberships.id, target.membershipId));
  if (role === target.role) return;
  await emit(
    tx,
    actor,
    {
      orgId: org.id,
      action: 'member.role_changed',
      targetType: 'membership',
      targetId: target.membershipId,
      before: { accountId: target.accountId, role: target.role },
      after: { accountId: target.accountId, role, ...(opts.via ? { via: opts.via } : {}) },
      notify: opts.notice
        ? [
            {
              kind: 'member.role_changed',
              recipientAccountId: target.accountId,
              payload: { orgName: org.name, from: target.role, to: role, byAccountId: opts.notice.byAccountId },
              dedupeKey: `member.role_changed:${randomUUID()}`,
            },
          ]
        : [],
    },
    now,
  );
}

/**
 * Ends a membership: removed by someone (member.removed, with a notification to the person when
 * `notify`) or left (member.left). The person's active org is cleared if it was this one.
 */
export async function endMembership(
  tx: Executor,
  actor: Actor,
  org: OrgRow,
  target: MembershipTarget,
  now: Date,
  opts: { how: 'removed' | 'left'; notify?: boolean; primaryOwner?: PrimaryOwnerRefusal },
): Promise<void> {
  assertNotPrimaryOwner(org, target, opts.primaryOwner);
  await assertKeepsAnOwner(tx, org, target);
  await tx.delete(memberships).where(eq(memberships.id, target.membershipId));
  await recordPastMembership(tx, org.id, target.accountId, opts.how, now);
  await tx
    .update(accounts)
    .set({ activeOrgId: null })
    .where(and(eq(accounts.id, target.accountId), eq(accounts.activeOrgId, org.id)));
  const before = {
    accountId: target.accountId,
    role: target.role,
    ...(target.email !== undefined ? { email: target.email } : {}),
    ...(target.source ? { source: target.source } : {}),
  };
  if (opts.how === 'left') {
    await emit(tx, actor, { orgId: org.id, action: 'member.left', targetType: 'membership', targetId: target.membershipId, before }, now);
    return;
  }
  await emit(
    tx,
    actor,
    {
      orgId: org.id,
      action: 'member.removed',
      targetType: 'membership',
      targetId: target.membershipId,
      before,
      notify: opts.notify
        ? [{ kind: 'member.removed', recipientAccountId: target.accountId, payload: { orgName: org.name }, dedupeKey: `member.removed:${target.membershipId}` }]
        : [],
    },
    now,
  );
}

/** How someone's membership ended, the last time (their email domain never brings them back by itself). */
export async function recordPastMembership(tx: Executor, orgId: string, accountId: string, how: 'removed' | 'left' | 'declined', now: Date): Promise<void> {
  await tx
    .insert(pastMemberships)
    .values({ orgId, accountId, how, at: now })
    .onConflictDoUpdate({ target: [pastMemberships.orgId, pastMemberships.accountId], set: { how, at: now } });
}

/** Suspends or restores a person's membership (if they have one), in one statement: member.suspended or member.restored. */
const updateStatus = builtOnceSql<{ id: string; was: MembershipRow['status'] }>(
  'membership status',
  sql`
    with old as (
      -- A pending membership stays pending: only the person's consent gives it access.
      select id, status from memberships where org_id = ${slot('orgId')} and account_id = ${slot('accountId')} and status <> 'pending' for update)
    update memberships m set status = ${slot('status')}, updated_at = ${slot('now')}
    from old where m.id = old.id and old.status <> ${slot('status')}
    returning m.id, old.status as was`,
);

export async function setMembershipStatus(
  tx: Executor,
  actor: Actor,
  org: OrgRow,
  accountId: string,
  status: MembershipRow['status'],
  now: Date,
  opts: { primaryOwner?: PrimaryOwnerRefusal } = {},
): Promise<void> {
  if (status === 'suspended') assertNotPrimaryOwner(org, { accountId }, opts.primaryOwner);
  const r = await updateStatus(tx, { orgId: org.id, accountId, status, now });
  const changed = r.rows[0];
  if (!changed) return;
  await emit(
    tx,
    actor,
    {
      orgId: org.id,
      action: status === 'suspended' ? 'member.suspended' : 'member.restored',
      targetType: 'membership',
      targetId: changed.id,
      before: { status: changed.was },
      after: { status },
    },
    now,
  );
}

/** The primary owner always receives billing emails. */
export function assertPrimaryOwnerKeepsBilling(org: OrgRow, target: { accountId: string }, on: boolean): void {
  if (!on && target.accountId === org.primaryOwnerId) fail('primary_owner_billing');
}

/** Who receives billing emails (member.billing_emails_changed). */
export async function setMembershipBillingEmails(
  tx: Executor,
  actor: Actor,
  org: OrgRow,
  target: MembershipTarget & { billingEmails: boolean },
  on: boolean,
  now: Date,
): Promise<void> {
  assertPrimaryOwnerKeepsBilling(org, target, on);
  if (target.billingEmails === on) return;
  await tx.update(memberships).set({ billingEmails: on, updatedAt: now }).where(eq(memberships.id, target.membershipId));
  await emit(
    tx,
    actor,
    {
      orgId: org.id,
      action: 'member.billing_emails_changed',
      targetType: 'membership',
      targetId: target.membershipId,
      before: { billingEmails: target.billingEmails },
      after: { billingEmails: on },
    },
    now,
  );
}

/** Primary ownership moves only to another active owner, who from then on receives billing emails. */
export async function transferPrimaryOwnershipTo(
  tx: Executor,
  actor: Actor,
  org: OrgRow,
  target: MembershipTarget & { billingEmails: boolean },
  now: Date,
): Promise<void> {
  if (target.accountId === org.primaryOwnerId) return;
  if (target.role !== ownerRole || target.status !== 'active') fail('transfer_target_not_owner');
  await tx.update(orgs).set({ primaryOwnerId: target.accountId, updatedAt: now }).where(eq(orgs.id, org.id));
  const after = { ...org, primaryOwnerId: target.accountId };
  await setMembershipBillingEmails(tx, actor, after, target, true, now);
  await emit(
    tx,
    actor,
    {
      orgId: org.id,
      action: 'org.primary_owner_transferred',
      targetType: 'org',
      targetId: org.id,
      before: { primaryOwnerId: org.primaryOwnerId },
      after: { primaryOwnerId: target.accountId },
    },
    now,
  );
}
