import { and, eq, gt, isNull, ne, or, sql } from 'drizzle-orm';
import { builtOnceSql, slot } from '../../db/built-once.js';
import { rowOf } from '../../db/rows.js';
import { accounts, invites, memberships, type MembershipRow, type OrgRow } from '../../db/schema.js';
import { oneWhoMay, type Role } from '../access.js';
import { emit } from '../events.js';
import type { Actor, DomainSettings, Executor } from '../context.js';
import { fail } from '../errors.js';

/** Ways into an org: the checks before joining (one org per person, seats) and the insert itself. */

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

// One round trip; a person with no active org lands in this one (not in one they have yet to accept).
const insertMembership = builtOnceSql(
  'membership insert',
  sql`
    with landed as (
      update accounts set active_org_id = ${slot('orgId')}, updated_at = ${slot('now')}
      where id = ${slot('accountId')} and ${slot('status')} = 'active' and (active_org_id is null or ${slot('makeActive')}))
    insert into memberships (org_id, account_id, role, status, billing_emails, source, joined_at, updated_at)
    values (${slot('orgId')}, ${slot('accountId')}, ${slot('role')}, ${slot('status')}, ${slot('billingEmails')}, ${slot('source')}, ${slot('now')}, ${slot('now')})
    returning *`,
);

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
    pending?: { email: string; idp: string; /** They declined this org before: it does not ask again (no notice). */ quiet?: boolean };
  },
  now: Date,
): Promise<MembershipRow> {
  const status = input.pending ? 'pending' : 'active';
  // One round trip; a person with no active org lands in this one (not in one they have yet to accept).
  const r = await insertMembership(tx, {
    orgId: input.org.id,
    accountId: input.accountId,
    role: input.role,
    status,
    billingEmails: input.billingEmails,
    source: input.source,
    makeActive: input.makeActive ?? false,
    now,
  });
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
        notify: input.pending.quiet
          ? []
          : [
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
