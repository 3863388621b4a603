import { randomUUID } from 'node:crypto';
import { and, eq, sql } from 'drizzle-orm';
import { accounts, invites, memberships, type InviteRow, type OrgRow } from '../../db/schema.js';
import { assertCanGrant, type Role, type Standing } from '../access.js';
import { emit } from '../events.js';
import { isUniqueViolation, type Actor, type DomainSettings, type Executor } from '../context.js';
import { errorCatalogue, fail, isDomainError, type ErrorCode } from '../errors.js';
import { assertSeatAvailable } from '../membership-rules/index.js';
import { actorAccountId } from '../standing.js';
import { deriveToken, hashToken, newNonce } from '../tokens.js';
import { isValidEmail, textProblem } from '../validation.js';
import { markExpired, sentNotice } from './core.js';
import { expiryFrom, inviteAuditView, inviteState } from './state.js';

/** The checks and the insert of one invite, shared by every way of inviting (a list of emails, a CSV import). */

/** What is wrong with an (already trimmed) address as an invite's email, or undefined when it is fine. */
export function emailProblem(email: string): string | undefined {
  const problem = textProblem(email);
  if (problem) return `That email address contains ${problem}.`;
  if (!isValidEmail(email)) return 'That is not a valid email address.';
  return undefined;
}

export type OneInvite = {
  /** The org, locked by the caller's transaction (lockOrgFor), and the actor's standing in it. */
  org: OrgRow;
  standing: Standing;
  email: string;
  role: Role;
  billingEmails: boolean;
  /** The invitee's name, if the inviter gave one: the display name of an account the invite link creates. */
  inviteeName?: string | null | undefined;
  now: Date;
  /** Seats a dry run has planned outside this transaction (earlier chunks of a file), counted as in use. */
  plannedSeats?: number | undefined;
};

/**
 * Invites one email in the caller's transaction: the role must be the actor's to give, the person not a
 * member nor already invited (an expired invite is marked so and replaced), a seat must be free. Throws
 * the domain error that refuses it (a race on the pending-invite index arrives as a unique violation).
 */
export async function inviteOneIn(tx: Executor, settings: DomainSettings, actor: Actor, i: OneInvite): Promise<{ invite: InviteRow; token: string }> {
  const { org, email, role, now } = i;
  assertCanGrant(i.standing.role, role);
  const [member] = await tx
    .select({ id: memberships.id, status: memberships.status })
    .from(memberships)
    .innerJoin(accounts, eq(accounts.id, memberships.accountId))
    .where(and(eq(memberships.orgId, org.id), sql`lower(${accounts.email}) = lower(${email})`));
  if (member?.status === 'pending')
    fail('already_member', 'Your identity provider has already added them; they were asked by email to accept and have not answered yet.');
  if (member) fail('already_member', 'Already a member of this organization.');
  const [pending] = await tx
    .select()
    .from(invites)
    .where(and(eq(invites.orgId, org.id), eq(invites.status, 'pending'), sql`lower(${invites.email}) = lower(${email})`));
  if (pending) {
    // An expired invite never blocks a new one, even if the expiry job has not run yet.
    if (inviteState(pending, now) === 'expired') await markExpired(tx, actor, pending, now);
    else fail('invite_pending', undefined, { inviteId: pending.id });
  }
  await assertSeatAvailable(tx, org, now, { adding: 1 + (i.plannedSeats ?? 0) });
  const id = randomUUID();
  const nonce = newNonce();
  const token = deriveToken(settings.inviteTokenKey, id, nonce);
  const [invite] = await tx
    .insert(invites)
    .values({
      id,
      orgId: org.id,
      email,
      role,
      billingEmails: i.billingEmails,
      inviteeName: i.inviteeName ?? null,
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
    { orgId: org.id, action: 'invite.created', targetType: 'invite', targetId: id, after: inviteAuditView(invite!), notify: [sentNotice(invite!, org)] },
    now,
  );
  return { invite: invite!, token };
}

/** Why inviting one email was refused, as a result (a domain error, or the pending-invite race), or undefined for a failure. */
export function refusalOf(err: unknown): { code: ErrorCode; message: string; inviteId?: string } | undefined {
  if (isUniqueViolation(err, 'invites_one_pending_per_email_uq')) return { code: 'invite_pending', message: errorCatalogue.invite_pending };
  if (!isDomainError(err)) return undefined;
  return { code: err.code, message: err.message, ...(err.details?.inviteId ? { inviteId: String(err.details.inviteId) } : {}) };
}
