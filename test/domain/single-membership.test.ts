import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { useWorld, type World } from '../helpers/domain.js';
import type { Actor } from '../../src/domain/context.js';
import { invites } from '../../src/db/schema.js';

// MEMBERSHIP_MODE=single (Elastic): a person belongs to at most one org at a time.
const world = useWorld({ membershipMode: 'single', poolSize: 12 });

async function invite(w: World, by: Actor, orgId: string, email: string) {
  const [r] = await w.domain.invites.create(by, orgId, { emails: email });
  if (!r?.ok) throw new Error(`invite failed: ${r?.message}`);
  return r;
}

const inviteStatus = async (w: World, id: string) => (await w.db.db.select({ s: invites.status }).from(invites).where(eq(invites.id, id)))[0]?.s;
const orgsOf = (w: World, accountId: string) => w.count('memberships', `account_id = '${accountId}'`);

describe('single membership mode', () => {
  it('a member of one org cannot accept an invite to another, and is told to leave first', async () => {
    const w = world();
    const a = await w.org('SingleA');
    const b = await w.org('SingleB');
    const p = await w.member(a.org, a.owner.actor, 'member');
    const r = await invite(w, b.owner.actor, b.org.id, p.account.email!);
    for (const attempt of [() => w.domain.invites.accept(p.actor, r.invite.id), () => w.domain.invites.acceptByToken(r.token)]) {
      const err = await attempt().catch((e) => e);
      expect(err).toMatchObject({ code: 'single_membership' });
      expect(err.message).toMatch(/leave/i);
    }
    expect(await orgsOf(w, p.account.id)).toBe(1);
    expect(await w.count('memberships', `org_id = '${b.org.id}'`)).toBe(1);
    expect(await inviteStatus(w, r.invite.id)).toBe('pending'); // still usable once they leave
    expect(await w.count('audit_events', `action = 'invite.accepted' and target_id = '${r.invite.id}'`)).toBe(0);
  });

  it('a member of one org cannot create a second org', async () => {
    const w = world();
    const a = await w.org('SingleCreate');
    const before = await w.count('orgs');
    const err = await w.domain.orgs.create(a.owner.actor, { name: 'Second Org' }).catch((e) => e);
    expect(err).toMatchObject({ code: 'single_membership' });
    expect(err.message).toMatch(/leave/i);
    expect(await w.count('orgs')).toBe(before);
    expect(await orgsOf(w, a.owner.account.id)).toBe(1);
  });

  it('a member of one org cannot ask to join another', async () => {
    const w = world();
    const a = await w.org('SingleAsk');
    const b = await w.org('SingleAskB');
    const p = await w.member(a.org, a.owner.actor, 'developer');
    await expect(w.domain.joinRequests.request(p.actor, b.org)).rejects.toMatchObject({ code: 'single_membership' });
    expect(await w.count('join_requests', `org_id = '${b.org.id}'`)).toBe(0);
  });

  it('someone who joined another org after asking cannot be approved into this one', async () => {
    const w = world();
    const a = await w.org('SingleApproveA');
    const b = await w.org('SingleApproveB');
    const p = await w.person('Asker');
    const { request } = await w.domain.joinRequests.request(p.actor, b.org); // while in no org
    const r = await invite(w, a.owner.actor, a.org.id, p.account.email!);
    await w.domain.invites.accept(p.actor, r.invite.id); // now a member of A
    const err = await w.domain.joinRequests.approve(b.owner.actor, request.id, 'member').catch((e) => e);
    expect(err).toMatchObject({ code: 'single_membership' });
    expect(await w.count('memberships', `org_id = '${b.org.id}' and account_id = '${p.account.id}'`)).toBe(0);
    expect((await w.domain.joinRequests.get(b.owner.actor, request.id)).status).toBe('pending');
    // After leaving A, the same request can be approved.
    await w.domain.members.leave(p.actor, a.org.id);
    await w.domain.joinRequests.approve(b.owner.actor, request.id, 'member');
    expect((await w.domain.orgs.listMine(p.actor)).map((m) => m.org.id)).toEqual([b.org.id]);
  });

  it('after leaving their org a person can accept an invite to another', async () => {
    const w = world();
    const a = await w.org('LeaveA');
    const b = await w.org('LeaveB');
    const p = await w.member(a.org, a.owner.actor, 'member');
    const r = await invite(w, b.owner.actor, b.org.id, p.account.email!);
    await expect(w.domain.invites.accept(p.actor, r.invite.id)).rejects.toMatchObject({ code: 'single_membership' });
    await w.domain.members.leave(p.actor, a.org.id);
    await w.domain.invites.accept(p.actor, r.invite.id);
    const mine = await w.domain.orgs.listMine(p.actor);
    expect(mine.map((m) => [m.org.id, m.active])).toEqual([[b.org.id, true]]);
  });

  it('after leaving their org a person can create one', async () => {
    const w = world();
    const a = await w.org('LeaveCreate');
    const p = await w.member(a.org, a.owner.actor, 'admin');
    await expect(w.domain.orgs.create(p.actor, { name: 'Mine' })).rejects.toMatchObject({ code: 'single_membership' });
    await w.domain.members.leave(p.actor, a.org.id);
    const mineOrg = await w.domain.orgs.create(p.actor, { name: 'Mine' });
    expect((await w.domain.orgs.listMine(p.actor)).map((m) => [m.org.id, m.role])).toEqual([[mineOrg.id, 'owner']]);
  });

  it('a person in no org can join one; invites of other orgs then wait until they leave', async () => {
    const w = world();
    const a = await w.org('FirstOfTwo');
    const b = await w.org('SecondOfTwo');
    const p = await w.person('Chooser');
    const ra = await invite(w, a.owner.actor, a.org.id, p.account.email!);
    const rb = await invite(w, b.owner.actor, b.org.id, p.account.email!); // inviting is allowed, accepting is what is limited
    await w.domain.invites.acceptByToken(ra.token);
    await expect(w.domain.invites.acceptByToken(rb.token)).rejects.toMatchObject({ code: 'single_membership' });
    expect(await orgsOf(w, p.account.id)).toBe(1);
    // Declining the other org's invite stays possible.
    await w.domain.invites.decline(p.actor, rb.invite.id);
    expect(await inviteStatus(w, rb.invite.id)).toBe('declined');
  });

  it('parallel accepts of invites from two orgs let the person join only one', async () => {
    const w = world();
    for (let round = 0; round < 5; round++) {
      const a = await w.org(`ParA${round}`);
      const b = await w.org(`ParB${round}`);
      const p = await w.person(`Parallel ${round}`);
      const ra = await invite(w, a.owner.actor, a.org.id, p.account.email!);
      const rb = await invite(w, b.owner.actor, b.org.id, p.account.email!);
      const settled = await Promise.allSettled([w.domain.invites.acceptByToken(ra.token), w.domain.invites.accept(p.actor, rb.invite.id)]);
      expect(settled.filter((s) => s.status === 'fulfilled')).toHaveLength(1);
      expect(settled.filter((s) => s.status === 'rejected').map((s) => (s as PromiseRejectedResult).reason.code)).toEqual(['single_membership']);
      expect(await orgsOf(w, p.account.id)).toBe(1);
    }
  });

  it('a parallel org creation and invite accept leave the person in one org', async () => {
    const w = world();
    for (let round = 0; round < 5; round++) {
      const a = await w.org(`CreateRace${round}`);
      const p = await w.person(`Creator ${round}`);
      const r = await invite(w, a.owner.actor, a.org.id, p.account.email!);
      const settled = await Promise.allSettled([w.domain.orgs.create(p.actor, { name: `Own ${round}` }), w.domain.invites.accept(p.actor, r.invite.id)]);
      expect(settled.filter((s) => s.status === 'fulfilled')).toHaveLength(1);
      expect(settled.filter((s) => s.status === 'rejected').map((s) => (s as PromiseRejectedResult).reason.code)).toEqual(['single_membership']);
      expect(await orgsOf(w, p.account.id)).toBe(1);
    }
  });
});
