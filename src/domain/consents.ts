import { createHmac } from 'node:crypto';
import { and, asc, eq } from 'drizzle-orm';
import { accounts, memberships, orgs, type MembershipRow, type OrgRow } from '../db/schema.js';
import { accountActor, type Actor, type Deps, type Executor } from './context.js';
import { fail } from './errors.js';
import { confirmPendingMembership, declinePendingMembership } from './membership-rules/index.js';
import { requireOrg } from './standing.js';
import { sameSecret } from './tokens.js';
import { isUuid } from './validation.js';

/**
 * Consent before an org's identity provider claims someone outside the org's verified domains: the
 * person accepts (the membership becomes active) or declines (it goes, and the IdP's later changes do
 * not bring it back). They answer in Slack, or on the page their email links to: that link is signed
 * (HMAC with the invite-link key, never stored) and names the membership it answers.
 */

export type ConsentAnswer = 'accept' | 'decline';

/** A pending membership as the person asked sees it. */
export type ConsentRequest = { membershipId: string; orgId: string; orgName: string; email: string | null; pending: boolean };

function signature(key: Buffer, membershipId: string): string {
  return createHmac('sha256', key).update(`consent:${membershipId}`).digest('base64url');
}

/** The link token for a pending membership: its id and a signature only Roster can make. */
export function consentToken(key: Buffer, membershipId: string): string {
  return `${membershipId}.${signature(key, membershipId)}`;
}

export function consentUrl(publicUrl: string, token: string): string {
  return `${publicUrl}/consent/${token}`;
}

export function createConsentService(deps: Deps) {
  const { db, clock, settings } = deps;

  /** The membership a link token names, if the token is one Roster signed. */
  function membershipIdOf(token: string): string | undefined {
    const [id, sig, extra] = String(token ?? '').split('.');
    if (extra !== undefined || !id || !sig || !isUuid(id)) return undefined;
    return sameSecret(sig, signature(settings.inviteTokenKey, id)) ? id : undefined;
  }

  async function request(ex: Executor, membershipId: string): Promise<ConsentRequest | undefined> {
    const [row] = await ex
      // The person's own address (the IdP can change what its SCIM user says afterwards).
      .select({ m: memberships, orgName: orgs.name, email: accounts.email })
      .from(memberships)
      .innerJoin(orgs, eq(orgs.id, memberships.orgId))
      .innerJoin(accounts, eq(accounts.id, memberships.accountId))
      .where(eq(memberships.id, membershipId));
    if (!row) return undefined;
    return { membershipId, orgId: row.m.orgId, orgName: row.orgName, email: row.email, pending: row.m.status === 'pending' };
  }

  async function lookupByToken(token: string): Promise<ConsentRequest> {
    const id = membershipIdOf(token);
    const r = id ? await request(db, id) : undefined;
    if (!r) fail('consent_not_found');
    return r;
  }

  /** Accepts or declines, as the person: membership and org are locked, so an IdP change cannot race it. */
  async function answer(actor: Actor, membershipId: string, how: ConsentAnswer): Promise<{ org: OrgRow; membership: MembershipRow | undefined }> {
    return db.transaction(async (tx) => {
      const [first] = await tx.select({ orgId: memberships.orgId }).from(memberships).where(eq(memberships.id, membershipId));
      if (!first) fail('consent_not_found');
      const org = await requireOrg(tx, first.orgId, { lock: true });
      const [m] = await tx.select().from(memberships).where(eq(memberships.id, membershipId)).for('update');
      if (!m) fail('consent_not_found');
      if (actor.type === 'account' && actor.accountId !== m.accountId) fail('consent_not_found');
      const now = clock.now();
      if (how === 'decline') {
        await declinePendingMembership(tx, actor, org, m, now);
        return { org, membership: undefined };
      }
      const membership = await confirmPendingMembership(tx, actor, settings, org, m, now);
      return { org, membership };
    });
  }

  /** From the emailed link: the link is the person's proof (it went to the address the IdP claimed). */
  async function answerByToken(token: string, how: ConsentAnswer) {
    const id = membershipIdOf(token);
    if (!id) fail('consent_not_found');
    const [m] = await db.select({ accountId: memberships.accountId }).from(memberships).where(eq(memberships.id, id));
    if (!m) fail('consent_not_found');
    return answer(accountActor(m.accountId, 'web'), id, how);
  }

  /** From Slack or App Home: the person answers for an org they have a pending membership in. */
  async function answerForOrg(actor: Actor, orgId: string, how: ConsentAnswer) {
    if (actor.type !== 'account' || !isUuid(orgId)) fail('consent_not_found');
    const [m] = await db
      .select({ id: memberships.id })
      .from(memberships)
      .where(and(eq(memberships.orgId, orgId), eq(memberships.accountId, actor.accountId)));
    if (!m) fail('consent_not_found');
    return answer(actor, m.id, how);
  }

  /** The requests waiting for this person's answer. */
  async function pendingFor(actor: Actor): Promise<ConsentRequest[]> {
    if (actor.type !== 'account') return [];
    const rows = await db
      .select({ id: memberships.id, orgId: orgs.id, orgName: orgs.name, email: accounts.email })
      .from(memberships)
      .innerJoin(orgs, eq(orgs.id, memberships.orgId))
      .innerJoin(accounts, eq(accounts.id, memberships.accountId))
      .where(and(eq(memberships.accountId, actor.accountId), eq(memberships.status, 'pending')))
      .orderBy(asc(orgs.name));
    return rows.map((r) => ({ membershipId: r.id, orgId: r.orgId, orgName: r.orgName, email: r.email, pending: true }));
  }

  return { lookupByToken, answerByToken, answerForOrg, pendingFor, tokenOf: (membershipId: string) => consentToken(settings.inviteTokenKey, membershipId) };
}
