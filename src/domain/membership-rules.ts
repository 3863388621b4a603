import { and, eq, gt, isNull, ne, or, sql } from 'drizzle-orm';
import { rowOf } from '../db/rows.js';
import { accounts, invites, memberships, type MembershipRow, type OrgRow } from '../db/schema.js';
import { oneWhoMay, ownerRole, type Role } from './access.js';
import { emit } from './events.js';
import type { Actor, DomainSettings, Executor } from './context.js';
import { fail } from './errors.js';

/**
 * Rules shared by every way into an org (creating it, accepting an invite, an approved join request,
 * SCIM provisioning). Callers hold the org row lock (requireOrg(..., { lock: true })) so seat counts
 * and owner counts cannot race.
 */

/** MEMBERSHIP_MODE=single (Elastic): a person belongs to at most one org at a time. */
export async function assertMayJoinAnotherOrg(
  tx: Executor,
  settings: DomainSettings,
  accountId: string,
  exceptOrgId?: string,
): Promise<void> {
  if (settings.membershipMode !== 'single') return;
  // Serialize joins of one person, so two accepts at once cannot both pass the check.
  await tx.select({ id: accounts.id }).from(accounts).where(eq(accounts.id, accountId)).for('update');
  const [other] = await tx
    .select({ id: memberships.id })
    .from(memberships)
    .where(
      exceptOrgId
        ? and(eq(memberships.accountId, accountId), ne(memberships.orgId, exceptOrgId))
        : eq(memberships.accountId, accountId),
    )
    .limit(1);
  if (other) fail('single_membership');
}

/** Seats in use: members (active or suspended) plus pending invites that have not expired. */
export async function seatsInUse(tx: Executor, orgId: string, now: Date, exceptInviteId?: string): Promise<number> {
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
  const [i] = await tx.select({ n: sql<number>`count(*)::int` }).from(invites).where(pendingWhere);
  return (m?.n ?? 0) + (i?.n ?? 0);
}

/** Depot "your plan allows inviting N": members + pending invites may not exceed the seat limit. */
export async function assertSeatAvailable(
  tx: Executor,
  org: OrgRow,
  now: Date,
  opts: { exceptInviteId?: string; adding?: number } = {},
): Promise<void> {
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
  },
  now: Date,
): Promise<MembershipRow> {
  // One round trip; a person with no active org lands in this one (SPEC §4).
  const r = await tx.execute<Record<string, unknown>>(sql`
    with landed as (
      update accounts set active_org_id = ${input.org.id}, updated_at = ${now}
      where id = ${input.accountId} and active_org_id is null)
    insert into memberships (org_id, account_id, role, billing_emails, source, joined_at, updated_at)
    values (${input.org.id}, ${input.accountId}, ${input.role}, ${input.billingEmails}, ${input.source}, ${now}, ${now})
    returning *`);
  const m = rowOf(memberships, r.rows[0]!);
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
export async function ownerCount(tx: Executor, orgId: string): Promise<number> {
  const [r] = await tx
    .select({ n: sql<number>`count(*)::int` })
    .from(memberships)
    .where(and(eq(memberships.orgId, orgId), eq(memberships.role, ownerRole), eq(memberships.status, 'active')));
  return r?.n ?? 0;
}
