import { eq } from 'drizzle-orm';
import { invites, type InviteRow } from '../../db/schema.js';
import { assertCanGrant, parseRole } from '../access.js';
import { emit } from '../events.js';
import { type Actor, type Deps, isUniqueViolation } from '../context.js';
import { fail } from '../errors.js';
import { assertSeatAvailable } from '../membership-rules/index.js';
import { actorAccountId } from '../standing.js';
import { deriveToken, hashToken, newNonce } from '../tokens.js';
import { parseInput } from '../validation.js';
import { lockInvite, sentNotice, tokenFor } from './core.js';
import { expiryFrom, inviteAuditView, inviteState, stateMessage, updateSchema } from './state.js';

/** What owners and admins do to an invite they sent: resend, change, revoke, copy its link. */
export function createInviteManagement(deps: Deps) {
  const { db, clock, settings } = deps;
  const key = settings.inviteTokenKey;

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
        await emit(
          tx,
          actor,
          {
            orgId: org.id,
            action: 'invite.resent',
            targetType: 'invite',
            targetId: invite.id,
            before: inviteAuditView(invite),
            after: inviteAuditView(after!),
            notify: [sentNotice(after!, org)],
          },
          now,
        );
        return { invite: after!, token };
      });
    } catch (err) {
      if (isUniqueViolation(err, 'invites_one_pending_per_email_uq'))
        fail('invite_pending', 'A newer invite is already pending for that email. Resend that one instead.');
      throw err;
    }
  }

  /** Change role or billing-email flag of a pending invite (HCTI). */
  async function update(
    actor: Actor,
    inviteId: string,
    changes: { role?: string; billingEmails?: boolean },
    opts: { orgId?: string } = {},
  ): Promise<InviteRow> {
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
      await emit(
        tx,
        actor,
        {
          orgId: invite.orgId,
          action: 'invite.updated',
          targetType: 'invite',
          targetId: invite.id,
          before: inviteAuditView(invite),
          after: inviteAuditView(after!),
        },
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
      await emit(
        tx,
        actor,
        {
          orgId: invite.orgId,
          action: 'invite.revoked',
          targetType: 'invite',
          targetId: invite.id,
          before: inviteAuditView(invite),
          after: inviteAuditView(after!),
        },
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
      return { token: tokenFor(key, invite), invite };
    });
  }

  return { resend, update, revoke, linkToken, currentLink };
}
