import { eq } from 'drizzle-orm';
import { invites, type InviteRow, type OrgRow } from '../../db/schema.js';
import { assertCanGrant } from '../access.js';
import { emit, type Notice } from '../events.js';
import type { Actor, Executor, Tx } from '../context.js';
import { fail, notFoundFor } from '../errors.js';
import { lockOrgFor } from '../standing.js';
import { deriveToken, hashToken, looksLikeToken } from '../tokens.js';
import { parseId } from '../validation.js';

/** Steps several invite operations share. */

/** An invite's current link token: re-created from its nonce (the database keeps only the nonce and a hash). */
export function tokenFor(key: Buffer, invite: Pick<InviteRow, 'id' | 'tokenNonce'>): string {
  return deriveToken(key, invite.id, invite.tokenNonce);
}

/** The invite's email and Slack DM, brought by invite.created and invite.resent. */
export function sentNotice(invite: InviteRow, org: OrgRow): Notice<'invite.sent'> {
  return {
    kind: 'invite.sent',
    recipientEmail: invite.email,
    payload: { inviteId: invite.id, nonce: invite.tokenNonce, orgName: org.name, role: invite.role, expiresAt: invite.expiresAt?.toISOString() ?? null },
    dedupeKey: `invite.sent:${invite.id}:${invite.tokenNonce}`,
  };
}

export async function markExpired(tx: Executor, actor: Actor, invite: InviteRow, now: Date): Promise<void> {
  await tx.update(invites).set({ status: 'expired', updatedAt: now }).where(eq(invites.id, invite.id));
  await emit(
    tx,
    actor,
    { orgId: invite.orgId, action: 'invite.expired', targetType: 'invite', targetId: invite.id, before: { status: 'pending', expiresAt: invite.expiresAt } },
    now,
  );
}

/** Loads an invite, locks its org (and checks the actor's rights there), then locks the invite. */
export async function lockInvite(tx: Tx, actor: Actor, inviteId: string, orgId?: string) {
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

export async function findByToken(ex: Executor, token: string): Promise<InviteRow | undefined> {
  if (!looksLikeToken(token)) return undefined;
  const [invite] = await ex
    .select()
    .from(invites)
    .where(eq(invites.tokenHash, hashToken(token)));
  return invite;
}
