import { and, asc, eq, gt, isNull, or, sql } from 'drizzle-orm';
import { accounts, invites, orgs } from '../../db/schema.js';
import { authorize } from '../access.js';
import type { Actor, Deps } from '../context.js';
import { fail } from '../errors.js';
import { requireMembership } from '../standing.js';
import { parseId } from '../validation.js';
import { inviteState, type InviteView } from './state.js';

/** Who invited: their display name, or the label of an inviter with no account (the CLI, an API key). */
export const inviterName = sql<string | null>`coalesce(${accounts.displayName}, ${invites.invitedByLabel})`;

/** Who sees which invites: an org's pending ones (inviters), mine (invitees), one by id. */
export function createInviteReads(deps: Deps) {
  const { db, clock } = deps;

  /** Pending invites of an org (expired ones that no job has swept yet are marked expired). */
  async function listPending(actor: Actor, orgId: string): Promise<InviteView[]> {
    authorize(await requireMembership(db, actor, orgId), 'member:invite', 'read');
    const rows = await db
      .select({ invite: invites, invitedByName: inviterName })
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
      .select({
        invite: invites,
        orgName: orgs.name,
        invitedByName: sql<string | null>`coalesce((select display_name from accounts a where a.id = ${invites.invitedById}), ${invites.invitedByLabel})`,
      })
      .from(invites)
      .innerJoin(orgs, eq(orgs.id, invites.orgId))
      .innerJoin(accounts, sql`lower(${accounts.email}) = lower(${invites.email})`)
      .where(and(eq(accounts.id, actor.accountId), eq(invites.status, 'pending'), or(isNull(invites.expiresAt), gt(invites.expiresAt, now))));
    return rows.map((r) => ({ ...r.invite, state: 'pending' as const, invitedByName: r.invitedByName, orgName: r.orgName }));
  }

  async function get(actor: Actor, inviteId: string): Promise<InviteView> {
    parseId(inviteId, 'invite id');
    const [row] = await db
      .select({ invite: invites, invitedByName: inviterName })
      .from(invites)
      .leftJoin(accounts, eq(accounts.id, invites.invitedById))
      .where(eq(invites.id, inviteId));
    if (!row) fail('invite_not_found');
    authorize(await requireMembership(db, actor, row.invite.orgId).catch(() => fail('invite_not_found')), 'member:invite', 'read');
    return { ...row.invite, state: inviteState(row.invite, clock.now()), invitedByName: row.invitedByName };
  }

  return { listPending, listForMe, get };
}
