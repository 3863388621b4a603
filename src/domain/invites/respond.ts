import { eq, sql } from 'drizzle-orm';
import { accounts, invites, orgs, type InviteRow } from '../../db/schema.js';
import { emit } from '../events.js';
import { type Actor, type Deps, type Tx, accountActor } from '../context.js';
import { findOrCreateAccountByEmail } from '../accounts.js';
import { fail } from '../errors.js';
import { addMembership, assertMayJoinAnotherOrg, assertSeatAvailable, confirmPendingMembership } from '../membership-rules/index.js';
import { findMembership, requireOrg } from '../standing.js';
import { parseId, sameEmail } from '../validation.js';
import { findByToken } from './core.js';
import { inviteAuditView, inviteState, stateCode, stateMessage, type InviteLookup } from './state.js';

/** The invitee's side: open the link, accept (by link or from Slack), decline. */
export function createInviteResponses(deps: Deps) {
  const { db, clock, settings } = deps;

  /** What the invite page shows. The token is the credential; an unknown or outdated token is not found. */
  async function lookupByToken(token: string): Promise<InviteLookup> {
    const invite = await findByToken(db, token);
    if (!invite) fail('invite_not_found', 'This invite link is not valid. It may have been replaced by a newer invite: check your latest email.');
    const [row] = await db
      .select({ id: orgs.id, name: orgs.name, slug: orgs.slug, inviter: sql<string | null>`coalesce(${accounts.displayName}, ${invite.invitedByLabel})` })
      .from(orgs)
      .leftJoin(accounts, sql`${accounts.id} = ${invite.invitedById}`)
      .where(eq(orgs.id, invite.orgId));
    return { invite, state: inviteState(invite, clock.now()), org: { id: row!.id, name: row!.name, slug: row!.slug }, invitedByName: row?.inviter ?? null };
  }

  /**
   * Accepting through the link proves control of the invited email: the account with that email is
   * found or created (named as the person says, else as the inviter did), and joins with the invite's role.
   */
  async function acceptByToken(token: string, opts: { displayName?: string } = {}) {
    return db.transaction(async (tx) => {
      const invite = await findByToken(tx, token);
      if (!invite) fail('invite_not_found', 'This invite link is not valid. It may have been replaced by a newer invite: check your latest email.');
      const now = clock.now();
      const { account } = await findOrCreateAccountByEmail(
        tx,
        // The name the person typed wins; else the one the inviter gave (a CSV import's name column).
        { email: invite.email, displayName: opts.displayName ?? invite.inviteeName ?? undefined },
        { type: 'system', job: 'invite-link' },
        now,
      );
      return acceptLocked(tx, invite.id, account.id, accountActor(account.id, 'web'), now, 'link');
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
        fail(
          'invite_wrong_email',
          me?.email ? `This invite isn't addressed to you (${me.email}). Ask the organization to invite your own email address.` : undefined,
        );
      }
      return acceptLocked(tx, invite.id, me.id, actor, clock.now(), 'account');
    });
  }

  /**
   * `by`: 'account' when a signed-in person whose own email is the invite's accepted it; 'link' when the
   * invite link was used (which proves control of the link, not of the address: the audit says so).
   */
  async function acceptLocked(tx: Tx, inviteId: string, accountId: string, actor: Actor, now: Date, by: 'link' | 'account') {
    const [peek] = await tx.select({ orgId: invites.orgId }).from(invites).where(eq(invites.id, inviteId));
    const org = await requireOrg(tx, peek!.orgId, { lock: true });
    const [invite] = await tx.select().from(invites).where(eq(invites.id, inviteId)).for('update');
    const state = inviteState(invite!, now);
    if (state !== 'pending') fail(stateCode(state), stateMessage(state));
    const existing = await findMembership(tx, org.id, accountId, { lock: true });
    let membership = existing;
    // Waiting for their consent to an IdP's claim: the person accepting the org's invite themselves is that
    // consent; an invite link is not (anyone the link was copied to, the org's own admins included, has it).
    if (existing?.status === 'pending') {
      if (by === 'link')
        fail(
          'membership_pending',
          `${org.name}'s identity provider has already added this address. Accept or decline that request from Roster's own email or Slack message about it.`,
        );
      membership = await confirmPendingMembership(tx, actor, settings, org, existing, now);
    }
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
    // The inviter hears that the invite was accepted.
    const tell = invite!.invitedById
      ? [
          {
            kind: 'invite.accepted' as const,
            recipientAccountId: invite!.invitedById,
            payload: { inviteId: invite!.id, email: invite!.email, orgName: org.name, role: invite!.role },
            dedupeKey: `invite.accepted:${invite!.id}`,
          },
        ]
      : [];
    await emit(
      tx,
      actor,
      {
        orgId: org.id,
        action: 'invite.accepted',
        targetType: 'invite',
        targetId: invite!.id,
        before: inviteAuditView(invite!),
        after: { ...inviteAuditView(after!), acceptedBy: by },
        notify: tell,
      },
      now,
    );
    return { org, membership: membership!, invite: after!, alreadyMember: !!existing && existing.status !== 'pending' };
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
    // Past expiry it may still be declined, whether or not the expiry job has marked it yet.
    if (invite!.status !== 'pending' && invite!.status !== 'expired') fail(stateCode(invite!.status), stateMessage(invite!.status));
    const now = clock.now();
    const [after] = await tx
      .update(invites)
      .set({ status: 'declined', decidedById: accountId, decidedAt: now, updatedAt: now })
      .where(eq(invites.id, inviteId))
      .returning();
    const tell = [];
    if (invite!.invitedById) {
      const [org] = await tx.select({ name: orgs.name }).from(orgs).where(eq(orgs.id, invite!.orgId));
      tell.push({
        kind: 'invite.declined' as const,
        recipientAccountId: invite!.invitedById,
        payload: { inviteId, email: invite!.email, orgName: org?.name ?? '' },
        dedupeKey: `invite.declined:${inviteId}`,
      });
    }
    await emit(
      tx,
      actor,
      {
        orgId: invite!.orgId,
        action: 'invite.declined',
        targetType: 'invite',
        targetId: inviteId,
        before: inviteAuditView(invite!),
        after: inviteAuditView(after!),
        notify: tell,
      },
      now,
    );
    return after!;
  }

  return { lookupByToken, acceptByToken, accept, declineByToken, decline };
}
