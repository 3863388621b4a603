import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { useWorld, type World } from '../helpers/domain.js';
import { joinRequests, memberships } from '../../src/db/schema.js';

const world = useWorld();

async function requestRow(w: World, id: string) {
  const [row] = await w.db.db.select().from(joinRequests).where(eq(joinRequests.id, id));
  if (!row) throw new Error(`no join request ${id}`);
  return row;
}

async function membershipOf(w: World, orgId: string, accountId: string) {
  const rows = await w.db.db.select().from(memberships).where(eq(memberships.accountId, accountId));
  return rows.find((m) => m.orgId === orgId);
}

const decisions = (w: World, requestId: string) =>
  w.count('audit_events', `target_id = '${requestId}' and action in ('join_request.approved', 'join_request.denied')`);

describe('asking to join', () => {
  it('an outsider can ask to join an org found by its slug', async () => {
    const w = world();
    const { org } = await w.org('Joinable');
    const p = await w.person('Asker');
    const found = await w.domain.orgs.findBySlug(org.slug.toUpperCase());
    expect(found.id).toBe(org.id);
    const { request } = await w.domain.joinRequests.request(p.actor, found, '  I work on the API  ');
    expect(request).toMatchObject({ orgId: org.id, accountId: p.account.id, status: 'pending', message: 'I work on the API' });
    const [event] = await w.db.pool
      .query(`select actor_id, after from audit_events where action = 'join_request.created' and target_id = $1`, [request.id])
      .then((r) => r.rows);
    expect(event).toMatchObject({ actor_id: p.account.id, after: { accountId: p.account.id } });
    expect(await membershipOf(w, org.id, p.account.id)).toBeUndefined();
  });

  it('an unknown slug is org_not_found', async () => {
    const w = world();
    await expect(w.domain.orgs.findBySlug('no-such-org-here')).rejects.toMatchObject({ code: 'org_not_found' });
    await expect(w.domain.orgs.findBySlug('Not A Slug!')).rejects.toMatchObject({ code: 'org_not_found' });
  });

  it('a second pending request is refused with join_request_pending', async () => {
    const w = world();
    const { org } = await w.org('Twice');
    const p = await w.person('Eager');
    await w.domain.joinRequests.request(p.actor, org);
    const err = await w.domain.joinRequests.request(p.actor, org, 'please').catch((e) => e);
    expect(err).toMatchObject({ code: 'join_request_pending' });
    expect(err.message).toMatch(/already asked/i);
    expect(await w.count('join_requests', `org_id = '${org.id}' and account_id = '${p.account.id}'`)).toBe(1);
    expect(await w.count('audit_events', `org_id = '${org.id}' and action = 'join_request.created'`)).toBe(1);
  });

  it('after a denial the person may ask again', async () => {
    const w = world();
    const { org, owner } = await w.org('Again');
    const p = await w.person('Persistent');
    const { request } = await w.domain.joinRequests.request(p.actor, org);
    await w.domain.joinRequests.deny(owner.actor, request.id);
    const second = await w.domain.joinRequests.request(p.actor, org);
    expect(second.request.id).not.toBe(request.id);
    expect(second.request.status).toBe('pending');
  });

  it('a member asking to join their own org is told they are already a member', async () => {
    const w = world();
    const { org, owner } = await w.org('AlreadyIn');
    const m = await w.member(org, owner.actor, 'member');
    const err = await w.domain.joinRequests.request(m.actor, org).catch((e) => e);
    expect(err).toMatchObject({ code: 'already_member' });
    expect(err.message).toContain(org.name);
    expect(await w.count('join_requests', `org_id = '${org.id}'`)).toBe(0);
  });

  it('a message longer than 500 characters is invalid_input', async () => {
    const w = world();
    const { org } = await w.org('LongMsg');
    const p = await w.person('Verbose');
    await expect(w.domain.joinRequests.request(p.actor, org, 'x'.repeat(501))).rejects.toMatchObject({ code: 'invalid_input' });
    expect(await w.count('join_requests', `org_id = '${org.id}'`)).toBe(0);
  });

  it('owners and admins get one join_request.created notification each, members do not', async () => {
    const w = world();
    const { org, owner } = await w.org('Notify');
    const owner2 = await w.member(org, owner.actor, 'owner');
    const admin = await w.member(org, owner.actor, 'admin');
    const member = await w.member(org, owner.actor, 'member');
    const dev = await w.member(org, owner.actor, 'developer');
    const billing = await w.member(org, owner.actor, 'billing');
    const p = await w.person('Knocker');
    const { request, approverIds } = await w.domain.joinRequests.request(p.actor, org);
    const expected = [owner.account.id, owner2.account.id, admin.account.id].sort();
    expect([...approverIds].sort()).toEqual(expected);
    const rows = await w.db.pool.query(
      `select recipient_account_id as id from notifications where kind = 'join_request.created' and payload->>'requestId' = $1`,
      [request.id],
    );
    expect(rows.rows.map((r) => r.id).sort()).toEqual(expected);
    for (const x of [member, dev, billing, p]) {
      expect(await w.count('notifications', `kind = 'join_request.created' and recipient_account_id = '${x.account.id}'`)).toBe(0);
    }
  });
});

describe('deciding join requests', () => {
  it('an admin approves with a role: the requester joins with it and is told', async () => {
    const w = world();
    const { org, owner } = await w.org('Approve');
    const admin = await w.member(org, owner.actor, 'admin');
    const p = await w.person('Approved');
    const { request } = await w.domain.joinRequests.request(p.actor, org);
    const after = await w.domain.joinRequests.approve(admin.actor, request.id, 'developer');
    expect(after).toMatchObject({ status: 'approved', role: 'developer', decidedById: admin.account.id });
    expect(await membershipOf(w, org.id, p.account.id)).toMatchObject({ role: 'developer', source: 'join_request', status: 'active' });
    const told = await w.db.pool.query(`select payload from notifications where kind = 'join_request.decided' and recipient_account_id = $1`, [p.account.id]);
    expect(told.rows).toEqual([{ payload: expect.objectContaining({ requestId: request.id, approved: true, role: 'developer', orgName: org.name }) }]);
    expect(await w.count('audit_events', `target_id = '${request.id}' and action = 'join_request.approved'`)).toBe(1);
    expect(await w.count('audit_events', `org_id = '${org.id}' and action = 'member.added' and after->>'accountId' = '${p.account.id}'`)).toBe(1);
    expect((await w.domain.orgs.listMine(p.actor)).map((m) => [m.org.id, m.active])).toEqual([[org.id, true]]);
  });

  it('an admin cannot approve as owner; an owner can', async () => {
    const w = world();
    const { org, owner } = await w.org('ApproveOwner');
    const admin = await w.member(org, owner.actor, 'admin');
    const p = await w.person('WouldBeOwner');
    const { request } = await w.domain.joinRequests.request(p.actor, org);
    const err = await w.domain.joinRequests.approve(admin.actor, request.id, 'owner').catch((e) => e);
    expect(err).toMatchObject({ code: 'forbidden' });
    expect(err.message).toMatch(/only owners/i);
    expect((await requestRow(w, request.id)).status).toBe('pending');
    expect(await membershipOf(w, org.id, p.account.id)).toBeUndefined();
    expect(await decisions(w, request.id)).toBe(0);
    await w.domain.joinRequests.approve(owner.actor, request.id, 'owner');
    expect(await membershipOf(w, org.id, p.account.id)).toMatchObject({ role: 'owner' });
  });

  it('members, developers and billing cannot approve or deny', async () => {
    const w = world();
    const { org, owner } = await w.org('NoDecide');
    const p = await w.person('Waiting');
    const { request } = await w.domain.joinRequests.request(p.actor, org);
    for (const role of ['member', 'developer', 'billing'] as const) {
      const x = await w.member(org, owner.actor, role);
      await expect(w.domain.joinRequests.approve(x.actor, request.id, 'member')).rejects.toMatchObject({ code: 'forbidden' });
      await expect(w.domain.joinRequests.deny(x.actor, request.id)).rejects.toMatchObject({ code: 'forbidden' });
    }
    expect((await requestRow(w, request.id)).status).toBe('pending');
    expect(await membershipOf(w, org.id, p.account.id)).toBeUndefined();
    expect(await decisions(w, request.id)).toBe(0);
  });

  it("an admin of another org cannot decide this org's request", async () => {
    const w = world();
    const { org } = await w.org('TargetOrg');
    const other = await w.org('OtherOrg');
    const p = await w.person('Between');
    const { request } = await w.domain.joinRequests.request(p.actor, org);
    await expect(w.domain.joinRequests.approve(other.owner.actor, request.id, 'member')).rejects.toMatchObject({ code: 'join_request_not_found' });
    await expect(w.domain.joinRequests.get(other.owner.actor, request.id)).rejects.toMatchObject({ code: 'join_request_not_found' });
    await expect(w.domain.joinRequests.listPending(other.owner.actor, org.id)).rejects.toMatchObject({ code: 'not_a_member' });
    expect((await requestRow(w, request.id)).status).toBe('pending');
  });

  it('nobody approves or denies their own request', async () => {
    const w = world();
    const { org, owner } = await w.org('OwnRequest');
    const p = await w.person('SelfApprover');
    const { request } = await w.domain.joinRequests.request(p.actor, org);
    // Meanwhile they were invited as admin, so they now have the right to decide requests…
    const [inv] = await w.domain.invites.create(owner.actor, org.id, { emails: p.account.email!, role: 'admin' });
    if (!inv?.ok) throw new Error('invite failed');
    await w.domain.invites.accept(p.actor, inv.invite.id);
    // …but not their own.
    const err = await w.domain.joinRequests.approve(p.actor, request.id, 'admin').catch((e) => e);
    expect(err).toMatchObject({ code: 'own_request' });
    expect(err.message).toMatch(/your own request/i);
    await expect(w.domain.joinRequests.deny(p.actor, request.id)).rejects.toMatchObject({ code: 'own_request' });
    expect((await requestRow(w, request.id)).status).toBe('pending');
    expect(await decisions(w, request.id)).toBe(0);
    expect(await w.count('notifications', `kind = 'join_request.decided' and payload->>'requestId' = '${request.id}'`)).toBe(0);
  });

  it('a denial with a reason adds no membership and tells the requester why', async () => {
    const w = world();
    const { org, owner } = await w.org('Deny');
    const admin = await w.member(org, owner.actor, 'admin');
    const p = await w.person('Denied');
    const { request } = await w.domain.joinRequests.request(p.actor, org);
    const after = await w.domain.joinRequests.deny(admin.actor, request.id, '  Contractors use the partner org  ');
    expect(after).toMatchObject({ status: 'denied', role: null, reason: 'Contractors use the partner org', decidedById: admin.account.id });
    expect(await membershipOf(w, org.id, p.account.id)).toBeUndefined();
    const told = await w.db.pool.query(`select payload from notifications where kind = 'join_request.decided' and recipient_account_id = $1`, [p.account.id]);
    expect(told.rows).toEqual([{ payload: expect.objectContaining({ approved: false, reason: 'Contractors use the partner org' }) }]);
    const [event] = await w.domain.audit.query(owner.actor, org.id, { action: 'join_request.denied', targetId: request.id });
    expect(event).toMatchObject({ actorId: admin.account.id, after: { status: 'denied', reason: 'Contractors use the partner org' } });
  });

  it('the seat limit applies at approval', async () => {
    const w = world();
    const { org, owner } = await w.org('SeatJoin');
    const p = await w.person('NoSeat');
    const { request } = await w.domain.joinRequests.request(p.actor, org);
    await w.domain.orgs.updateSettings(owner.actor, org.id, { seatLimit: 2 });
    await w.domain.invites.create(owner.actor, org.id, { emails: `holder.${Date.now()}@example.org` }); // the second seat
    const err = await w.domain.joinRequests.approve(owner.actor, request.id, 'member').catch((e) => e);
    expect(err).toMatchObject({ code: 'seat_limit' });
    expect(err.message).toMatch(/seat/i);
    expect((await requestRow(w, request.id)).status).toBe('pending');
    expect(await w.count('memberships', `org_id = '${org.id}'`)).toBe(1);
    expect(await decisions(w, request.id)).toBe(0);
    // Denying is still possible when seats are full.
    await w.domain.joinRequests.deny(owner.actor, request.id, 'full');
    expect((await requestRow(w, request.id)).status).toBe('denied');
  });

  it('the first decision wins: a later approve or deny is join_request_decided', async () => {
    const w = world();
    const { org, owner } = await w.org('FirstWins');
    const admin = await w.member(org, owner.actor, 'admin');
    const p = await w.person('Decided');
    const { request } = await w.domain.joinRequests.request(p.actor, org);
    await w.domain.joinRequests.deny(admin.actor, request.id, 'no');
    const err = await w.domain.joinRequests.approve(owner.actor, request.id, 'member').catch((e) => e);
    expect(err).toMatchObject({ code: 'join_request_decided' });
    expect(err.message).toMatch(/already denied/i);
    await expect(w.domain.joinRequests.deny(owner.actor, request.id, 'again')).rejects.toMatchObject({ code: 'join_request_decided' });
    expect(await requestRow(w, request.id)).toMatchObject({ status: 'denied', reason: 'no', decidedById: admin.account.id });
    expect(await membershipOf(w, org.id, p.account.id)).toBeUndefined();
    expect(await decisions(w, request.id)).toBe(1);
    expect(await w.count('notifications', `kind = 'join_request.decided' and payload->>'requestId' = '${request.id}'`)).toBe(1);
  });

  it('an unknown role, an unknown request or a malformed id is refused', async () => {
    const w = world();
    const { org, owner } = await w.org('BadDecide');
    const p = await w.person('Odd');
    const { request } = await w.domain.joinRequests.request(p.actor, org);
    await expect(w.domain.joinRequests.approve(owner.actor, request.id, 'emperor')).rejects.toMatchObject({ code: 'invalid_input' });
    await expect(w.domain.joinRequests.approve(owner.actor, '00000000-0000-4000-8000-000000000000', 'member')).rejects.toMatchObject({
      code: 'join_request_not_found',
    });
    await expect(w.domain.joinRequests.deny(owner.actor, 'not-an-id')).rejects.toMatchObject({ code: 'invalid_input' });
    expect((await requestRow(w, request.id)).status).toBe('pending');
  });

  it('owners and admins list pending requests; members cannot; the requester can see their own', async () => {
    const w = world();
    const { org, owner } = await w.org('ListJoin');
    const admin = await w.member(org, owner.actor, 'admin');
    const m = await w.member(org, owner.actor, 'member');
    const p = await w.person('Listed');
    const { request } = await w.domain.joinRequests.request(p.actor, org, 'hi');
    const list = await w.domain.joinRequests.listPending(admin.actor, org.id);
    expect(list.map((r) => [r.id, r.requesterName, r.requesterEmail, r.message])).toEqual([[request.id, p.account.displayName, p.account.email, 'hi']]);
    await expect(w.domain.joinRequests.listPending(m.actor, org.id)).rejects.toMatchObject({ code: 'forbidden' });
    expect((await w.domain.joinRequests.get(p.actor, request.id)).status).toBe('pending');
    await expect(w.domain.joinRequests.get(m.actor, request.id)).rejects.toMatchObject({ code: 'forbidden' });
    await w.domain.joinRequests.approve(owner.actor, request.id, 'member');
    expect(await w.domain.joinRequests.listPending(owner.actor, org.id)).toEqual([]);
  });
});
