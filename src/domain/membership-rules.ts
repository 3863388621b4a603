import { randomUUID } from 'node:crypto';
import { and, eq, gt, isNull, ne, or, sql } from 'drizzle-orm';
import { rowOf } from '../db/rows.js';
import { accounts, invites, memberships, orgs, scimUsers, type MembershipRow, type OrgRow } from '../db/schema.js';
import { oneWhoMay, ownerRole, type Role } from './access.js';
import { emit } from './events.js';
import type { Actor, DomainSettings, Executor } from './context.js';
import { fail, type Hint } from './errors.js';

/**
 * The one membership write path. Every way into an org (creating it, accepting an invite, an approved
 * join request, SCIM provisioning) and every change to a membership (role, suspension, removal, leaving)
 * goes through the functions here, which check the org's invariants once (seats, one org per person,
 * the primary owner, at least one active owner) and emit the member.* event. Callers hold the org row
 * lock (lockOrgFor / lockOrgForScim) so seat counts and owner counts cannot race; who may ask for the
 * change (permissions, SCIM ownership) is the caller's check.
 */

/** MEMBERSHIP_MODE=single (Elastic): a person belongs to at most one org at a time. */
export async function assertMayJoinAnotherOrg(tx: Executor, settings: DomainSettings, accountId: string, exceptOrgId?: string): Promise<void> {
  if (settings.membershipMode !== 'single') return;
  // Serialize joins of one person, so two accepts at once cannot both pass the check.
  await tx.select({ id: accounts.id }).from(accounts).where(eq(accounts.id, accountId)).for('update');
  const [other] = await tx
    .select({ id: memberships.id })
    .from(memberships)
    // A membership the person has not consented to yet is no membership: another org's IdP cannot lock them out.
    .where(and(eq(memberships.accountId, accountId), ne(memberships.status, 'pending'), exceptOrgId ? ne(memberships.orgId, exceptOrgId) : undefined))
    .limit(1);
  if (other) fail('single_membership');
}

/** Seats in use: members (active or suspended) plus pending invites that have not expired. */
async function seatsInUse(tx: Executor, orgId: string, now: Date, exceptInviteId?: string): Promise<number> {
  const [m] = await tx
    .select({ n: sql<number>`count(*)::int` })
    .from(memberships)
    .where(eq(memberships.orgId, orgId));
  const pendingWhere = and(
    eq(invites.orgId, orgId),
    eq(invites.status, 'pending'),
    or(isNull(invites.expiresAt), gt(invites.expiresAt, now)),
    exceptInviteId ? ne(invites.id, exceptInviteId) : undefined,
  );
  const [i] = await tx
    .select({ n: sql<number>`count(*)::int` })
    .from(invites)
    .where(pendingWhere);
  return (m?.n ?? 0) + (i?.n ?? 0);
}

/** Depot "your plan allows inviting N": members + pending invites may not exceed the seat limit. */
export async function assertSeatAvailable(tx: Executor, org: OrgRow, now: Date, opts: { exceptInviteId?: string; adding?: number } = {}): Promise<void> {
  if (org.seatLimit === null) return;
  const used = await seatsInUse(tx, org.id, now, opts.exceptInviteId);
  if (used + (opts.adding ?? 1) > org.seatLimit) {
    fail(
      'seat_limit',
      `${org.name} has used all ${org.seatLimit} seats (members and pending invites). Remove a member or revoke a pending invite, or ask ${oneWhoMay('org:update')} to raise the seat limit.`,
    );
  }
}

export async function addMembership(
  tx: Executor,
  actor: Actor,
  input: {
    org: OrgRow;
    accountId: string;
    role: Role;
    billingEmails: boolean;
    source: MembershipRow['source'];
    /** The org becomes the person's active one even if they have one (its creator). */
    makeActive?: boolean;
    /**
     * The membership waits for the person's consent (an IdP claimed an email outside the org's verified
     * domains): no access, not their active org, and they are asked (member.pending) to accept or decline.
     */
    pending?: { email: string; idp: string };
  },
  now: Date,
): Promise<MembershipRow> {
  const status = input.pending ? 'pending' : 'active';
  // One round trip; a person with no active org lands in this one (not in one they have yet to accept).
  const r = await tx.execute<Record<string, unknown>>(sql`
    with landed as (
      update accounts set active_org_id = ${input.org.id}, updated_at = ${now}
      where id = ${input.accountId} and ${status} = 'active' and (active_org_id is null or ${input.makeActive ?? false}))
    insert into memberships (org_id, account_id, role, status, billing_emails, source, joined_at, updated_at)
    values (${input.org.id}, ${input.accountId}, ${input.role}, ${status}, ${input.billingEmails}, ${input.source}, ${now}, ${now})
    returning *`);
  const m = rowOf(memberships, r.rows[0]!);
  if (input.pending) {
    await emit(
      tx,
      actor,
      {
        orgId: input.org.id,
        action: 'member.pending',
        targetType: 'membership',
        targetId: m.id,
        after: { accountId: input.accountId, role: input.role, source: input.source, email: input.pending.email },
        notify: [
          {
            kind: 'member.consent_requested',
            recipientAccountId: input.accountId,
            recipientEmail: input.pending.email,
            payload: { membershipId: m.id, orgName: input.org.name, idp: input.pending.idp },
            dedupeKey: `member.consent_requested:${m.id}`,
          },
        ],
      },
      now,
    );
    return m;
  }
  await emit(
    tx,
    actor,
    {
      orgId: input.org.id,
      action: 'member.added',
      targetType: 'membership',
      targetId: m.id,
      after: { accountId: input.accountId, role: input.role, billingEmails: input.billingEmails, source: input.source },
    },
    now,
  );
  return m;
}

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

/** Suspends or restores a person's membership (if they have one), in one statement: member.suspended or member.restored. */
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
  const r = await tx.execute<{ id: string; was: MembershipRow['status'] }>(sql`
    with old as (
      -- A pending membership stays pending: only the person's consent gives it access.
      select id, status from memberships where org_id = ${org.id} and account_id = ${accountId} and status <> 'pending' for update)
    update memberships m set status = ${status}, updated_at = ${now}
    from old where m.id = old.id and old.status <> ${status}
    returning m.id, old.status as was`);
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

/**
 * The person accepts a membership their org's IdP made for them: it becomes active (or suspended, if the
 * IdP has deactivated them meanwhile), and member.added says they joined. Call with the org row locked.
 */
export async function confirmPendingMembership(
  tx: Executor,
  actor: Actor,
  settings: DomainSettings,
  org: OrgRow,
  m: MembershipRow,
  now: Date,
): Promise<MembershipRow> {
  if (m.status !== 'pending') fail('consent_not_pending');
  await assertMayJoinAnotherOrg(tx, settings, m.accountId, org.id);
  // The IdP may have deactivated the person while they were deciding: they join, suspended.
  const [u] = await tx
    .select({ active: scimUsers.active })
    .from(scimUsers)
    .where(and(eq(scimUsers.orgId, org.id), eq(scimUsers.accountId, m.accountId)));
  const status = u && !u.active ? 'suspended' : 'active';
  const r = await tx.execute<Record<string, unknown>>(sql`
    with landed as (
      update accounts set active_org_id = ${org.id}, updated_at = ${now}
      where id = ${m.accountId} and ${status} = 'active' and active_org_id is null)
    update memberships set status = ${status}, joined_at = ${now}, updated_at = ${now} where id = ${m.id}
    returning *`);
  const after = rowOf(memberships, r.rows[0]!);
  await emit(
    tx,
    actor,
    {
      orgId: org.id,
      action: 'member.added',
      targetType: 'membership',
      targetId: m.id,
      after: { accountId: m.accountId, role: m.role, billingEmails: m.billingEmails, source: m.source, consented: true },
    },
    now,
  );
  return after;
}

/** The person declines it: the membership goes (member.declined). Call with the org row locked. */
export async function declinePendingMembership(tx: Executor, actor: Actor, org: OrgRow, m: MembershipRow, now: Date): Promise<void> {
  if (m.status !== 'pending') fail('consent_not_pending');
  await tx.delete(memberships).where(eq(memberships.id, m.id));
  await emit(
    tx,
    actor,
    { orgId: org.id, action: 'member.declined', targetType: 'membership', targetId: m.id, before: { accountId: m.accountId, role: m.role } },
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
