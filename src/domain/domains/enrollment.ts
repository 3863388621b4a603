import { and, eq, ne, sql } from 'drizzle-orm';
import { accounts, joinRequests, memberships, orgDomains, orgs, pastMemberships, type OrgRow } from '../../db/schema.js';
import type { Role } from '../access.js';
import type { Actor, Deps } from '../context.js';
import { isDomainError } from '../errors.js';
import { addMembership, assertMayJoinAnotherOrg, assertSeatAvailable } from '../membership-rules/index.js';
import { findMembership, requireOrg } from '../standing.js';
import { domainOfEmail } from './names.js';

/** An org a person's email domain offers them: joined just now (auto-join), or suggested (ask to join). */
export type DomainOffer = {
  org: Pick<OrgRow, 'id' | 'name' | 'slug'>;
  domain: string;
  role: Role;
  /** Suggested orgs: the person has already asked to join (a join request waits for a decision). */
  asked: boolean;
};

/**
 * Enrollment by verified domain: someone whose email is on an org's verified domain joins it by
 * themselves (auto-join, with the domain's role) or is offered to ask (suggest). Only for an email the
 * caller vouches for now (Slack: confirmed, a full member of the workspace) and that is the account's
 * own. Never for someone who was a member before (removed, left) or declined: leaving sticks. A full
 * org, or one-org-per-person mode, skips auto-join quietly (it is tried again next time).
 */
export function createEnrollment(deps: Deps) {
  const { db, clock, settings } = deps;

  /**
   * Suggestions come from the account's email (asking only files a request that people decide); joining
   * by itself needs `vouchedEmail`, the email the surface vouches for right now, to be that same one.
   */
  async function offersFor(actor: Actor, vouchedEmail: string | undefined): Promise<{ joined: DomainOffer[]; suggested: DomainOffer[] }> {
    const none = { joined: [], suggested: [] };
    if (actor.type !== 'account') return none;
    const [me] = await db.select({ email: accounts.email }).from(accounts).where(eq(accounts.id, actor.accountId));
    if (!me?.email) return none;
    const mayAutoJoin = !!vouchedEmail && me.email.toLowerCase() === vouchedEmail.trim().toLowerCase();
    const rows = await db
      .select({
        org: { id: orgs.id, name: orgs.name, slug: orgs.slug },
        domain: orgDomains.domain,
        enrollment: orgDomains.enrollment,
        role: orgDomains.enrollmentRole,
        asked: sql<boolean>`exists (select 1 from ${joinRequests} r where r.org_id = ${orgs.id} and r.account_id = ${actor.accountId} and r.status = 'pending')`,
      })
      .from(orgDomains)
      .innerJoin(orgs, eq(orgs.id, orgDomains.orgId))
      .where(
        and(
          eq(orgDomains.domain, domainOfEmail(me.email)),
          eq(orgDomains.status, 'verified'),
          ne(orgDomains.enrollment, 'off'),
          sql`not exists (select 1 from ${memberships} m where m.org_id = ${orgs.id} and m.account_id = ${actor.accountId})`,
          sql`not exists (select 1 from ${pastMemberships} p where p.org_id = ${orgs.id} and p.account_id = ${actor.accountId})`,
        ),
      );
    const joined: DomainOffer[] = [];
    const suggested: DomainOffer[] = [];
    for (const r of rows) {
      const offer = { org: r.org, domain: r.domain, role: r.role, asked: r.asked };
      if (r.enrollment === 'suggest') suggested.push(offer);
      else if (mayAutoJoin) {
        const role = await autoJoin(actor, offer);
        if (role) joined.push({ ...offer, role });
      }
    }
    return { joined, suggested };
  }

  /**
   * Joins at once, with the domain as it is now (read under the org lock: an owner who just turned
   * auto-join off, changed the role or removed the domain wins). undefined when a rule says no now
   * (seats, one org per person) or the person is already in.
   */
  async function autoJoin(actor: Extract<Actor, { type: 'account' }>, offer: DomainOffer): Promise<Role | undefined> {
    try {
      return await db.transaction(async (tx) => {
        const org = await requireOrg(tx, offer.org.id, { lock: true });
        const [d] = await tx
          .select({ role: orgDomains.enrollmentRole })
          .from(orgDomains)
          .where(
            and(eq(orgDomains.orgId, org.id), eq(orgDomains.domain, offer.domain), eq(orgDomains.status, 'verified'), eq(orgDomains.enrollment, 'auto_join')),
          );
        if (!d || (await findMembership(tx, org.id, actor.accountId))) return undefined;
        const [past] = await tx
          .select({ how: pastMemberships.how })
          .from(pastMemberships)
          .where(and(eq(pastMemberships.orgId, org.id), eq(pastMemberships.accountId, actor.accountId)));
        if (past) return undefined;
        const now = clock.now();
        await assertMayJoinAnotherOrg(tx, settings, actor.accountId, org.id);
        await assertSeatAvailable(tx, org, now);
        await addMembership(tx, actor, { org, accountId: actor.accountId, role: d.role, billingEmails: false, source: 'domain' }, now);
        return d.role;
      });
    } catch (err) {
      if (isDomainError(err, 'seat_limit') || isDomainError(err, 'single_membership')) return undefined;
      throw err;
    }
  }

  return { offersFor };
}
