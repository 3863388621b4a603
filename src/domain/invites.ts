import { randomUUID } from 'node:crypto';
import { and, asc, eq, gt, isNull, or, sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import { accounts, invites, memberships, orgs, type InviteRow, type OrgRow, type Role } from '../db/schema.js';
import { assertCanGrant, authorize, parseRole, roleLabels } from './access.js';
import { findOrCreateAccountByEmail } from './accounts.js';
import { recordAudit } from './audit.js';
import { type Actor, type Deps, type Executor, type Tx, accountActor, isUniqueViolation } from './context.js';
import { DomainError, type ErrorCode, fail, isDomainError, notFoundFor } from './errors.js';
import { addMembership, assertMayJoinAnotherOrg, assertSeatAvailable } from './membership-rules.js';
import { channelsFor, notify } from './notifications.js';
import { actorAccountId, findMembership, lockOrgFor, requireMembership, requireOrg } from './standing.js';
import { deriveToken, hashToken, looksLikeToken, newNonce } from './tokens.js';
import { isValidEmail, normalizeEmail, parseId, parseInput, sameEmail, textProblem } from './validation.js';

export const MAX_EMAILS_PER_INVITE = 100;

export type InviteState = 'pending' | 'expired' | 'accepted' | 'declined' | 'revoked';

export type InviteResult =
  | { email: string; ok: true; invite: InviteRow; token: string }
  | { email: string; ok: false; code: ErrorCode; message: string; inviteId?: string };

export type InviteView = InviteRow & { state: InviteState; invitedByName: string | null };

export type InviteLookup = {
  invite: InviteRow;
  state: InviteState;
  org: Pick<OrgRow, 'id' | 'name' | 'slug'>;
  invitedByName: string | null;
};

const createSchema = z.object({
  emails: z.union([z.string(), z.array(z.string())]),
  role: z.string().default('member'),
  billingEmails: z.boolean().default(false),
});
export type CreateInvitesInput = z.input<typeof createSchema>;

const updateSchema = z
  .object({ role: z.string().optional(), billingEmails: z.boolean().optional() })
  .refine((u) => u.role !== undefined || u.billingEmails !== undefined, { message: 'Say what to change: role or billing emails.' });

/**
 * Splits a list of emails written by a person: spaces, commas, semicolons or new lines between them
 * (Elastic), optionally wrapped in <…> or prefixed with mailto:. Duplicates (any case) are dropped.
 */
export function splitEmails(input: string | string[]): string[] {
  const parts = (Array.isArray(input) ? input : [input])
    .flatMap((s) => s.split(/[\s,;]+/))
    .map((s) => s.trim().replace(/^<|>$/g, '').replace(/^mailto:/i, ''))
    .filter(Boolean);
  const seen = new Set<string>();
  return parts.filter((p) => {
    const k = p.toLowerCase();
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** The page an invite link opens (served by the web adapter at /invites/<token>). */
export function inviteUrl(publicUrl: string, token: string): string {
  return `${publicUrl}/invites/${token}`;
}

export function inviteState(invite: InviteRow, now: Date): InviteState {
  if (invite.status === 'pending' && invite.expiresAt && invite.expiresAt <= now) return 'expired';
  return invite.status;
}

function expiryFrom(org: OrgRow, now: Date): Date | null {
  return org.inviteExpiryHours === null ? null : new Date(now.getTime() + org.inviteExpiryHours * 3_600_000);
}

function inviteAuditView(i: InviteRow) {
  return { email: i.email, role: i.role, billingEmails: i.billingEmails, status: i.status, expiresAt: i.expiresAt };
}

export function createInviteService(deps: Deps) {
  const { db, clock, settings } = deps;
  const key = settings.inviteTokenKey;

  function tokenOf(invite: Pick<InviteRow, 'id' | 'tokenNonce'>): string {
    return deriveToken(key, invite.id, invite.tokenNonce);
  }

  /** Invites one or many emails with one role; each email gets its own result (SPEC §4). */
  async function create(actor: Actor, orgId: string, input: CreateInvitesInput): Promise<InviteResult[]> {
    const parsed = parseInput(createSchema, input);
    const role = parseRole(parsed.role);
    const emails = splitEmails(parsed.emails);
    if (!emails.length) fail('invalid_input', 'Give at least one email address to invite.');
    if (emails.length > MAX_EMAILS_PER_INVITE) {
      fail('invalid_input', `You can invite at most ${MAX_EMAILS_PER_INVITE} emails at once (you gave ${emails.length}).`);
    }
    // Rights are checked once up front so a refusal is one clear message, not one per email.
    const standing = await requireMembership(db, actor, orgId);
    authorize(standing, 'member:invite');
    assertCanGrant(standing.role, role);

    const results: InviteResult[] = [];
    for (const raw of emails) {
      const email = normalizeEmail(raw);
      const problem = textProblem(email);
      if (problem) {
        results.push({ email, ok: false, code: 'invalid_input', message: `That email address contains ${problem}.` });
        continue;
      }
      if (!isValidEmail(email)) {
        results.push({ email, ok: false, code: 'invalid_input', message: 'That is not a valid email address.' });
        continue;
      }
      try {
        results.push(await db.transaction((tx) => createOne(tx, actor, orgId, email, role, parsed.billingEmails)));
      } catch (err) {
        if (isUniqueViolation(err, 'invites_one_pending_per_email_uq')) {
          results.push({ email, ok: false, code: 'invite_pending', message: 'An invite is already pending for that email. Resend or update it instead.' });
        } else if (isDomainError(err)) {
          results.push({ email, ok: false, code: err.code, message: err.message, ...(err.details?.inviteId ? { inviteId: String(err.details.inviteId) } : {}) });
        } else {
          throw err;
        }
      }
    }
    return results;
  }

  async function createOne(tx: Tx, actor: Actor, orgId: string, email: string, role: Role, billingEmails: boolean): Promise<InviteResult> {
    const { org, standing } = await lockOrgFor(tx, actor, orgId, 'member:invite');
    assertCanGrant(standing.role, role);
    const now = clock.now();
    const [member] = await tx
      .select({ id: memberships.id })
      .from(memberships)
      .innerJoin(accounts, eq(accounts.id, memberships.accountId))
      .where(and(eq(memberships.orgId, orgId), sql`lower(${accounts.email}) = lower(${email})`));
    if (member) fail('already_member', 'Already a member of this organization.');
    const [pending] = await tx
      .select()
      .from(invites)
      .where(and(eq(invites.orgId, orgId), eq(invites.status, 'pending'), sql`lower(${invites.email}) = lower(${email})`));
    if (pending) {
      // An expired invite never blocks a new one, even if the expiry job has not run yet.
      if (inviteState(pending, now) === 'expired') await markExpired(tx, actor, pending, now);
      else fail('invite_pending', undefined, { inviteId: pending.id });
    }
    await assertSeatAvailable(tx, org, now);
    const id = randomUUID();
    const nonce = newNonce();
    const token = deriveToken(key, id, nonce);
    const [invite] = await tx
      .insert(invites)
      .values({
        id,
        orgId,
        email,
        role,
        billingEmails,
        tokenHash: hashToken(token),
        tokenNonce: nonce,
        invitedById: actorAccountId(actor),
        expiresAt: expiryFrom(org, now),
        lastSentAt: now,
        createdAt: now,
        updatedAt: now,
      })
      .returning();
    await recordAudit(tx, actor, { orgId, action: 'invite.created', targetType: 'invite', targetId: id, after: inviteAuditView(invite!) }, now);
    await notifySent(tx, invite!, org);
    return { email, ok: true, invite: invite!, token };
  }

  async function notifySent(tx: Executor, invite: InviteRow, org: OrgRow): Promise<void> {
    await notify(tx, {
      at: invite.updatedAt,
      kind: 'invite.sent',
      orgId: org.id,
      recipientEmail: invite.email,
      payload: { inviteId: invite.id, nonce: invite.tokenNonce, orgName: org.name, role: invite.role, expiresAt: invite.expiresAt?.toISOString() ?? null },
      dedupeKey: `invite.sent:${invite.id}:${invite.tokenNonce}`,
    });
  }

  async function markExpired(tx: Executor, actor: Actor, invite: InviteRow, now: Date): Promise<void> {
    await tx.update(invites).set({ status: 'expired', updatedAt: now }).where(eq(invites.id, invite.id));
    await recordAudit(
      tx,
      actor,
      { orgId: invite.orgId, action: 'invite.expired', targetType: 'invite', targetId: invite.id, before: { status: 'pending', expiresAt: invite.expiresAt } },
      now,
    );
  }

  /** Loads an invite, locks its org (and checks the actor's rights there), then locks the invite. */
  async function lockInvite(tx: Tx, actor: Actor, inviteId: string, orgId?: string) {
    parseId(inviteId, 'invite id');
    const [peek] = await tx.select({ orgId: invites.orgId }).from(invites).where(eq(invites.id, inviteId));
    if (!peek || (orgId !== undefined && peek.orgId !== orgId)) fail('invite_not_found');
    // Someone outside the invite's org learns nothing about it, not even that its org exists.
    const { org, standing } = await lockOrgFor(tx, actor, peek.orgId, 'member:invite').catch(notFoundFor('invite_not_found'));
    const [invite] = await tx.select().from(invites).where(eq(invites.id, inviteId)).for('update');
    if (!invite) fail('invite_not_found');
    assertCanGrant(standing.role, invite.role);
    return { org, standing, invite };
  }

  /** New link (only the latest works) and a new expiry, for pending and expired invites (ActiveState "Resend"). */
  async function resend(actor: Actor, inviteId: string, opts: { orgId?: string } = {}): Promise<{ invite: InviteRow; token: string }> {
    try {
      return await db.transaction(async (tx) => {
        const { org, invite } = await lockInvite(tx, actor, inviteId, opts.orgId);
        if (invite.status !== 'pending' && invite.status !== 'expired') fail('invite_not_pending', stateMessage(invite.status));
        const now = clock.now();
        await assertSeatAvailable(tx, org, now, { exceptInviteId: invite.id });
        const nonce = newNonce();
        const token = deriveToken(key, invite.id, nonce);
        const [after] = await tx
          .update(invites)
          .set({
            status: 'pending',
            tokenNonce: nonce,
            tokenHash: hashToken(token),
            expiresAt: expiryFrom(org, now),
            lastSentAt: now,
            remindersSent: [],
            updatedAt: now,
          })
          .where(eq(invites.id, invite.id))
          .returning();
        await recordAudit(
          tx,
          actor,
          { orgId: org.id, action: 'invite.resent', targetType: 'invite', targetId: invite.id, before: inviteAuditView(invite), after: inviteAuditView(after!) },
          now,
        );
        await notifySent(tx, after!, org);
        return { invite: after!, token };
      });
    } catch (err) {
      if (isUniqueViolation(err, 'invites_one_pending_per_email_uq')) fail('invite_pending', 'A newer invite is already pending for that email. Resend that one instead.');
      throw err;
    }
  }

  /** Change role or billing-email flag of a pending invite (HCTI). */
  async function update(actor: Actor, inviteId: string, changes: { role?: string; billingEmails?: boolean }, opts: { orgId?: string } = {}): Promise<InviteRow> {
    const u = parseInput(updateSchema, changes);
    const role = u.role !== undefined ? parseRole(u.role) : undefined;
    return db.transaction(async (tx) => {
      const { standing, invite } = await lockInvite(tx, actor, inviteId, opts.orgId);
      const now = clock.now();
      if (inviteState(invite, now) !== 'pending') fail('invite_not_pending', stateMessage(inviteState(invite, now)));
      if (role) assertCanGrant(standing.role, role);
      const [after] = await tx
        .update(invites)
        .set({ role: role ?? invite.role, billingEmails: u.billingEmails ?? invite.billingEmails, updatedAt: now })
        .where(eq(invites.id, invite.id))
        .returning();
      await recordAudit(
        tx,
        actor,
        { orgId: invite.orgId, action: 'invite.updated', targetType: 'invite', targetId: invite.id, before: inviteAuditView(invite), after: inviteAuditView(after!) },
        now,
      );
      return after!;
    });
  }

  async function revoke(actor: Actor, inviteId: string, opts: { orgId?: string } = {}): Promise<InviteRow> {
    return db.transaction(async (tx) => {
      const { invite } = await lockInvite(tx, actor, inviteId, opts.orgId);
      if (invite.status !== 'pending') fail('invite_not_pending', stateMessage(invite.status));
      const now = clock.now();
      const [after] = await tx
        .update(invites)
        .set({ status: 'revoked', decidedById: actorAccountId(actor), decidedAt: now, updatedAt: now })
        .where(eq(invites.id, invite.id))
        .returning();
      await recordAudit(
        tx,
        actor,
        { orgId: invite.orgId, action: 'invite.revoked', targetType: 'invite', targetId: invite.id, before: inviteAuditView(invite), after: inviteAuditView(after!) },
        now,
      );
      return after!;
    });
  }

  /** The current link token of a pending invite, for "copy invite link" (Runpod). */
  async function linkToken(actor: Actor, inviteId: string, opts: { orgId?: string } = {}): Promise<string> {
    return (await currentLink(actor, inviteId, opts)).token;
  }

  /** The current link token of a pending invite and the invite it opens ("copy invite link"). */
  async function currentLink(actor: Actor, inviteId: string, opts: { orgId?: string } = {}): Promise<{ token: string; invite: InviteRow }> {
    return db.transaction(async (tx) => {
      const { invite } = await lockInvite(tx, actor, inviteId, opts.orgId);
      const state = inviteState(invite, clock.now());
      if (state !== 'pending') fail('invite_not_pending', stateMessage(state));
      return { token: tokenOf(invite), invite };
    });
  }

  async function findByToken(ex: Executor, token: string): Promise<InviteRow | undefined> {
    if (!looksLikeToken(token)) return undefined;
    const [invite] = await ex.select().from(invites).where(eq(invites.tokenHash, hashToken(token)));
    return invite;
  }

  /** What the invite page shows. The token is the credential; an unknown or outdated token is not found. */
  async function lookupByToken(token: string): Promise<InviteLookup> {
    const invite = await findByToken(db, token);
    if (!invite) fail('invite_not_found', 'This invite link is not valid. It may have been replaced by a newer invite: check your latest email.');
    const [row] = await db
      .select({ id: orgs.id, name: orgs.name, slug: orgs.slug, inviter: accounts.displayName })
      .from(orgs)
      .leftJoin(accounts, sql`${accounts.id} = ${invite.invitedById}`)
      .where(eq(orgs.id, invite.orgId));
    return { invite, state: inviteState(invite, clock.now()), org: { id: row!.id, name: row!.name, slug: row!.slug }, invitedByName: row?.inviter ?? null };
  }

  /**
   * Accepting through the link proves control of the invited email: the account with that email is
   * found or created, and joins with the invite's role.
   */
  async function acceptByToken(token: string, opts: { displayName?: string } = {}) {
    return db.transaction(async (tx) => {
      const invite = await findByToken(tx, token);
      if (!invite) fail('invite_not_found', 'This invite link is not valid. It may have been replaced by a newer invite: check your latest email.');
      const now = clock.now();
      const { account } = await findOrCreateAccountByEmail(tx, { email: invite.email, displayName: opts.displayName }, { type: 'system', job: 'invite-link' }, now);
      return acceptLocked(tx, invite.id, account.id, accountActor(account.id, 'web'), now);
    });
  }

  /** A signed-in person (e.g. from Slack) accepts an invite addressed to their own email. */
  async function accept(actor: Actor, inviteId: string) {
    if (actor.type !== 'account') fail('forbidden', 'Only the invited person can accept an invite.');
    parseId(inviteId, 'invite id');
    return db.transaction(async (tx) => {
      const [me] = await tx.select().from(accounts).where(eq(accounts.id, actor.accountId));
      const [invite] = await tx.select().from(invites).where(eq(invites.id, inviteId));
      if (!invite) fail('invite_not_found');
      if (!me || !sameEmail(me.email, invite.email)) {
        // Your own address may be shown to you; the invitee's never is (that would tell anyone who got
        // hold of the button or the invite id whom the org invited).
        fail('invite_wrong_email', me?.email ? `This invite isn't addressed to you (${me.email}). Ask the organization to invite your own email address.` : undefined);
      }
      return acceptLocked(tx, invite.id, me.id, actor, clock.now());
    });
  }

  async function acceptLocked(tx: Tx, inviteId: string, accountId: string, actor: Actor, now: Date) {
    const [peek] = await tx.select({ orgId: invites.orgId }).from(invites).where(eq(invites.id, inviteId));
    const org = await requireOrg(tx, peek!.orgId, { lock: true });
    const [invite] = await tx.select().from(invites).where(eq(invites.id, inviteId)).for('update');
    const state = inviteState(invite!, now);
    if (state !== 'pending') fail(stateCode(state), stateMessage(state));
    const existing = await findMembership(tx, org.id, accountId);
    let membership = existing;
    if (!existing) {
      await assertMayJoinAnotherOrg(tx, settings, accountId, org.id);
      await assertSeatAvailable(tx, org, now, { exceptInviteId: invite!.id });
      membership = await addMembership(tx, actor, { org, accountId, role: invite!.role, billingEmails: invite!.billingEmails, source: 'invite' }, now);
    }
    const [after] = await tx
      .update(invites)
      .set({ status: 'accepted', decidedById: accountId, decidedAt: now, updatedAt: now })
      .where(eq(invites.id, invite!.id))
      .returning();
    await recordAudit(tx, actor, { orgId: org.id, action: 'invite.accepted', targetType: 'invite', targetId: invite!.id, before: inviteAuditView(invite!), after: inviteAuditView(after!) }, now);
    if (invite!.invitedById) {
      await notify(tx, {
        at: now,
        kind: 'invite.accepted',
        orgId: org.id,
        recipientAccountId: invite!.invitedById,
        payload: { inviteId: invite!.id, email: invite!.email, orgName: org.name, role: invite!.role },
        dedupeKey: `invite.accepted:${invite!.id}`,
      });
    }
    return { org, membership: membership!, invite: after!, alreadyMember: !!existing };
  }

  async function declineByToken(token: string): Promise<InviteRow> {
    return db.transaction(async (tx) => {
      const invite = await findByToken(tx, token);
      if (!invite) fail('invite_not_found', 'This invite link is not valid. It may have been replaced by a newer invite: check your latest email.');
      return declineLocked(tx, invite.id, { type: 'system', job: 'invite-link' }, null);
    });
  }

  async function decline(actor: Actor, inviteId: string): Promise<InviteRow & { orgName: string }> {
    if (actor.type !== 'account') fail('forbidden', 'Only the invited person can decline an invite.');
    parseId(inviteId, 'invite id');
    return db.transaction(async (tx) => {
      const [me] = await tx.select().from(accounts).where(eq(accounts.id, actor.accountId));
      const [invite] = await tx.select().from(invites).where(eq(invites.id, inviteId));
      if (!invite) fail('invite_not_found');
      if (!me || !sameEmail(me.email, invite.email)) fail('invite_wrong_email');
      const declined = await declineLocked(tx, invite.id, actor, me.id);
      const [org] = await tx.select({ name: orgs.name }).from(orgs).where(eq(orgs.id, invite.orgId));
      return { ...declined, orgName: org?.name ?? '' };
    });
  }

  /** The invitee may decline a pending invite, even one past its expiry. */
  async function declineLocked(tx: Tx, inviteId: string, actor: Actor, accountId: string | null): Promise<InviteRow> {
    const [invite] = await tx.select().from(invites).where(eq(invites.id, inviteId)).for('update');
    // Past expiry it may still be declined (SPEC §4), whether or not the expiry job has marked it yet.
    if (invite!.status !== 'pending' && invite!.status !== 'expired') fail(stateCode(invite!.status), stateMessage(invite!.status));
    const now = clock.now();
    const [after] = await tx
      .update(invites)
      .set({ status: 'declined', decidedById: accountId, decidedAt: now, updatedAt: now })
      .where(eq(invites.id, inviteId))
      .returning();
    await recordAudit(tx, actor, { orgId: invite!.orgId, action: 'invite.declined', targetType: 'invite', targetId: inviteId, before: inviteAuditView(invite!), after: inviteAuditView(after!) }, now);
    if (invite!.invitedById) {
      const [org] = await tx.select({ name: orgs.name }).from(orgs).where(eq(orgs.id, invite!.orgId));
      await notify(tx, {
        at: now,
        kind: 'invite.declined',
        orgId: invite!.orgId,
        recipientAccountId: invite!.invitedById,
        payload: { inviteId, email: invite!.email, orgName: org?.name ?? '' },
        dedupeKey: `invite.declined:${inviteId}`,
      });
    }
    return after!;
  }

  /** Pending invites of an org (expired ones that no job has swept yet are marked expired). */
  async function listPending(actor: Actor, orgId: string): Promise<InviteView[]> {
    authorize(await requireMembership(db, actor, orgId), 'member:invite');
    const rows = await db
      .select({ invite: invites, invitedByName: accounts.displayName })
      .from(invites)
      .leftJoin(accounts, eq(accounts.id, invites.invitedById))
      .where(and(eq(invites.orgId, orgId), eq(invites.status, 'pending')))
      .orderBy(asc(invites.createdAt));
    const now = clock.now();
    return rows.map((r) => ({ ...r.invite, state: inviteState(r.invite, now), invitedByName: r.invitedByName }));
  }

  /** Invites waiting for me, across orgs (shown in Slack so I can accept there). */
  async function listForMe(actor: Actor): Promise<(InviteView & { orgName: string })[]> {
    if (actor.type !== 'account') return [];
    const now = clock.now();
    const rows = await db
      .select({ invite: invites, orgName: orgs.name, invitedByName: sql<string | null>`(select display_name from accounts a where a.id = ${invites.invitedById})` })
      .from(invites)
      .innerJoin(orgs, eq(orgs.id, invites.orgId))
      .innerJoin(accounts, sql`lower(${accounts.email}) = lower(${invites.email})`)
      .where(and(eq(accounts.id, actor.accountId), eq(invites.status, 'pending'), or(isNull(invites.expiresAt), gt(invites.expiresAt, now))));
    return rows.map((r) => ({ ...r.invite, state: 'pending' as const, invitedByName: r.invitedByName, orgName: r.orgName }));
  }

  async function get(actor: Actor, inviteId: string): Promise<InviteView> {
    parseId(inviteId, 'invite id');
    const [row] = await db
      .select({ invite: invites, invitedByName: accounts.displayName })
      .from(invites)
      .leftJoin(accounts, eq(accounts.id, invites.invitedById))
      .where(eq(invites.id, inviteId));
    if (!row) fail('invite_not_found');
    authorize(await requireMembership(db, actor, row.invite.orgId).catch(() => fail('invite_not_found')), 'member:invite');
    return { ...row.invite, state: inviteState(row.invite, clock.now()), invitedByName: row.invitedByName };
  }

  /**
   * Marks up to `limit` pending invites past their expiry as expired, with their audit events, in one
   * statement. Set-based and SKIP LOCKED, so several workers (or several callers in one worker) can run it
   * at once: each locks a different set of due invites, and the update re-checks `status = 'pending'`,
   * so an invite is expired, and audited, once. Returns how many it expired.
   *
   * Any due invites will do (no `order by expires_at`: all of them are expired in the end, and the order
   * made every batch walk the dead entries earlier batches left in the expiry index). The locked rows are
   * updated by their ctid (a TID scan) rather than joined back by id, which hashed the whole table per
   * batch. Measured on 1M due invites in bench/expire.ts.
   */
  async function expireDue(limit = 10_000): Promise<number> {
    const now = clock.now();
    const r = await db.execute<{ n: number }>(sql`
      with expired as (
        update invites set status = 'expired', updated_at = ${now}
        where ctid = any(array(
            select ctid from invites
            where status = 'pending' and expires_at <= ${now}
            limit ${limit}
            for update skip locked))
          and status = 'pending'
        returning id, org_id, expires_at
      ), audited as (
        insert into audit_events (at, org_id, actor_type, actor_id, actor_label, via, action, target_type, target_id, before)
        select ${now}, org_id, 'system', 'expire-invites', 'Roster job expire-invites', 'job', 'invite.expired', 'invite', id::text,
               jsonb_build_object('status', 'pending', 'expiresAt', expires_at)
        from expired
      )
      select count(*)::int as n from expired`);
    return r.rows[0]?.n ?? 0;
  }

  /**
   * Queues reminders for invites whose next reminder step (hours before expiry, per org) has come.
   * One set-based statement; a step is recorded on the invite when queued, and the dedupe key makes a
   * step's reminder exist once, so two workers never remind twice. If several steps came due at once
   * (a worker was down), one reminder goes out. Never for invites that don't expire.
   */
  async function remindDue(limit = 10_000): Promise<number> {
    const now = clock.now();
    const channels = channelsFor['invite.reminder'];
    // A step is due once its moment has come, and only if that moment is after the invite was sent:
    // a 72 h invite is not "reminded" 72 h before expiry, i.e. the instant it goes out.
    const stepDue = (h: SQL) => sql`${now}::timestamptz >= i.expires_at - make_interval(hours => ${h}) and i.expires_at - make_interval(hours => ${h}) > i.last_sent_at`;
    const r = await db.execute<{ n: number }>(sql`
      with due as (
        select i.id, i.org_id, i.email, i.token_nonce,
          array(select h from unnest(o.reminder_hours) h where ${stepDue(sql`h`)}) as due_steps,
          (select min(h) from unnest(o.reminder_hours) h
             where ${stepDue(sql`h`)} and not (h = any(i.reminders_sent))) as step
        from invites i join orgs o on o.id = i.org_id
        where i.status = 'pending' and i.expires_at is not null and i.expires_at > ${now}
          and exists (select 1 from unnest(o.reminder_hours) h
                      where ${stepDue(sql`h`)} and not (h = any(i.reminders_sent)))
        order by i.expires_at
        limit ${limit}
        for update of i skip locked
      ), marked as (
        update invites set reminders_sent = array(select distinct x from unnest(invites.reminders_sent || due.due_steps) x order by x desc), updated_at = ${now}
        from due where invites.id = due.id
        returning invites.id
      ), queued as (
        insert into notifications (kind, org_id, recipient_email, channel, payload, dedupe_key, created_at, next_attempt_at)
        select 'invite.reminder', due.org_id, due.email, ch,
               jsonb_build_object('inviteId', due.id, 'nonce', due.token_nonce, 'hoursBeforeExpiry', due.step),
               'invite.reminder:' || due.id || ':' || due.token_nonce || ':' || due.step, ${now}, ${now}
        -- sql.param: one array parameter (a bare JS array would be spread into a row and fail the cast).
        from due cross join unnest(${sql.param(channels)}::text[]) ch
        on conflict (dedupe_key, channel) do nothing
      )
      select count(*)::int as n from marked`);
    return r.rows[0]?.n ?? 0;
  }

  return {
    create,
    resend,
    remindDue,
    update,
    revoke,
    linkToken,
    currentLink,
    tokenOf,
    lookupByToken,
    acceptByToken,
    accept,
    declineByToken,
    decline,
    listPending,
    listForMe,
    get,
    expireDue,
  };
}

function stateCode(state: InviteState): ErrorCode {
  switch (state) {
    case 'accepted':
      return 'invite_used';
    case 'declined':
      return 'invite_declined';
    case 'revoked':
      return 'invite_revoked';
    case 'expired':
      return 'invite_expired';
    default:
      return 'invite_not_pending';
  }
}

function stateMessage(state: InviteState): string {
  return new DomainError(stateCode(state)).message;
}

export function describeInviteRole(role: Role): string {
  return roleLabels[role];
}

