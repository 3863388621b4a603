import { randomUUID } from 'node:crypto';
import { and, eq, sql } from 'drizzle-orm';
import { accounts, invites, memberships } from '../../db/schema.js';
import { assertCanGrant, authorize, parseRole, type Role } from '../access.js';
import { emit } from '../events.js';
import { type Actor, type Deps, type Tx, isUniqueViolation } from '../context.js';
import { fail, isDomainError } from '../errors.js';
import { assertSeatAvailable } from '../membership-rules/index.js';
import { actorAccountId, lockOrgFor, requireMembership } from '../standing.js';
import { deriveToken, hashToken, newNonce } from '../tokens.js';
import { isValidEmail, normalizeEmail, parseInput, textProblem } from '../validation.js';
import { markExpired, sentNotice } from './core.js';
import {
  createSchema,
  expiryFrom,
  inviteAuditView,
  inviteState,
  MAX_EMAILS_PER_INVITE,
  splitEmails,
  type CreateInvitesInput,
  type InviteResult,
} from './state.js';

/** Inviting one or many emails at once, each with its own result. */
export function createInviteCreation(deps: Deps) {
  const { db, clock, settings } = deps;
  const key = settings.inviteTokenKey;

  /** Invites one or many emails with one role; each email gets its own result. */
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
          results.push({
            email,
            ok: false,
            code: err.code,
            message: err.message,
            ...(err.details?.inviteId ? { inviteId: String(err.details.inviteId) } : {}),
          });
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
      .select({ id: memberships.id, status: memberships.status })
      .from(memberships)
      .innerJoin(accounts, eq(accounts.id, memberships.accountId))
      .where(and(eq(memberships.orgId, orgId), sql`lower(${accounts.email}) = lower(${email})`));
    if (member?.status === 'pending')
      fail('already_member', 'Your identity provider has already added them; they were asked by email to accept and have not answered yet.');
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
        // The CLI's operator or the product (an API key) invites in the org's name unless OPERATOR_NAME says.
        invitedByLabel: actorAccountId(actor) ? null : (settings.operatorName ?? org.name),
        expiresAt: expiryFrom(org, now),
        lastSentAt: now,
        createdAt: now,
        updatedAt: now,
      })
      .returning();
    await emit(
      tx,
      actor,
      { orgId, action: 'invite.created', targetType: 'invite', targetId: id, after: inviteAuditView(invite!), notify: [sentNotice(invite!, org)] },
      now,
    );
    return { email, ok: true, invite: invite!, token };
  }

  return { create };
}
