import { randomBytes } from 'node:crypto';
import { and, asc, eq, isNull, lt, or, sql } from 'drizzle-orm';
import { builtOnce, slot } from '../../db/built-once.js';
import { accounts, memberships, orgDomains, type OrgDomainRow } from '../../db/schema.js';
import { authorize, isRole, ownerRole, type Role } from '../access.js';
import { type Actor, type Deps, type Executor, isUniqueViolation, systemActor } from '../context.js';
import { fail, isDomainError } from '../errors.js';
import { confirmPendingMembership } from '../membership-rules/index.js';
import { emit } from '../events.js';
import { lockOrgFor, requireMembership, requireOrg } from '../standing.js';
import { claimableDomain, domainOfEmail, normalDomain } from './names.js';

/** The DNS name an org publishes its TXT record under, for a domain. */
export const CHALLENGE_LABEL = '_roster-challenge';
/** A domain not proven within this many days of being added (or retried) is marked failed. */
export const VERIFY_WINDOW_DAYS = 30;
/** The job rechecks a pending domain at most this often. */
const RECHECK_EVERY_MS = 15 * 60_000;
const DAY_MS = 86_400_000;

export type Enrollment = OrgDomainRow['enrollment'];
export const enrollmentModes: readonly Enrollment[] = ['off', 'suggest', 'auto_join'];

export type DomainView = {
  domain: string;
  status: OrgDomainRow['status'];
  /** What to publish: a TXT record with this name and value. */
  record: { type: 'TXT'; name: string; value: string };
  enrollment: Enrollment;
  enrollmentRole: Role;
  addedAt: Date;
  verifiedAt: Date | null;
  failedAt: Date | null;
  lastCheckedAt: Date | null;
  lastCheckResult: string | null;
  /** While pending: when it is marked failed if still unproven. */
  failsAt: Date | null;
};

/** What a DNS check found. */
type CheckResult = { found: true } | { found: false; reason: string };

function viewOf(r: OrgDomainRow): DomainView {
  return {
    domain: r.domain,
    status: r.status,
    record: { type: 'TXT', name: `${CHALLENGE_LABEL}.${r.domain}`, value: r.challenge },
    enrollment: r.enrollment,
    enrollmentRole: r.enrollmentRole,
    addedAt: r.createdAt,
    verifiedAt: r.verifiedAt,
    failedAt: r.failedAt,
    lastCheckedAt: r.lastCheckedAt,
    lastCheckResult: r.lastCheckResult,
    failsAt: r.status === 'pending' ? new Date(r.pendingSince.getTime() + VERIFY_WINDOW_DAYS * DAY_MS) : null,
  };
}

const audited = (r: OrgDomainRow) => ({ domain: r.domain, status: r.status });

/**
 * Whether an email is on one of the org's verified domains: the trust boundary for what the org's IdP
 * may grant at once and whom the org may enroll. Exact domain match (a verified acme.com does not
 * cover eu.acme.com: that one is verified on its own).
 */
const verifiedDomain = builtOnce('verified domain', (ex) =>
  ex
    .select({ id: orgDomains.id })
    .from(orgDomains)
    .where(and(eq(orgDomains.orgId, slot('orgId')), eq(orgDomains.domain, slot('domain')), sql`${orgDomains.status} = 'verified'`)),
);

export async function isOnVerifiedDomain(ex: Executor, orgId: string, email: string): Promise<boolean> {
  const [row] = await verifiedDomain(ex, { orgId, domain: domainOfEmail(email) });
  return !!row;
}

/** Owners claim email domains for their org and prove them with a DNS TXT record. */
export function createDomainService(deps: Deps) {
  const { db, clock } = deps;

  async function find(ex: Executor, orgId: string, domain: string, lock = false): Promise<OrgDomainRow> {
    const name = normalDomain(domain);
    const q = ex
      .select()
      .from(orgDomains)
      .where(and(eq(orgDomains.orgId, orgId), eq(orgDomains.domain, name)));
    const [row] = lock ? await q.for('update') : await q;
    if (!row) fail('domain_not_found', `${name} isn't on this organization. Add it first.`, { field: 'domain' });
    return row;
  }

  async function add(actor: Actor, orgId: string, domainInput: string): Promise<DomainView> {
    const domain = claimableDomain(domainInput);
    try {
      return await db.transaction(async (tx) => {
        await lockOrgFor(tx, actor, orgId, 'domain:manage');
        await assertNotVerifiedElsewhere(tx, orgId, domain);
        const now = clock.now();
        const [row] = await tx
          .insert(orgDomains)
          .values({
            orgId,
            domain,
            challenge: `roster-verification=${randomBytes(24).toString('base64url')}`,
            pendingSince: now,
            createdById: actor.type === 'account' ? actor.accountId : null,
            createdAt: now,
            updatedAt: now,
          })
          .returning();
        await emit(
          tx,
          actor,
          { orgId, action: 'domain.added', targetType: 'domain', targetId: row!.id, after: { ...audited(row!), record: `${CHALLENGE_LABEL}.${domain}` } },
          now,
        );
        return viewOf(row!);
      });
    } catch (err) {
      if (isUniqueViolation(err, 'org_domains_org_domain_uq'))
        fail('domain_already_added', `${domain} is already on this organization. Verify it, or remove it first.`);
      throw err;
    }
  }

  async function list(actor: Actor, orgId: string): Promise<DomainView[]> {
    authorize(await requireMembership(db, actor, orgId), 'org:view', 'read');
    const rows = await db.select().from(orgDomains).where(eq(orgDomains.orgId, orgId)).orderBy(asc(orgDomains.domain));
    return rows.map(viewOf);
  }

  /**
   * Checks the domain's TXT record now. A failed domain is retried (a new 30-day window). The DNS
   * lookup happens outside any transaction: a slow resolver must not hold the org's rows.
   */
  async function verify(actor: Actor, orgId: string, domainInput: string): Promise<DomainView> {
    authorize(await requireMembership(db, actor, orgId), 'domain:manage');
    const row = await find(db, orgId, domainInput);
    if (row.status === 'verified') return viewOf(row);
    const result = await check(row);
    try {
      const view = await db.transaction(async (tx) => {
        const current = await find(tx, orgId, row.domain, true);
        if (current.status === 'verified') return viewOf(current);
        const now = clock.now();
        const retried = current.status === 'failed' ? await retry(tx, current, now) : current;
        return viewOf(await record(tx, actor, retried, result, now));
      });
      if (view.status === 'verified') await admitPending(actor, orgId, view.domain);
      return view;
    } catch (err) {
      // Another org's verification of the same domain committed between our check and our write.
      if (isUniqueViolation(err, 'org_domains_verified_uq')) fail('domain_taken');
      throw err;
    }
  }

  async function retry(tx: Executor, row: OrgDomainRow, now: Date): Promise<OrgDomainRow> {
    const [r] = await tx
      .update(orgDomains)
      .set({ status: 'pending', pendingSince: now, failedAt: null, updatedAt: now })
      .where(eq(orgDomains.id, row.id))
      .returning();
    return r!;
  }

  async function check(row: OrgDomainRow): Promise<CheckResult> {
    const name = `${CHALLENGE_LABEL}.${row.domain}`;
    if (!deps.dns) return { found: false, reason: 'DNS lookups are not configured on this Roster.' };
    let records: string[];
    try {
      records = await deps.dns(name);
    } catch (err) {
      const code = (err as { code?: string })?.code ?? 'no answer';
      return { found: false, reason: `DNS did not answer for ${name} (${code}). Roster will try again.` };
    }
    if (records.some((r) => r.trim() === row.challenge)) return { found: true };
    return {
      found: false,
      reason: records.length
        ? `The TXT record at ${name} does not hold this domain's value (it may have been copied from another organization, or not updated yet).`
        : `No TXT record found at ${name} yet (DNS changes can take a while to appear).`,
    };
  }

  /**
   * Writes what a check found: verified, still pending (with why), or failed once its window is over.
   * Another org verifying the domain first keeps this one pending, saying so.
   */
  async function record(tx: Executor, actor: Actor, row: OrgDomainRow, result: CheckResult, now: Date): Promise<OrgDomainRow> {
    if (result.found) {
      const taken = await verifiedElsewhere(tx, row.orgId, row.domain);
      if (!taken) {
        const [r] = await tx
          .update(orgDomains)
          .set({ status: 'verified', verifiedAt: now, lastCheckedAt: now, lastCheckResult: null, updatedAt: now })
          .where(eq(orgDomains.id, row.id))
          .returning();
        await emit(
          tx,
          actor,
          { orgId: row.orgId, action: 'domain.verified', targetType: 'domain', targetId: row.id, before: audited(row), after: audited(r!) },
          now,
        );
        return r!;
      }
      result = { found: false, reason: 'Another organization has verified this domain. A domain can be verified by one organization only.' };
    }
    const expired = now.getTime() >= row.pendingSince.getTime() + VERIFY_WINDOW_DAYS * DAY_MS;
    const [r] = await tx
      .update(orgDomains)
      .set({
        lastCheckedAt: now,
        lastCheckResult: result.reason,
        updatedAt: now,
        ...(expired ? { status: 'failed' as const, failedAt: now } : {}),
      })
      .where(eq(orgDomains.id, row.id))
      .returning();
    if (expired) {
      const reason = `Not verified within ${VERIFY_WINDOW_DAYS} days. ${result.reason}`;
      await emit(
        tx,
        actor,
        {
          orgId: row.orgId,
          action: 'domain.verification_failed',
          targetType: 'domain',
          targetId: row.id,
          before: audited(row),
          after: { ...audited(r!), reason },
        },
        now,
      );
    }
    return r!;
  }

  /**
   * Once the org has verified a domain, its IdP speaks for addresses on it: members it added there while
   * the domain was unverified (pending, waiting for consent) get access now. Its own transaction, after
   * the verification's: the org row is locked before membership rows, as everywhere else.
   */
  async function admitPending(actor: Actor, orgId: string, domain: string): Promise<void> {
    await db.transaction(async (tx) => {
      const org = await requireOrg(tx, orgId, { lock: true });
      const waiting = await tx
        .select({ m: memberships })
        .from(memberships)
        .innerJoin(accounts, eq(accounts.id, memberships.accountId))
        .where(and(eq(memberships.orgId, orgId), eq(memberships.status, 'pending'), sql`lower(split_part(${accounts.email}, '@', 2)) = ${domain}`))
        .for('update', { of: memberships });
      const now = clock.now();
      for (const { m } of waiting) {
        try {
          await confirmPendingMembership(tx, actor, deps.settings, org, m, now, domain);
        } catch (err) {
          // One org per person (single mode): they stay pending, and can still accept after leaving the other.
          if (!isDomainError(err, 'single_membership')) throw err;
        }
      }
    });
  }

  async function remove(actor: Actor, orgId: string, domainInput: string): Promise<void> {
    await db.transaction(async (tx) => {
      await lockOrgFor(tx, actor, orgId, 'domain:manage');
      const row = await find(tx, orgId, domainInput, true);
      await tx.delete(orgDomains).where(eq(orgDomains.id, row.id));
      await emit(tx, actor, { orgId, action: 'domain.removed', targetType: 'domain', targetId: row.id, before: audited(row) }, clock.now());
    });
  }

  /** How people with a confirmed email on a verified domain may join: off, suggest, or auto-join with a role. */
  async function setEnrollment(actor: Actor, orgId: string, domainInput: string, mode: string, roleInput?: string): Promise<DomainView> {
    // People type auto-join; the stored mode is auto_join.
    mode = String(mode ?? '')
      .trim()
      .toLowerCase()
      .replace('-', '_');
    if (!(enrollmentModes as readonly string[]).includes(mode))
      fail('invalid_input', `Enrollment is one of: off, suggest, auto-join (not "${String(mode).slice(0, 20)}").`, { field: 'enrollment' });
    if (roleInput !== undefined && !isRole(roleInput)) fail('invalid_input', `"${String(roleInput).slice(0, 30)}" is not a role.`, { field: 'role' });
    if (roleInput === ownerRole)
      fail('invalid_input', 'Nobody becomes an owner by their email domain. Choose another role, and make owners by hand.', { field: 'role' });
    return db.transaction(async (tx) => {
      await lockOrgFor(tx, actor, orgId, 'domain:manage');
      const row = await find(tx, orgId, domainInput, true);
      if (mode !== 'off' && row.status !== 'verified')
        fail('domain_not_verified', `${row.domain} is not verified yet: publish its TXT record and verify it before people can join by it.`);
      const role = (roleInput as Role | undefined) ?? row.enrollmentRole;
      const now = clock.now();
      const [r] = await tx
        .update(orgDomains)
        .set({ enrollment: mode as Enrollment, enrollmentRole: role, updatedAt: now })
        .where(eq(orgDomains.id, row.id))
        .returning();
      if (r!.enrollment !== row.enrollment || r!.enrollmentRole !== row.enrollmentRole) {
        await emit(
          tx,
          actor,
          {
            orgId,
            action: 'domain.enrollment_changed',
            targetType: 'domain',
            targetId: row.id,
            before: { domain: row.domain, enrollment: row.enrollment, role: row.enrollmentRole },
            after: { domain: r!.domain, enrollment: r!.enrollment, role: r!.enrollmentRole },
          },
          now,
        );
      }
      return viewOf(r!);
    });
  }

  /**
   * The job: rechecks pending domains not checked in the last 15 minutes, and marks failed those past
   * their window. Each process claims its batch by stamping last_checked_at (SKIP LOCKED), so two
   * processes never check one domain twice; the DNS lookups run with no row held.
   */
  async function recheckPending(limit = 100): Promise<{ checked: number; verified: number; failed: number }> {
    const now = clock.now();
    const due = sql`(select id from ${orgDomains} where ${and(
      eq(orgDomains.status, 'pending'),
      or(isNull(orgDomains.lastCheckedAt), lt(orgDomains.lastCheckedAt, new Date(now.getTime() - RECHECK_EVERY_MS))),
    )} order by ${orgDomains.lastCheckedAt} nulls first limit ${limit} for update skip locked)`;
    const claimed = await db
      .update(orgDomains)
      .set({ lastCheckedAt: now })
      .where(sql`${orgDomains.id} in ${due}`)
      .returning();
    const actor = systemActor('verify-domains');
    let verified = 0;
    let failed = 0;
    // One domain's trouble (say a failed write) does not hold up the rest of the batch: reported at the end.
    let firstError: unknown;
    for (const row of claimed) {
      try {
        const result = await check(row);
        const after = await db
          .transaction(async (tx) => {
            const [current] = await tx.select().from(orgDomains).where(eq(orgDomains.id, row.id)).for('update');
            if (!current || current.status !== 'pending') return current;
            return record(tx, actor, current, result, clock.now());
          })
          .catch((err: unknown) => {
            // Another org verified it at the same moment: this claim stays pending, and says so next time.
            if (isUniqueViolation(err, 'org_domains_verified_uq')) return undefined;
            throw err;
          });
        if (after?.status === 'verified') {
          verified++;
          await admitPending(actor, after.orgId, after.domain);
        }
        if (after?.status === 'failed') failed++;
      } catch (err) {
        firstError ??= err;
      }
    }
    if (firstError) throw firstError;
    return { checked: claimed.length, verified, failed };
  }

  return { add, list, verify, remove, setEnrollment, recheckPending };
}

async function verifiedElsewhere(ex: Executor, orgId: string, domain: string): Promise<boolean> {
  const [row] = await ex
    .select({ id: orgDomains.id })
    .from(orgDomains)
    .where(and(eq(orgDomains.domain, domain), eq(orgDomains.status, 'verified'), sql`${orgDomains.orgId} <> ${orgId}`));
  return !!row;
}

async function assertNotVerifiedElsewhere(ex: Executor, orgId: string, domain: string): Promise<void> {
  if (await verifiedElsewhere(ex, orgId, domain))
    fail('domain_taken', `Another organization has already verified ${domain}. A domain can be verified by one organization only.`);
}
