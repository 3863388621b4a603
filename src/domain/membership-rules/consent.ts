import { and, eq, sql } from 'drizzle-orm';
import { rowOf } from '../../db/rows.js';
import { memberships, pastMemberships, scimUsers, type MembershipRow, type OrgRow } from '../../db/schema.js';
import { emit } from '../events.js';
import type { Actor, DomainSettings, Executor } from '../context.js';
import { fail } from '../errors.js';
import { recordPastMembership } from './changes.js';
import { assertMayJoinAnotherOrg } from './joining.js';

/** A membership an org's IdP made for someone off its verified domains: the person's answer. */

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
  /** Why without the person's answer: the org verified this domain of their address since. */
  domainVerified?: string,
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
      after: {
        accountId: m.accountId,
        role: m.role,
        billingEmails: m.billingEmails,
        source: m.source,
        ...(domainVerified ? { domainVerified } : { consented: true }),
      },
    },
    now,
  );
  return after;
}

/** The person declines it: the membership goes (member.declined). Call with the org row locked. */
export async function declinePendingMembership(tx: Executor, actor: Actor, org: OrgRow, m: MembershipRow, now: Date): Promise<void> {
  if (m.status !== 'pending') fail('consent_not_pending');
  await tx.delete(memberships).where(eq(memberships.id, m.id));
  await recordPastMembership(tx, org.id, m.accountId, 'declined', now);
  await emit(
    tx,
    actor,
    { orgId: org.id, action: 'member.declined', targetType: 'membership', targetId: m.id, before: { accountId: m.accountId, role: m.role } },
    now,
  );
}

/** Whether the person declined this org's IdP before (it then does not ask them again). */
export async function declinedBefore(tx: Executor, orgId: string, accountId: string): Promise<boolean> {
  const [row] = await tx
    .select({ how: pastMemberships.how })
    .from(pastMemberships)
    .where(and(eq(pastMemberships.orgId, orgId), eq(pastMemberships.accountId, accountId), eq(pastMemberships.how, 'declined')));
  return !!row;
}
