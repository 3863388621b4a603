import { and, eq, ne, sql } from 'drizzle-orm';
import { accounts, domainEnrollments, joinRequests, memberships, orgDomains, orgs, type OrgRow } from '../../db/schema.js';
import type { Role } from '../access.js';
import type { Actor, Deps } from '../context.js';
import { isDomainError } from '../errors.js';
import { addMembership, assertMayJoinAnotherOrg, assertSeatAvailable } from '../membership-rules.js';
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
 * Enrollment by verified domain: someone whose proven email (linked from a Slack-confirmed address, an
 * accepted invite link, or a trusted IdP) is on an org's verified domain joins it by themselves
 * (auto-join, with the domain's role) or is offered to ask (suggest). Auto-join happens once per person
 * and org (domain_enrollments): someone who then leaves or is removed is not added back. A full org, or
 * one-org-per-person mode, skips it quietly (it is tried again next time).
 */
export function createEnrollment(deps: Deps) {
  const { db, clock, settings } = deps;

  async function offersFor(actor: Actor): Promise<{ joined: DomainOffer[]; suggested: DomainOffer[] }> {
    const none = { joined: [], suggested: [] };
    if (actor.type !== 'account') return none;
    const [me] = await db.select({ email: accounts.email }).from(accounts).where(eq(accounts.id, actor.accountId));
    if (!me?.email) return none;
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
          sql`not exists (select 1 from ${domainEnrollments} e where e.org_id = ${orgs.id} and e.account_id = ${actor.accountId})`,
        ),
      );
    const joined: DomainOffer[] = [];
    const suggested: DomainOffer[] = [];
    for (const r of rows) {
      const offer = { org: r.org, domain: r.domain, role: r.role, asked: r.asked };
      if (r.enrollment === 'suggest') suggested.push(offer);
      else if (await autoJoin(actor, offer)) joined.push(offer);
    }
    return { joined, suggested };
  }

  /** Joins at once; false when a rule says no now (seats, one org per person) or someone else was faster. */
  async function autoJoin(actor: Extract<Actor, { type: 'account' }>, offer: DomainOffer): Promise<boolean> {
    try {
      return await db.transaction(async (tx) => {
        const org = await requireOrg(tx, offer.org.id, { lock: true });
        if (await findMembership(tx, org.id, actor.accountId)) return false;
        const now = clock.now();
        await assertMayJoinAnotherOrg(tx, settings, actor.accountId, org.id);
        await assertSeatAvailable(tx, org, now);
        const first = await tx
          .insert(domainEnrollments)
          .values({ orgId: org.id, accountId: actor.accountId, domain: offer.domain, at: now })
          .onConflictDoNothing()
          .returning();
        if (!first.length) return false;
        await addMembership(tx, actor, { org, accountId: actor.accountId, role: offer.role, billingEmails: false, source: 'domain' }, now);
        return true;
      });
    } catch (err) {
      if (isDomainError(err, 'seat_limit') || isDomainError(err, 'single_membership')) return false;
      throw err;
    }
  }

  return { offersFor };
}
