import { and, asc, eq, inArray } from 'drizzle-orm';
import { accounts, joinRequests, memberships, type JoinRequestRow, type OrgRow } from '../db/schema.js';
import { assertCanGrant, authorize, joinRequestDeciders, joinRequestPermission, parseRole } from './access.js';
import { emit } from './events.js';
import { type Actor, type Deps, isUniqueViolation } from './context.js';
import { fail, notFoundFor } from './errors.js';
import { addMembership, assertMayJoinAnotherOrg, assertSeatAvailable } from './membership-rules/index.js';
import { findMembership, lockOrgFor, requireMembership } from './standing.js';
import { parseId, parseInput, safeString } from './validation.js';

/** A join message or a deny reason: free text, several lines allowed. */
const freeText = (what: string) =>
  safeString({ what, kind: 'multiline' })
    .transform((s) => s.trim())
    .refine((s) => s.length <= 500, { message: `Keep the ${what} to 500 characters.` })
    .optional();
const messageSchema = freeText('message');
const reasonSchema = freeText('reason');

type JoinRequestView = JoinRequestRow & { requesterName: string; requesterEmail: string | null };

/** Depot "request to join an organization": asked by slug, decided by an owner or admin; first decision wins. */
export function createJoinRequestService(deps: Deps) {
  const { db, clock, settings } = deps;

  async function request(actor: Actor, org: OrgRow, message?: string): Promise<{ request: JoinRequestRow; approverIds: string[] }> {
    if (actor.type !== 'account') fail('forbidden', 'Only a person can ask to join an organization.');
    const msg = parseInput(messageSchema, message);
    try {
      return await db.transaction(async (tx) => {
        const mine = await findMembership(tx, org.id, actor.accountId);
        if (mine?.status === 'pending')
          fail(
            'membership_pending',
            `${org.name}'s identity provider has already added you: accept or decline that request (App Home, or Roster's email) instead of asking.`,
          );
        if (mine) fail('already_member', `You're already a member of ${org.name}.`);
        await assertMayJoinAnotherOrg(tx, settings, actor.accountId, org.id);
        const now = clock.now();
        const [req] = await tx
          .insert(joinRequests)
          .values({ orgId: org.id, accountId: actor.accountId, message: msg || null, createdAt: now })
          .returning();
        const approvers = await tx
          .select({ accountId: memberships.accountId })
          .from(memberships)
          .where(and(eq(memberships.orgId, org.id), inArray(memberships.role, joinRequestDeciders()), eq(memberships.status, 'active')));
        await emit(
          tx,
          actor,
          {
            orgId: org.id,
            action: 'join_request.created',
            targetType: 'join_request',
            targetId: req!.id,
            after: { accountId: actor.accountId, message: msg || null },
            notify: approvers.map((a) => ({
              kind: 'join_request.created' as const,
              recipientAccountId: a.accountId,
              payload: { requestId: req!.id, orgName: org.name, requesterAccountId: actor.accountId, message: msg || null },
              dedupeKey: `join_request.created:${req!.id}:${a.accountId}`,
            })),
          },
          now,
        );
        return { request: req!, approverIds: approvers.map((a) => a.accountId) };
      });
    } catch (err) {
      if (isUniqueViolation(err, 'join_requests_one_pending_uq')) fail('join_request_pending');
      throw err;
    }
  }

  async function decide(
    actor: Actor,
    requestId: string,
    decision: { approve: true; role: string } | { approve: false; reason?: string },
  ): Promise<JoinRequestRow> {
    parseId(requestId, 'request id');
    const role = decision.approve ? parseRole(decision.role) : null;
    const reason = decision.approve ? null : parseInput(reasonSchema, decision.reason) || null;
    return db.transaction(async (tx) => {
      const [peek] = await tx.select({ orgId: joinRequests.orgId }).from(joinRequests).where(eq(joinRequests.id, requestId));
      if (!peek) fail('join_request_not_found');
      const { org, standing } = await lockOrgFor(tx, actor, peek.orgId, joinRequestPermission).catch(notFoundFor('join_request_not_found'));
      const [req] = await tx.select().from(joinRequests).where(eq(joinRequests.id, requestId)).for('update');
      if (req!.status !== 'pending') fail('join_request_decided', `That request was already ${req!.status}.`);
      if (actor.type === 'account' && actor.accountId === req!.accountId) fail('own_request');
      const now = clock.now();
      if (role) {
        assertCanGrant(standing.role, role);
        if (!(await findMembership(tx, org.id, req!.accountId))) {
          await assertMayJoinAnotherOrg(tx, settings, req!.accountId, org.id);
          await assertSeatAvailable(tx, org, now);
          await addMembership(tx, actor, { org, accountId: req!.accountId, role, billingEmails: false, source: 'join_request' }, now);
        }
      }
      const decidedBy = actor.type === 'account' ? actor.accountId : null;
      const [after] = await tx
        .update(joinRequests)
        .set({ status: role ? 'approved' : 'denied', role, reason, decidedById: decidedBy, decidedAt: now })
        .where(eq(joinRequests.id, requestId))
        .returning();
      await emit(
        tx,
        actor,
        {
          orgId: org.id,
          action: role ? 'join_request.approved' : 'join_request.denied',
          targetType: 'join_request',
          targetId: requestId,
          before: { status: 'pending' },
          after: { status: after!.status, role, reason },
          notify: [
            {
              kind: 'join_request.decided',
              recipientAccountId: req!.accountId,
              payload: { requestId, orgName: org.name, approved: !!role, role, reason },
              dedupeKey: `join_request.decided:${requestId}`,
            },
          ],
        },
        now,
      );
      return after!;
    });
  }

  const approve = (actor: Actor, requestId: string, role: string) => decide(actor, requestId, { approve: true, role });
  const deny = (actor: Actor, requestId: string, reason?: string) => decide(actor, requestId, { approve: false, reason });

  async function get(actor: Actor, requestId: string): Promise<JoinRequestView> {
    parseId(requestId, 'request id');
    const [row] = await db
      .select({ req: joinRequests, name: accounts.displayName, email: accounts.email })
      .from(joinRequests)
      .innerJoin(accounts, eq(accounts.id, joinRequests.accountId))
      .where(eq(joinRequests.id, requestId));
    if (!row) fail('join_request_not_found');
    const mine = actor.type === 'account' && actor.accountId === row.req.accountId;
    if (!mine) authorize(await requireMembership(db, actor, row.req.orgId).catch(() => fail('join_request_not_found')), 'member:invite', 'read');
    return { ...row.req, requesterName: row.name, requesterEmail: row.email };
  }

  async function listPending(actor: Actor, orgId: string): Promise<JoinRequestView[]> {
    authorize(await requireMembership(db, actor, orgId), 'member:invite', 'read');
    const rows = await db
      .select({ req: joinRequests, name: accounts.displayName, email: accounts.email })
      .from(joinRequests)
      .innerJoin(accounts, eq(accounts.id, joinRequests.accountId))
      .where(and(eq(joinRequests.orgId, orgId), eq(joinRequests.status, 'pending')))
      .orderBy(asc(joinRequests.createdAt));
    return rows.map((r) => ({ ...r.req, requesterName: r.name, requesterEmail: r.email }));
  }

  return { request, approve, deny, get, listPending };
}
