import { describe, expect, it } from 'vitest';
import { and, eq } from 'drizzle-orm';
import { useWorld, type World } from '../helpers/domain.js';
import { memberships, orgs, type OrgRow } from '../../src/db/schema.js';
import type { Actor } from '../../src/domain/context.js';

/**
 * SPEC §3: an org always has at least one owner, also under concurrent demote/leave/remove. Each race
 * starts both calls at once and checks the end state (never timing), over several rounds so a broken
 * org lock is likely to show.
 */
const world = useWorld();
const ROUNDS = 10;

type Person = { account: { id: string }; actor: Actor };

async function membersOf(w: World, orgId: string) {
  return w.db.db
    .select({ accountId: memberships.accountId, role: memberships.role, status: memberships.status })
    .from(memberships)
    .where(eq(memberships.orgId, orgId));
}

/** The invariant every race must keep: an active owner remains, and the primary owner is a member and an owner. */
async function expectOwned(w: World, orgId: string) {
  const [org] = await w.db.db.select().from(orgs).where(eq(orgs.id, orgId));
  const members = await membersOf(w, orgId);
  expect(members.filter((m) => m.role === 'owner' && m.status === 'active').length).toBeGreaterThanOrEqual(1);
  expect(members.find((m) => m.accountId === org!.primaryOwnerId)?.role).toBe('owner');
  return { org: org!, members };
}

function roleMap(members: { accountId: string; role: string }[]): Record<string, string> {
  return Object.fromEntries(members.map((m) => [m.accountId, m.role]));
}

function auditCount(w: World, orgId: string, action: string) {
  return w.count('audit_events', `org_id = '${orgId}' and action = '${action}'`);
}

/** Codes of the rejected results, in order; fails the test on an error that is not a DomainError. */
function refusals(results: PromiseSettledResult<unknown>[]): string[] {
  return results
    .filter((r): r is PromiseRejectedResult => r.status === 'rejected')
    .map((r) => {
      const code = (r.reason as { code?: string }).code;
      if (!code) throw r.reason;
      return code;
    });
}

/** An org with primary owner P and two more owners A and B (and one plain member). */
async function threeOwners(w: World, name: string): Promise<{ org: OrgRow; p: Person; a: Person; b: Person; m: Person }> {
  const { org, owner: p } = await w.org(name);
  const a = await w.member(org, p.actor, 'owner');
  const b = await w.member(org, p.actor, 'owner');
  const m = await w.member(org, p.actor, 'member');
  return { org, p, a, b, m };
}

/**
 * SCIM deprovisioning (active=false) can suspend the primary owner's membership; then A and B are the only
 * owners who can act, and only the last-owner rule (under the org lock) keeps one of them an owner.
 */
async function suspendPrimary(w: World, org: OrgRow) {
  await w.db.db
    .update(memberships)
    .set({ status: 'suspended' })
    .where(and(eq(memberships.orgId, org.id), eq(memberships.accountId, org.primaryOwnerId)));
}

describe('owners racing each other while the primary owner stays', () => {
  it('two owners demoting each other at once: exactly one demotion wins and the org keeps its owners', async () => {
    const w = world();
    for (let round = 0; round < ROUNDS; round++) {
      const { org, p, a, b, m } = await threeOwners(w, `Demote${round}`);
      const results = await Promise.allSettled([
        w.domain.members.changeRole(a.actor, org.id, b.account.id, 'admin'),
        w.domain.members.changeRole(b.actor, org.id, a.account.id, 'admin'),
      ]);
      // The loser is an admin by the time its call runs, and admins cannot change owners.
      expect(refusals(results)).toEqual(['forbidden']);
      const { members } = await expectOwned(w, org.id);
      const roles = roleMap(members);
      const [winner, loser] = results[0]!.status === 'fulfilled' ? [a, b] : [b, a];
      expect(roles).toEqual({ [p.account.id]: 'owner', [winner.account.id]: 'owner', [loser.account.id]: 'admin', [m.account.id]: 'member' });
      expect(await auditCount(w, org.id, 'member.role_changed')).toBe(1);
    }
  });

  it('two owners removing each other at once: exactly one removal happens', async () => {
    const w = world();
    for (let round = 0; round < ROUNDS; round++) {
      const { org, p, a, b, m } = await threeOwners(w, `Remove${round}`);
      const results = await Promise.allSettled([
        w.domain.members.remove(a.actor, org.id, b.account.id),
        w.domain.members.remove(b.actor, org.id, a.account.id),
      ]);
      // The loser was removed before its own call ran: it is no longer a member.
      expect(refusals(results)).toEqual(['not_a_member']);
      const { members } = await expectOwned(w, org.id);
      const winner = results[0]!.status === 'fulfilled' ? a : b;
      expect(roleMap(members)).toEqual({ [p.account.id]: 'owner', [winner.account.id]: 'owner', [m.account.id]: 'member' });
      expect(await auditCount(w, org.id, 'member.removed')).toBe(1);
    }
  });

  it('two non-primary owners leaving at once: both leave and the primary owner remains', async () => {
    const w = world();
    for (let round = 0; round < ROUNDS; round++) {
      const { org, p, a, b, m } = await threeOwners(w, `Leave${round}`);
      const results = await Promise.allSettled([w.domain.members.leave(a.actor, org.id), w.domain.members.leave(b.actor, org.id)]);
      expect(refusals(results)).toEqual([]);
      const { members } = await expectOwned(w, org.id);
      expect(roleMap(members)).toEqual({ [p.account.id]: 'owner', [m.account.id]: 'member' });
      expect(await auditCount(w, org.id, 'member.left')).toBe(2);
    }
  });

  it('owners demoting, removing and leaving all at once never take the primary owner down', async () => {
    const w = world();
    for (let round = 0; round < ROUNDS; round++) {
      const { org, p, a, b } = await threeOwners(w, `Mixed${round}`);
      const results = await Promise.allSettled([
        w.domain.members.changeRole(a.actor, org.id, p.account.id, 'admin'),
        w.domain.members.remove(b.actor, org.id, p.account.id),
        w.domain.members.leave(p.actor, org.id),
        w.domain.members.changeRole(a.actor, org.id, b.account.id, 'member'),
        w.domain.members.leave(a.actor, org.id),
      ]);
      // Every move against P is refused: as an attack on the primary owner, or because the attacker lost
      // their own rights to a concurrent change first.
      const codes = refusals(results.slice(0, 3));
      expect(codes).toHaveLength(3);
      for (const code of codes) expect(['primary_owner_protected', 'forbidden', 'not_a_member']).toContain(code);
      expect(codes[2]).toBe('primary_owner_protected');
      const { org: after } = await expectOwned(w, org.id);
      expect(after.primaryOwnerId).toBe(p.account.id);
    }
  });
});

describe('owners racing after primary ownership was transferred', () => {
  /** P hands primary ownership to X; P and A are the non-primary owners. */
  async function transferred(w: World, name: string) {
    const { org, owner: p } = await w.org(name);
    const x = await w.member(org, p.actor, 'owner');
    const a = await w.member(org, p.actor, 'owner');
    await w.domain.members.transferPrimaryOwnership(p.actor, org.id, x.account.id);
    return { org, p, x, a };
  }

  it('the old primary owner and another owner demoting each other at once: one demotion wins, the new primary owner stays', async () => {
    const w = world();
    for (let round = 0; round < ROUNDS; round++) {
      const { org, p, x, a } = await transferred(w, `TDemote${round}`);
      const results = await Promise.allSettled([
        w.domain.members.changeRole(p.actor, org.id, a.account.id, 'member'),
        w.domain.members.changeRole(a.actor, org.id, p.account.id, 'member'),
      ]);
      expect(refusals(results)).toEqual(['forbidden']);
      const { org: after, members } = await expectOwned(w, org.id);
      expect(after.primaryOwnerId).toBe(x.account.id);
      const [winner, loser] = results[0]!.status === 'fulfilled' ? [p, a] : [a, p];
      expect(roleMap(members)).toEqual({ [x.account.id]: 'owner', [winner.account.id]: 'owner', [loser.account.id]: 'member' });
    }
  });

  it('the old primary owner and another owner removing each other at once: one removal happens', async () => {
    const w = world();
    for (let round = 0; round < ROUNDS; round++) {
      const { org, p, x, a } = await transferred(w, `TRemove${round}`);
      const results = await Promise.allSettled([
        w.domain.members.remove(p.actor, org.id, a.account.id),
        w.domain.members.remove(a.actor, org.id, p.account.id),
      ]);
      expect(refusals(results)).toEqual(['not_a_member']);
      const { members } = await expectOwned(w, org.id);
      const winner = results[0]!.status === 'fulfilled' ? p : a;
      expect(roleMap(members)).toEqual({ [x.account.id]: 'owner', [winner.account.id]: 'owner' });
    }
  });

  it('the old primary owner and another owner leaving at once: both leave, the new primary owner remains', async () => {
    const w = world();
    for (let round = 0; round < ROUNDS; round++) {
      const { org, p, x, a } = await transferred(w, `TLeave${round}`);
      const results = await Promise.allSettled([w.domain.members.leave(p.actor, org.id), w.domain.members.leave(a.actor, org.id)]);
      expect(refusals(results)).toEqual([]);
      const { members } = await expectOwned(w, org.id);
      expect(roleMap(members)).toEqual({ [x.account.id]: 'owner' });
    }
  });

  it('demoting the new primary owner while they receive primary ownership: the primary owner is always an owner', async () => {
    const w = world();
    for (let round = 0; round < ROUNDS; round++) {
      const { org, owner: p } = await w.org(`TvD${round}`);
      const a = await w.member(org, p.actor, 'owner');
      const b = await w.member(org, p.actor, 'owner');
      const results = await Promise.allSettled([
        w.domain.members.transferPrimaryOwnership(p.actor, org.id, a.account.id),
        w.domain.members.changeRole(b.actor, org.id, a.account.id, 'admin'),
      ]);
      // Either the transfer ran first (A is protected) or the demotion did (A is no longer an owner).
      const codes = refusals(results);
      expect(codes).toHaveLength(1);
      const { org: after } = await expectOwned(w, org.id);
      if (results[0]!.status === 'fulfilled') {
        expect(codes).toEqual(['primary_owner_protected']);
        expect(after.primaryOwnerId).toBe(a.account.id);
      } else {
        expect(codes).toEqual(['transfer_target_not_owner']);
        expect(after.primaryOwnerId).toBe(p.account.id);
      }
    }
  });

  it('leaving while receiving primary ownership: the primary owner is always a member', async () => {
    const w = world();
    for (let round = 0; round < ROUNDS; round++) {
      const { org, owner: p } = await w.org(`TvL${round}`);
      const a = await w.member(org, p.actor, 'owner');
      const results = await Promise.allSettled([
        w.domain.members.transferPrimaryOwnership(p.actor, org.id, a.account.id),
        w.domain.members.leave(a.actor, org.id),
      ]);
      const codes = refusals(results);
      expect(codes).toHaveLength(1);
      const { org: after, members } = await expectOwned(w, org.id);
      if (results[0]!.status === 'fulfilled') {
        expect(codes).toEqual(['primary_owner_protected']);
        expect(after.primaryOwnerId).toBe(a.account.id);
        expect(members).toHaveLength(2);
      } else {
        expect(codes).toEqual(['member_not_found']);
        expect(after.primaryOwnerId).toBe(p.account.id);
        expect(roleMap(members)).toEqual({ [p.account.id]: 'owner' });
      }
    }
  });
});

describe('the last-owner rule under races (primary owner suspended)', () => {
  it('the last two active owners leaving at once: exactly one leaves, the other is refused with last_owner', async () => {
    const w = world();
    for (let round = 0; round < ROUNDS; round++) {
      const { org, a, b } = await threeOwners(w, `LLeave${round}`);
      await suspendPrimary(w, org);
      const results = await Promise.allSettled([w.domain.members.leave(a.actor, org.id), w.domain.members.leave(b.actor, org.id)]);
      expect(refusals(results)).toEqual(['last_owner']);
      const { members } = await expectOwned(w, org.id);
      expect(members.filter((m) => m.role === 'owner' && m.status === 'active')).toHaveLength(1);
      expect(await auditCount(w, org.id, 'member.left')).toBe(1);
    }
  });

  it('the last two active owners demoting themselves at once: exactly one is demoted', async () => {
    const w = world();
    for (let round = 0; round < ROUNDS; round++) {
      const { org, a, b } = await threeOwners(w, `LSelf${round}`);
      await suspendPrimary(w, org);
      const results = await Promise.allSettled([
        w.domain.members.changeRole(a.actor, org.id, a.account.id, 'admin'),
        w.domain.members.changeRole(b.actor, org.id, b.account.id, 'admin'),
      ]);
      expect(refusals(results)).toEqual(['last_owner']);
      const { members } = await expectOwned(w, org.id);
      expect(members.filter((m) => m.role === 'owner' && m.status === 'active')).toHaveLength(1);
      expect(await auditCount(w, org.id, 'member.role_changed')).toBe(1);
    }
  });

  it('the last two active owners demoting each other at once: exactly one is demoted', async () => {
    const w = world();
    for (let round = 0; round < ROUNDS; round++) {
      const { org, a, b } = await threeOwners(w, `LEach${round}`);
      await suspendPrimary(w, org);
      const results = await Promise.allSettled([
        w.domain.members.changeRole(a.actor, org.id, b.account.id, 'member'),
        w.domain.members.changeRole(b.actor, org.id, a.account.id, 'member'),
      ]);
      expect(refusals(results)).toEqual(['forbidden']);
      const { members } = await expectOwned(w, org.id);
      expect(members.filter((m) => m.role === 'owner' && m.status === 'active')).toHaveLength(1);
    }
  });

  it('one of the last two active owners leaving while demoting the other: one owner always remains', async () => {
    const w = world();
    for (let round = 0; round < ROUNDS; round++) {
      const { org, a, b } = await threeOwners(w, `LMix${round}`);
      await suspendPrimary(w, org);
      const results = await Promise.allSettled([w.domain.members.leave(a.actor, org.id), w.domain.members.changeRole(b.actor, org.id, b.account.id, 'member')]);
      expect(refusals(results)).toEqual(['last_owner']);
      const { members } = await expectOwned(w, org.id);
      expect(members.filter((m) => m.role === 'owner' && m.status === 'active')).toHaveLength(1);
    }
  });

  it('one owner removing the other while that one leaves: exactly one of them takes effect', async () => {
    const w = world();
    for (let round = 0; round < ROUNDS; round++) {
      const { org, a, b } = await threeOwners(w, `LRemLeave${round}`);
      await suspendPrimary(w, org);
      const results = await Promise.allSettled([w.domain.members.remove(a.actor, org.id, b.account.id), w.domain.members.leave(b.actor, org.id)]);
      const codes = refusals(results);
      expect(codes).toHaveLength(1);
      expect(['member_not_found', 'not_a_member']).toContain(codes[0]);
      const { members } = await expectOwned(w, org.id);
      expect(members.filter((m) => m.role === 'owner' && m.status === 'active').map((m) => m.accountId)).toEqual([a.account.id]);
      expect((await auditCount(w, org.id, 'member.removed')) + (await auditCount(w, org.id, 'member.left'))).toBe(1);
    }
  });
});
