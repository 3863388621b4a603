import { and, eq } from 'drizzle-orm';
import { memberships, orgs, type MembershipRow, type OrgRow } from '../db/schema.js';
import { authorize, credentialRoles, type Permission, type Standing } from './access.js';
import type { Actor, Executor } from './context.js';
import { fail } from './errors.js';
import { parseId } from './validation.js';

/**
 * How the actor stands in an org: their membership (role, status) or, for non-person actors, the
 * standing their credential gives them. Throws org_not_found / not_a_member.
 */
export async function requireMembership(ex: Executor, actor: Actor, orgId: string): Promise<Standing> {
  parseId(orgId, 'organization id');
  if (actor.type === 'system') {
    await requireOrg(ex, orgId);
    return { role: credentialRoles.system, status: 'active' };
  }
  if (actor.type === 'scim') {
    if (actor.orgId !== orgId) fail('org_not_found');
    return { role: credentialRoles.scim, status: 'active' };
  }
  if (actor.type === 'api') {
    // A key of another org learns nothing of this one: the same answer as an org that does not exist.
    if (actor.orgId !== null && actor.orgId !== orgId) fail('org_not_found');
    // An org key's org exists while the key does (deleting the org deletes its keys, and every process
    // forgets them at once): no query. An operator key may name any org.
    if (actor.orgId === null) await requireOrg(ex, orgId);
    return { role: credentialRoles.api, status: 'active', readOnly: actor.readOnly };
  }
  const [row] = await ex
    .select({ role: memberships.role, status: memberships.status, orgName: orgs.name })
    .from(memberships)
    .innerJoin(orgs, eq(orgs.id, memberships.orgId))
    .where(and(eq(memberships.orgId, orgId), eq(memberships.accountId, actor.accountId)));
  if (row) return row;
  await requireOrg(ex, orgId);
  fail('not_a_member');
}

export async function requireOrg(ex: Executor, orgId: string, opts: { lock?: boolean } = {}): Promise<OrgRow> {
  parseId(orgId, 'organization id');
  const q = ex.select().from(orgs).where(eq(orgs.id, orgId));
  const [org] = opts.lock ? await q.for('update') : await q;
  if (!org) fail('org_not_found');
  return org;
}

export async function findMembership(ex: Executor, orgId: string, accountId: string, opts: { lock?: boolean } = {}): Promise<MembershipRow | undefined> {
  const q = ex
    .select()
    .from(memberships)
    .where(and(eq(memberships.orgId, orgId), eq(memberships.accountId, accountId)));
  const [m] = opts.lock ? await q.for('update') : await q;
  return m;
}

export function actorAccountId(actor: Actor): string | null {
  return actor.type === 'account' ? actor.accountId : null;
}

/**
 * Locks the org row, then reads the actor's standing: every write that can change owners or seats goes
 * through here, so concurrent changes to one org are serialized and each sees the other's result.
 */
export async function lockOrgFor(tx: Executor, actor: Actor, orgId: string, permission: Permission): Promise<{ org: OrgRow; standing: Standing }> {
  const org = await requireOrg(tx, orgId, { lock: true });
  const standing = await requireMembership(tx, actor, orgId);
  authorize(standing, permission);
  return { org, standing };
}
