import { and, asc, eq, sql } from 'drizzle-orm';
import { accounts, memberships, orgs, type MembershipRow } from '../db/schema.js';
import { assertCanGrant, assertCanManage, assertMayOverrideIdp, authorize, oneWhoMay, ownerRole, parseRole, type Role } from './access.js';
import { memberListOrder } from './roles/sql.js';
import type { Actor, Deps, Executor } from './context.js';
import { fail } from './errors.js';
import {
  assertNotPrimaryOwner,
  assertPrimaryOwnerKeepsBilling,
  changeMembershipRole,
  endMembership,
  setMembershipBillingEmails,
  transferPrimaryOwnershipTo,
} from './membership-rules/index.js';
import { actorAccountId, lockOrgFor, requireMembership } from './standing.js';
import { emailSchema, parseId, parseInput } from './validation.js';

export type MemberView = {
  membershipId: string;
  accountId: string;
  displayName: string;
  email: string | null;
  role: Role;
  status: MembershipRow['status'];
  billingEmails: boolean;
  source: MembershipRow['source'];
  /** The role SCIM groups would fall back to; non-null means the IdP's groups manage this role. */
  scimBaseRole: Role | null;
  joinedAt: Date;
  isPrimaryOwner: boolean;
};

/** What the identity provider owns about a member: their membership (SCIM created it) and/or their role (SCIM groups). */
function scimOwnership(m: Pick<MemberView, 'source' | 'scimBaseRole'>): { membership: boolean; role: boolean } {
  return { membership: m.source === 'scim', role: m.scimBaseRole !== null };
}

type ForceOption = { force?: boolean };

/**
 * A member's name within the org: what the org's IdP calls them (its SCIM user), else their own (for
 * someone pending: their address's local part). The IdP's name never leaves the org: the account's own
 * name is only the person's to change.
 */
const nameInOrg = sql<string>`coalesce((
  select nullif(coalesce(su.display_name, trim(concat_ws(' ', su.given_name, su.family_name))), '')
  from scim_users su where su.org_id = ${memberships.orgId} and su.account_id = ${memberships.accountId}),
  -- Until they accept, the org sees nothing of the person beyond what its IdP sent.
  case when ${memberships.status} = 'pending' then split_part(${accounts.email}, '@', 1) else ${accounts.displayName} end)`;

const memberColumns = {
  membershipId: memberships.id,
  accountId: memberships.accountId,
  displayName: nameInOrg,
  email: accounts.email,
  role: memberships.role,
  status: memberships.status,
  billingEmails: memberships.billingEmails,
  source: memberships.source,
  scimBaseRole: memberships.scimBaseRole,
  joinedAt: memberships.joinedAt,
};

/** Thrown to roll back a transaction that ran only to check its rules (leave's check). */
const checkedOnly = new Error('checked only');

export function createMemberService(deps: Deps) {
  const { db, clock } = deps;

  async function list(actor: Actor, orgId: string, page: { limit?: number; offset?: number } = {}): Promise<MemberView[]> {
    authorize(await requireMembership(db, actor, orgId), 'member:view', 'read');
    const [org] = await db.select({ primaryOwnerId: orgs.primaryOwnerId }).from(orgs).where(eq(orgs.id, orgId));
    const rows = await db
      .select(memberColumns)
      .from(memberships)
      .innerJoin(accounts, eq(accounts.id, memberships.accountId))
      .where(eq(memberships.orgId, orgId))
      .orderBy(memberListOrder(memberships.role), asc(nameInOrg))
      .limit(Math.max(0, Math.min(Math.trunc(page.limit ?? 1000) || 0, 5000)))
      .offset(Math.max(0, Math.trunc(page.offset ?? 0) || 0));
    return rows.map((r) => ({ ...r, isPrimaryOwner: r.accountId === org?.primaryOwnerId }));
  }

  async function count(actor: Actor, orgId: string): Promise<number> {
    authorize(await requireMembership(db, actor, orgId), 'member:view', 'read');
    const [r] = await db
      .select({ n: sql<number>`count(*)::int` })
      .from(memberships)
      .where(eq(memberships.orgId, orgId));
    return r?.n ?? 0;
  }

  /** One member, by account id or email, as seen by someone in the org. */
  async function find(actor: Actor, orgId: string, who: { accountId?: string; email?: string }): Promise<MemberView> {
    authorize(await requireMembership(db, actor, orgId), 'member:view', 'read');
    return findIn(db, orgId, who);
  }

  async function findIn(ex: Executor, orgId: string, who: { accountId?: string; email?: string }): Promise<MemberView> {
    const cond = who.accountId
      ? eq(memberships.accountId, parseId(who.accountId, 'account id'))
      : sql`lower(${accounts.email}) = lower(${parseInput(emailSchema, who.email ?? '')})`;
    const [row] = await ex
      .select({ ...memberColumns, primaryOwnerId: sql<string>`(select primary_owner_id from orgs where id = ${orgId})` })
      .from(memberships)
      .innerJoin(accounts, eq(accounts.id, memberships.accountId))
      .where(and(eq(memberships.orgId, orgId), cond));
    if (!row) fail('member_not_found');
    const { primaryOwnerId, ...rest } = row;
    return { ...rest, isPrimaryOwner: rest.accountId === primaryOwnerId };
  }

  /** Owners change anyone's role; admins change admin and below and cannot touch owners (HCTI). */
  /**
   * Owners change anyone's role; admins change admin and below and cannot touch owners (HCTI). A role
   * that SCIM groups manage is the IdP's: only an owner may force a change, which becomes the role the
   * groups fall back to.
   */
  async function changeRole(actor: Actor, orgId: string, targetAccountId: string, newRole: Role | string, opts: ForceOption = {}): Promise<MemberView> {
    const role = parseRole(newRole);
    return db.transaction(async (tx) => {
      const { org, standing } = await lockOrgFor(tx, actor, orgId, 'member:update');
      const target = await findIn(tx, orgId, { accountId: targetAccountId });
      assertCanManage(standing.role, target.role);
      assertCanGrant(standing.role, role);
      if (target.role === role) return target;
      assertNotPrimaryOwner(org, target);
      if (scimOwnership(target).role)
        assertForced(
          opts,
          standing.role,
          `This member's role comes from their groups in your identity provider (SCIM). Change their groups there, or, as ${oneWhoMay('scim:manage')}, force the change.`,
        );
      // A forced change becomes the role the groups fall back to.
      await changeMembershipRole(tx, actor, org, target, role, clock.now(), {
        scimBaseRole: target.scimBaseRole !== null ? role : undefined,
        // Someone who has not accepted yet never joined: no message about "your role" in it.
        ...(target.status === 'pending' ? {} : { notice: { byAccountId: actorAccountId(actor) } }),
      });
      return { ...target, role };
    });
  }

  /** Removal revokes access at once (ActiveState). The primary owner cannot be removed. */
  async function remove(actor: Actor, orgId: string, targetAccountId: string, opts: ForceOption = {}): Promise<void> {
    await db.transaction(async (tx) => {
      const { org, standing } = await lockOrgFor(tx, actor, orgId, 'member:remove');
      const target = await findIn(tx, orgId, { accountId: targetAccountId });
      if (actor.type === 'account' && target.accountId === actor.accountId) fail('use_leave');
      // Nobody may remove the primary owner: say so first, rather than "only owners can" to an admin.
      assertNotPrimaryOwner(org, target);
      assertCanManage(standing.role, target.role);
      if (scimOwnership(target).membership)
        assertForced(
          opts,
          standing.role,
          `This member was added by your identity provider (SCIM). Remove them there (unassign the app), or, as ${oneWhoMay('scim:manage')}, force the removal.`,
        );
      await endMembership(tx, actor, org, target, clock.now(), { how: 'removed', notify: target.status !== 'pending' });
    });
  }

  /** Leave: not for the primary owner, nor the last owner; a sole member deletes the org instead (Elastic). */
  /**
   * Leaving. With `check`, every rule runs and nothing is kept (the transaction is rolled back): a form
   * can say "you can't leave" before asking to confirm, from the same rules that would refuse it.
   */
  async function leave(actor: Actor, orgId: string, opts: { check?: boolean } = {}): Promise<void> {
    if (actor.type !== 'account') fail('forbidden', 'Only a person can leave an organization.');
    await db.transaction(async (tx) => {
      const { org } = await lockOrgFor(tx, actor, orgId, 'org:view');
      const me = await findIn(tx, orgId, { accountId: actor.accountId });
      const [{ n } = { n: 0 }] = await tx
        .select({ n: sql<number>`count(*)::int` })
        .from(memberships)
        .where(eq(memberships.orgId, orgId));
      if (n <= 1) fail('sole_member');
      await endMembership(tx, actor, org, me, clock.now(), {
        how: 'left',
        primaryOwner: {
          message: 'You are the primary owner, so you cannot leave. Transfer primary ownership to another owner first, or delete the organization.',
          hint: 'transfer_primary',
        },
      });
      if (opts.check) throw checkedOnly;
    });
  }

  async function assertMayLeave(actor: Actor, orgId: string): Promise<void> {
    try {
      await leave(actor, orgId, { check: true });
    } catch (err) {
      if (err !== checkedOnly) throw err;
    }
  }

  /** HCTI: owners and admins choose who receives billing emails; the primary owner always does. */
  async function setBillingEmails(actor: Actor, orgId: string, targetAccountId: string, on: boolean): Promise<MemberView> {
    return db.transaction(async (tx) => {
      const { org, standing } = await lockOrgFor(tx, actor, orgId, 'billing:toggle_emails');
      const target = await findIn(tx, orgId, { accountId: targetAccountId });
      assertPrimaryOwnerKeepsBilling(org, target, on);
      if (target.role === ownerRole && target.accountId !== actorAccountId(actor)) assertCanManage(standing.role, target.role);
      await setMembershipBillingEmails(tx, actor, org, target, on, clock.now());
      return { ...target, billingEmails: on };
    });
  }

  /** Only the primary owner hands primary ownership to another owner (HCTI creator, Slack Primary Owner). */
  async function transferPrimaryOwnership(actor: Actor, orgId: string, targetAccountId: string): Promise<void> {
    await db.transaction(async (tx) => {
      const { org } = await lockOrgFor(tx, actor, orgId, 'org:view');
      if (actorAccountId(actor) !== org.primaryOwnerId) {
        fail('forbidden', 'Only the primary owner can transfer primary ownership.');
      }
      const target = await findIn(tx, orgId, { accountId: targetAccountId });
      await transferPrimaryOwnershipTo(tx, actor, org, target, clock.now());
    });
  }

  return { list, count, find, changeRole, remove, leave, assertMayLeave, setBillingEmails, transferPrimaryOwnership };
}

/** Changes the IdP owns need someone who may override it, and who says so explicitly. */
function assertForced(opts: ForceOption, role: Role, message: string): void {
  if (!opts.force) fail('scim_managed', message);
  assertMayOverrideIdp(role);
}
