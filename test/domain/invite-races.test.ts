import { describe, expect, it } from 'vitest';
import { useWorld } from '../helpers/domain.js';
import type { InviteResult } from '../../src/domain/invites.js';

// A pool of 20 connections so the parallel calls below really run at the same time in PostgreSQL.
const world = useWorld({ poolSize: 20 });

function codes(settled: PromiseSettledResult<unknown>[]): string[] {
  return settled.filter((s): s is PromiseRejectedResult => s.status === 'rejected').map((s) => s.reason?.code ?? String(s.reason));
}
const fulfilled = (settled: PromiseSettledResult<unknown>[]) => settled.filter((s) => s.status === 'fulfilled').length;

describe('invite races', () => {
  it('50 parallel accepts of one invite make exactly one membership; the rest are invite_used', async () => {
    const w = world();
    const { org, owner } = await w.org('RaceAccept');
    const p = await w.person('Racer');
    const [r] = await w.domain.invites.create(owner.actor, org.id, { emails: p.account.email!, role: 'developer' });
    if (!r?.ok) throw new Error('invite failed');
    const settled = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? w.domain.invites.acceptByToken(r.token) : w.domain.invites.accept(p.actor, r.invite.id))),
    );
    expect(fulfilled(settled)).toBe(1);
    const refusals = codes(settled);
    expect(refusals).toHaveLength(49);
    expect(new Set(refusals)).toEqual(new Set(['invite_used']));
    expect(await w.count('memberships', `org_id = '${org.id}' and account_id = '${p.account.id}'`)).toBe(1);
    expect(await w.count('memberships', `org_id = '${org.id}'`)).toBe(2);
    expect(await w.count('audit_events', `action = 'invite.accepted' and target_id = '${r.invite.id}'`)).toBe(1);
    expect(await w.count('audit_events', `org_id = '${org.id}' and action = 'member.added' and after->>'accountId' = '${p.account.id}'`)).toBe(1);
    expect(await w.count('notifications', `kind = 'invite.accepted' and payload->>'inviteId' = '${r.invite.id}'`)).toBe(1);
  });

  it('20 parallel invites of one email into one org leave exactly one pending invite; the others are invite_pending', async () => {
    const w = world();
    const { org, owner } = await w.org('RaceInvite');
    const admin = await w.member(org, owner.actor, 'admin');
    const email = `same.${Date.now()}@example.org`;
    const spellings = [email, email.toUpperCase(), `Same.${email.slice(5)}`];
    const settled = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => w.domain.invites.create(i % 2 ? admin.actor : owner.actor, org.id, { emails: spellings[i % spellings.length]! })),
    );
    expect(codes(settled)).toEqual([]); // each call answers with a per-email result, none throws
    const results = settled.map((s) => (s as PromiseFulfilledResult<InviteResult[]>).value[0]!);
    const winners = results.filter((r) => r.ok);
    expect(winners).toHaveLength(1);
    const winnerId = winners[0]!.ok ? winners[0]!.invite.id : '';
    const losers = results.filter((r): r is Extract<InviteResult, { ok: false }> => !r.ok);
    expect(losers).toHaveLength(19);
    for (const l of losers) expect(l).toMatchObject({ code: 'invite_pending', inviteId: winnerId });
    expect(await w.count('invites', `org_id = '${org.id}' and lower(email) = lower('${email}')`)).toBe(1);
    expect(await w.count('audit_events', `org_id = '${org.id}' and action = 'invite.created' and after->>'email' ilike '${email}'`)).toBe(1);
    expect(await w.count('notifications', `kind = 'invite.sent' and channel = 'email' and lower(recipient_email) = lower('${email}')`)).toBe(1);
  });

  it('parallel invites of different emails never exceed the seat limit', async () => {
    const w = world();
    const { org, owner } = await w.org('RaceSeats');
    // The owner takes one of the 6 seats: 5 invites fit.
    await w.domain.orgs.updateSettings(owner.actor, org.id, { seatLimit: 6 });
    const emails = Array.from({ length: 20 }, (_, i) => `seat.${i}.${Date.now()}@example.org`);
    const settled = await Promise.allSettled(emails.map((e) => w.domain.invites.create(owner.actor, org.id, { emails: e })));
    expect(codes(settled)).toEqual([]);
    const results = settled.map((s) => (s as PromiseFulfilledResult<InviteResult[]>).value[0]!);
    expect(results.filter((r) => r.ok)).toHaveLength(5);
    expect(results.filter((r) => !r.ok).map((r) => (r.ok ? '' : r.code))).toEqual(Array(15).fill('seat_limit'));
    expect(await w.count('invites', `org_id = '${org.id}' and status = 'pending'`)).toBe(5);
    expect(await w.count('audit_events', `org_id = '${org.id}' and action = 'invite.created'`)).toBe(5);
  });

  it('parallel batch invites from two admins never exceed the seat limit', async () => {
    const w = world();
    const { org, owner } = await w.org('RaceBatches');
    const admin = await w.member(org, owner.actor, 'admin');
    await w.domain.orgs.updateSettings(owner.actor, org.id, { seatLimit: 7 }); // owner + admin + 5 invites
    const batch = (tag: string) => Array.from({ length: 8 }, (_, i) => `${tag}.${i}.${Date.now()}@example.org`).join(', ');
    const [a, b] = await Promise.all([
      w.domain.invites.create(owner.actor, org.id, { emails: batch('own') }),
      w.domain.invites.create(admin.actor, org.id, { emails: batch('adm') }),
    ]);
    const all = [...a, ...b];
    expect(all.filter((r) => r.ok)).toHaveLength(5);
    expect(all.filter((r) => !r.ok && r.code === 'seat_limit')).toHaveLength(11);
    expect(await w.count('invites', `org_id = '${org.id}' and status = 'pending'`)).toBe(5);
  });

  it('a parallel approve and deny of one join request by two admins: exactly one decision wins', async () => {
    const w = world();
    const { org, owner } = await w.org('RaceDecide');
    const admin1 = await w.member(org, owner.actor, 'admin');
    const admin2 = await w.member(org, owner.actor, 'admin');
    // A few rounds, so approve wins some and deny wins others; each round must end consistent.
    for (let round = 0; round < 6; round++) {
      const p = await w.person(`Asker ${round}`);
      const { request } = await w.domain.joinRequests.request(p.actor, org);
      const [approver, denier] = round % 2 ? [admin1, admin2] : [admin2, admin1];
      const settled = await Promise.allSettled([
        w.domain.joinRequests.approve(approver.actor, request.id, 'developer'),
        w.domain.joinRequests.deny(denier.actor, request.id, 'no room'),
      ]);
      expect(fulfilled(settled)).toBe(1);
      expect(codes(settled)).toEqual(['join_request_decided']);
      const approved = settled[0]!.status === 'fulfilled';
      const row = await w.db.pool.query(`select status, role, reason, decided_by_id from join_requests where id = $1`, [request.id]);
      expect(row.rows[0]).toEqual(
        approved
          ? { status: 'approved', role: 'developer', reason: null, decided_by_id: approver.account.id }
          : { status: 'denied', role: null, reason: 'no room', decided_by_id: denier.account.id },
      );
      expect(await w.count('memberships', `org_id = '${org.id}' and account_id = '${p.account.id}'`)).toBe(approved ? 1 : 0);
      expect(await w.count('audit_events', `target_id = '${request.id}' and action in ('join_request.approved', 'join_request.denied')`)).toBe(1);
      expect(await w.count('notifications', `kind = 'join_request.decided' and recipient_account_id = '${p.account.id}'`)).toBe(1);
    }
  });

  it('two parallel approvals of one join request add the member once', async () => {
    const w = world();
    const { org, owner } = await w.org('RaceApprove');
    const admin = await w.member(org, owner.actor, 'admin');
    const p = await w.person('Twice');
    const { request } = await w.domain.joinRequests.request(p.actor, org);
    const settled = await Promise.allSettled([
      w.domain.joinRequests.approve(owner.actor, request.id, 'member'),
      w.domain.joinRequests.approve(admin.actor, request.id, 'admin'),
    ]);
    expect(fulfilled(settled)).toBe(1);
    expect(codes(settled)).toEqual(['join_request_decided']);
    expect(await w.count('memberships', `org_id = '${org.id}' and account_id = '${p.account.id}'`)).toBe(1);
  });

  it('a parallel accept and revoke of one invite: either the member joined and the invite is accepted, or neither', async () => {
    const w = world();
    const { org, owner } = await w.org('RaceRevoke');
    for (let round = 0; round < 6; round++) {
      const p = await w.person(`Revokee ${round}`);
      const [r] = await w.domain.invites.create(owner.actor, org.id, { emails: p.account.email! });
      if (!r?.ok) throw new Error('invite failed');
      const settled = await Promise.allSettled([w.domain.invites.acceptByToken(r.token), w.domain.invites.revoke(owner.actor, r.invite.id)]);
      expect(fulfilled(settled)).toBe(1);
      const accepted = settled[0]!.status === 'fulfilled';
      expect(codes(settled)).toEqual([accepted ? 'invite_not_pending' : 'invite_revoked']);
      const status = (await w.db.pool.query(`select status from invites where id = $1`, [r.invite.id])).rows[0].status;
      expect(status).toBe(accepted ? 'accepted' : 'revoked');
      expect(await w.count('memberships', `org_id = '${org.id}' and account_id = '${p.account.id}'`)).toBe(accepted ? 1 : 0);
    }
  });
});
