import { describe, expect, it } from 'vitest';
import { and, asc, eq } from 'drizzle-orm';
import { useWorld, type World } from '../helpers/domain.js';
import { accounts, auditEvents, memberships, notifications, orgs, type Role } from '../../src/db/schema.js';

const world = useWorld();

/** The membership row of one person in one org, or undefined. */
async function membershipOf(w: World, orgId: string, accountId: string) {
  const [m] = await w.db.db
    .select()
    .from(memberships)
    .where(and(eq(memberships.orgId, orgId), eq(memberships.accountId, accountId)));
  return m;
}

async function roleOf(w: World, orgId: string, accountId: string): Promise<Role | undefined> {
  return (await membershipOf(w, orgId, accountId))?.role;
}

async function auditOf(w: World, orgId: string, action: string) {
  return w.db.db
    .select()
    .from(auditEvents)
    .where(and(eq(auditEvents.orgId, orgId), eq(auditEvents.action, action)))
    .orderBy(asc(auditEvents.id));
}

async function notificationsOf(w: World, orgId: string, kind: string) {
  return w.db.db
    .select()
    .from(notifications)
    .where(and(eq(notifications.orgId, orgId), eq(notifications.kind, kind)))
    .orderBy(asc(notifications.id));
}

async function activeOrgOf(w: World, accountId: string): Promise<string | null> {
  const [a] = await w.db.db.select({ activeOrgId: accounts.activeOrgId }).from(accounts).where(eq(accounts.id, accountId));
  return a!.activeOrgId;
}

/**
 * Everything a refused action must leave untouched: the org row, every membership (role, status,
 * billing flag, updated time), the members' active orgs, and the org's audit events and notifications.
 */
async function snapshot(w: World, orgId: string) {
  const [org] = await w.db.db.select().from(orgs).where(eq(orgs.id, orgId));
  const members = await w.db.db
    .select({
      accountId: memberships.accountId,
      role: memberships.role,
      status: memberships.status,
      billingEmails: memberships.billingEmails,
      updatedAt: memberships.updatedAt,
      activeOrgId: accounts.activeOrgId,
    })
    .from(memberships)
    .innerJoin(accounts, eq(accounts.id, memberships.accountId))
    .where(eq(memberships.orgId, orgId))
    .orderBy(asc(memberships.accountId));
  return {
    org,
    members,
    audit: await w.count('audit_events', `org_id = '${orgId}'`),
    notifications: await w.count('notifications', `org_id = '${orgId}'`),
  };
}

/** SCIM deprovisioning (active=false) suspends a membership; the domain has no call for it yet, so set it directly. */
async function suspend(w: World, orgId: string, accountId: string) {
  await w.db.db
    .update(memberships)
    .set({ status: 'suspended' })
    .where(and(eq(memberships.orgId, orgId), eq(memberships.accountId, accountId)));
}

describe('listing members', () => {
  it('lists each member with name, email, role, status, billing flag, joined date and source, marking the primary owner', async () => {
    const w = world();
    const { org, owner } = await w.org('List');
    const dev = await w.member(org, owner.actor, 'developer');
    const list = await w.domain.members.list(owner.actor, org.id);
    expect(list).toHaveLength(2);
    const me = list.find((m) => m.accountId === owner.account.id)!;
    const them = list.find((m) => m.accountId === dev.account.id)!;
    expect(me).toMatchObject({
      displayName: owner.account.displayName,
      email: owner.account.email,
      role: 'owner',
      status: 'active',
      billingEmails: true,
      source: 'creator',
      isPrimaryOwner: true,
    });
    expect(them).toMatchObject({
      displayName: dev.account.displayName,
      email: dev.account.email,
      role: 'developer',
      status: 'active',
      billingEmails: false,
      source: 'invite',
      isPrimaryOwner: false,
    });
    expect(me.joinedAt).toBeInstanceOf(Date);
    expect(them.joinedAt.getTime()).toBe(w.clock.now().getTime());
    // Owners first.
    expect(list[0]!.accountId).toBe(owner.account.id);
  });

  it('any member, whatever their role, may list the members', async () => {
    const w = world();
    const { org, owner } = await w.org('ListAll');
    const people = [];
    for (const role of ['admin', 'billing', 'developer', 'member'] as const) people.push(await w.member(org, owner.actor, role));
    for (const p of [owner, ...people]) {
      const list = await w.domain.members.list(p.actor, org.id);
      expect(list.map((m) => m.accountId).sort()).toEqual([owner, ...people].map((x) => x.account.id).sort());
    }
  });

  it('an outsider cannot list the members of an org (not_a_member)', async () => {
    const w = world();
    const { org } = await w.org('Private');
    const outsider = await w.person('Outsider');
    await expect(w.domain.members.list(outsider.actor, org.id)).rejects.toMatchObject({ code: 'not_a_member' });
  });
});

describe('changing roles', () => {
  it('an owner changes a member role; the change is audited with before/after and the member is notified', async () => {
    const w = world();
    const { org, owner } = await w.org('Roles');
    const m = await w.member(org, owner.actor, 'member');
    const membership = (await membershipOf(w, org.id, m.account.id))!;
    const view = await w.domain.members.changeRole(owner.actor, org.id, m.account.id, 'developer');
    expect(view.role).toBe('developer');
    expect(await roleOf(w, org.id, m.account.id)).toBe('developer');

    const [event, ...more] = await auditOf(w, org.id, 'member.role_changed');
    expect(more).toHaveLength(0);
    expect(event).toMatchObject({
      actorType: 'account',
      actorId: owner.account.id,
      targetType: 'membership',
      targetId: membership.id,
      before: { accountId: m.account.id, role: 'member' },
      after: { accountId: m.account.id, role: 'developer' },
    });

    const [note, ...moreNotes] = await notificationsOf(w, org.id, 'member.role_changed');
    expect(moreNotes).toHaveLength(0);
    expect(note).toMatchObject({
      recipientAccountId: m.account.id,
      payload: { orgName: org.name, from: 'member', to: 'developer', byAccountId: owner.account.id },
    });
  });

  it('an owner can make someone an owner and demote another non-primary owner', async () => {
    const w = world();
    const { org, owner } = await w.org('Promote');
    const a = await w.member(org, owner.actor, 'admin');
    const o = await w.member(org, owner.actor, 'owner');
    await w.domain.members.changeRole(owner.actor, org.id, a.account.id, 'owner');
    expect(await roleOf(w, org.id, a.account.id)).toBe('owner');
    await w.domain.members.changeRole(owner.actor, org.id, o.account.id, 'member');
    expect(await roleOf(w, org.id, o.account.id)).toBe('member');
    // The new owner can now manage owners too.
    await w.domain.members.changeRole(a.actor, org.id, o.account.id, 'admin');
    expect(await roleOf(w, org.id, o.account.id)).toBe('admin');
    expect(await auditOf(w, org.id, 'member.role_changed')).toHaveLength(3);
  });

  it('a non-primary owner can demote themselves while the primary owner remains', async () => {
    const w = world();
    const { org, owner } = await w.org('SelfDemote');
    const o = await w.member(org, owner.actor, 'owner');
    await w.domain.members.changeRole(o.actor, org.id, o.account.id, 'admin');
    expect(await roleOf(w, org.id, o.account.id)).toBe('admin');
    expect(await roleOf(w, org.id, owner.account.id)).toBe('owner');
  });

  it('nobody can demote the primary owner (primary_owner_protected), and nothing changes', async () => {
    const w = world();
    const { org, owner } = await w.org('Protect');
    const o = await w.member(org, owner.actor, 'owner');
    const before = await snapshot(w, org.id);
    for (const [who, role] of [
      [o, 'admin'],
      [o, 'member'],
      [owner, 'admin'],
    ] as const) {
      await expect(w.domain.members.changeRole(who.actor, org.id, owner.account.id, role)).rejects.toMatchObject({
        code: 'primary_owner_protected',
        message: expect.stringMatching(/transfer/i),
      });
    }
    expect(await snapshot(w, org.id)).toEqual(before);
  });

  it('an admin changes roles among admin, billing, developer and member', async () => {
    const w = world();
    const { org, owner } = await w.org('AdminRoles');
    const admin = await w.member(org, owner.actor, 'admin');
    const m = await w.member(org, owner.actor, 'member');
    const other = await w.member(org, owner.actor, 'admin');
    for (const role of ['billing', 'developer', 'admin', 'member'] as const) {
      await w.domain.members.changeRole(admin.actor, org.id, m.account.id, role);
      expect(await roleOf(w, org.id, m.account.id)).toBe(role);
    }
    await w.domain.members.changeRole(admin.actor, org.id, other.account.id, 'billing');
    expect(await roleOf(w, org.id, other.account.id)).toBe('billing');
    expect(await auditOf(w, org.id, 'member.role_changed')).toHaveLength(5);
  });

  it('an admin cannot make anyone an owner (forbidden), and nothing changes', async () => {
    const w = world();
    const { org, owner } = await w.org('NoGrant');
    const admin = await w.member(org, owner.actor, 'admin');
    const m = await w.member(org, owner.actor, 'member');
    const before = await snapshot(w, org.id);
    for (const target of [m, admin]) {
      await expect(w.domain.members.changeRole(admin.actor, org.id, target.account.id, 'owner')).rejects.toMatchObject({
        code: 'forbidden',
        message: expect.stringMatching(/only owners/i),
      });
    }
    expect(await snapshot(w, org.id)).toEqual(before);
  });

  it("an admin cannot change an owner's role (forbidden), and nothing changes", async () => {
    const w = world();
    const { org, owner } = await w.org('NoTouch');
    const admin = await w.member(org, owner.actor, 'admin');
    const o = await w.member(org, owner.actor, 'owner');
    const before = await snapshot(w, org.id);
    for (const target of [o, owner]) {
      await expect(w.domain.members.changeRole(admin.actor, org.id, target.account.id, 'member')).rejects.toMatchObject({
        code: 'forbidden',
        message: expect.stringMatching(/owner/i),
      });
    }
    expect(await snapshot(w, org.id)).toEqual(before);
  });

  it('billing, developer and member roles cannot change anyone’s role (forbidden), not even their own', async () => {
    const w = world();
    const { org, owner } = await w.org('NoRoles');
    const target = await w.member(org, owner.actor, 'member');
    const actors = [];
    for (const role of ['billing', 'developer', 'member'] as const) actors.push(await w.member(org, owner.actor, role));
    const before = await snapshot(w, org.id);
    for (const a of actors) {
      await expect(w.domain.members.changeRole(a.actor, org.id, target.account.id, 'developer')).rejects.toMatchObject({ code: 'forbidden' });
      await expect(w.domain.members.changeRole(a.actor, org.id, a.account.id, 'admin')).rejects.toMatchObject({ code: 'forbidden' });
    }
    expect(await snapshot(w, org.id)).toEqual(before);
  });

  it('an unknown role is refused as invalid_input naming the valid roles, and nothing changes', async () => {
    const w = world();
    const { org, owner } = await w.org('BadRole');
    const m = await w.member(org, owner.actor, 'member');
    const before = await snapshot(w, org.id);
    await expect(w.domain.members.changeRole(owner.actor, org.id, m.account.id, 'superuser')).rejects.toMatchObject({
      code: 'invalid_input',
      message: expect.stringMatching(/owner, admin, billing, developer, member/),
    });
    expect(await snapshot(w, org.id)).toEqual(before);
  });

  it('role names are accepted in any case', async () => {
    const w = world();
    const { org, owner } = await w.org('Case');
    const m = await w.member(org, owner.actor, 'member');
    await w.domain.members.changeRole(owner.actor, org.id, m.account.id, ' Admin ');
    expect(await roleOf(w, org.id, m.account.id)).toBe('admin');
  });

  it('changing the role of someone who is not a member is refused (member_not_found), and nothing changes', async () => {
    const w = world();
    const { org, owner } = await w.org('NotHere');
    const outsider = await w.person('Outsider');
    const elsewhere = await w.org('Elsewhere');
    const before = await snapshot(w, org.id);
    await expect(w.domain.members.changeRole(owner.actor, org.id, outsider.account.id, 'admin')).rejects.toMatchObject({ code: 'member_not_found' });
    // A member of another org is not a member here.
    await expect(w.domain.members.changeRole(owner.actor, org.id, elsewhere.owner.account.id, 'admin')).rejects.toMatchObject({ code: 'member_not_found' });
    expect(await snapshot(w, org.id)).toEqual(before);
  });

  it('an outsider cannot change roles in an org (not_a_member)', async () => {
    const w = world();
    const { org, owner } = await w.org('Intruder');
    const m = await w.member(org, owner.actor, 'member');
    const outsider = await w.person('Outsider');
    const before = await snapshot(w, org.id);
    await expect(w.domain.members.changeRole(outsider.actor, org.id, m.account.id, 'admin')).rejects.toMatchObject({ code: 'not_a_member' });
    expect(await snapshot(w, org.id)).toEqual(before);
  });

  it('setting the role a member already has changes nothing and writes no audit event or notification', async () => {
    const w = world();
    const { org, owner } = await w.org('Same');
    const m = await w.member(org, owner.actor, 'developer');
    const before = await snapshot(w, org.id);
    const view = await w.domain.members.changeRole(owner.actor, org.id, m.account.id, 'developer');
    expect(view.role).toBe('developer');
    expect(await snapshot(w, org.id)).toEqual(before);
  });

  it('every role change is notified, even a change back and forth', async () => {
    const w = world();
    const { org, owner } = await w.org('Flip');
    const m = await w.member(org, owner.actor, 'member');
    for (const role of ['admin', 'member', 'admin'] as const) {
      w.clock.advance(1000);
      await w.domain.members.changeRole(owner.actor, org.id, m.account.id, role);
    }
    const notes = await notificationsOf(w, org.id, 'member.role_changed');
    expect(notes.map((n) => (n.payload as { to: string }).to)).toEqual(['admin', 'member', 'admin']);
  });

  it('the last active owner cannot be demoted, not even by themselves (last_owner)', async () => {
    const w = world();
    const { org, owner } = await w.org('LastOwner');
    const o = await w.member(org, owner.actor, 'owner');
    // The primary owner's membership is suspended (SCIM active=false): o is the only owner who can act.
    await suspend(w, org.id, owner.account.id);
    const before = await snapshot(w, org.id);
    await expect(w.domain.members.changeRole(o.actor, org.id, o.account.id, 'admin')).rejects.toMatchObject({
      code: 'last_owner',
      message: expect.stringMatching(/at least one owner/i),
    });
    expect(await snapshot(w, org.id)).toEqual(before);

    // With a second active owner, demoting is allowed again.
    const o2 = await w.member(org, o.actor, 'owner');
    await w.domain.members.changeRole(o.actor, org.id, o.account.id, 'admin');
    expect(await roleOf(w, org.id, o.account.id)).toBe('admin');
    expect(await roleOf(w, org.id, o2.account.id)).toBe('owner');
  });
});

describe('removing members', () => {
  it('an owner removes a member: the membership is gone, the removal is audited and the person is told', async () => {
    const w = world();
    const { org, owner } = await w.org('Remove');
    const m = await w.member(org, owner.actor, 'developer');
    const membership = (await membershipOf(w, org.id, m.account.id))!;
    await w.domain.members.remove(owner.actor, org.id, m.account.id);
    expect(await membershipOf(w, org.id, m.account.id)).toBeUndefined();
    const [event, ...more] = await auditOf(w, org.id, 'member.removed');
    expect(more).toHaveLength(0);
    expect(event).toMatchObject({
      actorId: owner.account.id,
      targetType: 'membership',
      targetId: membership.id,
      before: { accountId: m.account.id, email: m.account.email, role: 'developer' },
    });
    const notes = await notificationsOf(w, org.id, 'member.removed');
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatchObject({ recipientAccountId: m.account.id, payload: { orgName: org.name } });
  });

  it('an admin removes admins, billing, developers and members', async () => {
    const w = world();
    const { org, owner } = await w.org('AdminRemove');
    const admin = await w.member(org, owner.actor, 'admin');
    for (const role of ['admin', 'billing', 'developer', 'member'] as const) {
      const p = await w.member(org, owner.actor, role);
      await w.domain.members.remove(admin.actor, org.id, p.account.id);
      expect(await membershipOf(w, org.id, p.account.id)).toBeUndefined();
    }
    expect(await w.count('memberships', `org_id = '${org.id}'`)).toBe(2);
    expect(await auditOf(w, org.id, 'member.removed')).toHaveLength(4);
  });

  it('an owner removes another non-primary owner', async () => {
    const w = world();
    const { org, owner } = await w.org('RemoveOwner');
    const o = await w.member(org, owner.actor, 'owner');
    await w.domain.members.remove(owner.actor, org.id, o.account.id);
    expect(await membershipOf(w, org.id, o.account.id)).toBeUndefined();
  });

  it('an admin cannot remove an owner (forbidden), and nothing changes', async () => {
    const w = world();
    const { org, owner } = await w.org('AdminNoOwner');
    const admin = await w.member(org, owner.actor, 'admin');
    const o = await w.member(org, owner.actor, 'owner');
    const before = await snapshot(w, org.id);
    await expect(w.domain.members.remove(admin.actor, org.id, o.account.id)).rejects.toMatchObject({
      code: 'forbidden',
      message: expect.stringMatching(/only owners/i),
    });
    expect(await snapshot(w, org.id)).toEqual(before);
  });

  it('nobody removes the primary owner (primary_owner_protected), and nothing changes', async () => {
    const w = world();
    const { org, owner } = await w.org('KeepPrimary');
    const o = await w.member(org, owner.actor, 'owner');
    const admin = await w.member(org, owner.actor, 'admin');
    const before = await snapshot(w, org.id);
    for (const who of [o, admin]) {
      await expect(w.domain.members.remove(who.actor, org.id, owner.account.id)).rejects.toMatchObject({ code: 'primary_owner_protected' });
    }
    expect(await snapshot(w, org.id)).toEqual(before);
  });

  it('removing yourself is refused with use_leave, and nothing changes', async () => {
    const w = world();
    const { org, owner } = await w.org('Self');
    const admin = await w.member(org, owner.actor, 'admin');
    const o = await w.member(org, owner.actor, 'owner');
    const before = await snapshot(w, org.id);
    for (const who of [owner, o, admin]) {
      await expect(w.domain.members.remove(who.actor, org.id, who.account.id)).rejects.toMatchObject({
        code: 'use_leave',
        message: expect.stringMatching(/leave/i),
      });
    }
    expect(await snapshot(w, org.id)).toEqual(before);
  });

  it('billing, developer and member roles cannot remove anyone (forbidden)', async () => {
    const w = world();
    const { org, owner } = await w.org('NoRemove');
    const target = await w.member(org, owner.actor, 'member');
    const actors = [];
    for (const role of ['billing', 'developer', 'member'] as const) actors.push(await w.member(org, owner.actor, role));
    const before = await snapshot(w, org.id);
    for (const a of actors) {
      await expect(w.domain.members.remove(a.actor, org.id, target.account.id)).rejects.toMatchObject({
        code: 'forbidden',
        message: expect.stringMatching(/remove members/i),
      });
    }
    expect(await snapshot(w, org.id)).toEqual(before);
  });

  it('removing someone who is not a member is refused (member_not_found)', async () => {
    const w = world();
    const { org, owner } = await w.org('Ghost');
    const outsider = await w.person('Ghost');
    const before = await snapshot(w, org.id);
    await expect(w.domain.members.remove(owner.actor, org.id, outsider.account.id)).rejects.toMatchObject({ code: 'member_not_found' });
    expect(await snapshot(w, org.id)).toEqual(before);
  });

  it("access is revoked at once: the removed person's next calls fail with not_a_member", async () => {
    const w = world();
    const { org, owner } = await w.org('Revoke');
    const admin = await w.member(org, owner.actor, 'admin');
    const m = await w.member(org, owner.actor, 'member');
    expect(await w.domain.members.list(admin.actor, org.id)).toHaveLength(3);
    await w.domain.members.remove(owner.actor, org.id, admin.account.id);
    await expect(w.domain.members.list(admin.actor, org.id)).rejects.toMatchObject({ code: 'not_a_member' });
    await expect(w.domain.members.changeRole(admin.actor, org.id, m.account.id, 'billing')).rejects.toMatchObject({ code: 'not_a_member' });
    await expect(w.domain.members.remove(admin.actor, org.id, m.account.id)).rejects.toMatchObject({ code: 'not_a_member' });
    await expect(w.domain.members.leave(admin.actor, org.id)).rejects.toMatchObject({ code: 'not_a_member' });
    expect(await roleOf(w, org.id, m.account.id)).toBe('member');
    expect((await w.domain.orgs.listMine(admin.actor)).map((x) => x.org.id)).not.toContain(org.id);
  });

  it("removal clears the removed person's active org when it was this org, and keeps another active org", async () => {
    const w = world();
    const { org, owner } = await w.org('ActiveA');
    const m = await w.member(org, owner.actor, 'member');
    expect(await activeOrgOf(w, m.account.id)).toBe(org.id);
    await w.domain.members.remove(owner.actor, org.id, m.account.id);
    expect(await activeOrgOf(w, m.account.id)).toBeNull();

    // A person whose active org is elsewhere keeps it.
    const other = await w.org('ActiveB');
    const p = other.owner;
    const [inv] = await w.domain.invites.create(owner.actor, org.id, { emails: p.account.email!, role: 'member' });
    if (!inv?.ok) throw new Error('invite failed');
    await w.domain.invites.accept(p.actor, inv.invite.id);
    expect(await activeOrgOf(w, p.account.id)).toBe(other.org.id);
    await w.domain.members.remove(owner.actor, org.id, p.account.id);
    expect(await activeOrgOf(w, p.account.id)).toBe(other.org.id);
  });
});

describe('leaving', () => {
  it('a member leaves: the membership is gone, their active org cleared, and it is audited as member.left', async () => {
    const w = world();
    const { org, owner } = await w.org('Leave');
    const m = await w.member(org, owner.actor, 'billing');
    const membership = (await membershipOf(w, org.id, m.account.id))!;
    await w.domain.members.leave(m.actor, org.id);
    expect(await membershipOf(w, org.id, m.account.id)).toBeUndefined();
    expect(await activeOrgOf(w, m.account.id)).toBeNull();
    const [event, ...more] = await auditOf(w, org.id, 'member.left');
    expect(more).toHaveLength(0);
    expect(event).toMatchObject({
      actorId: m.account.id,
      targetId: membership.id,
      before: { accountId: m.account.id, email: m.account.email, role: 'billing' },
    });
    await expect(w.domain.members.list(m.actor, org.id)).rejects.toMatchObject({ code: 'not_a_member' });
  });

  it('the primary owner cannot leave and is told to transfer primary ownership first', async () => {
    const w = world();
    const { org, owner } = await w.org('StayPrimary');
    await w.member(org, owner.actor, 'owner');
    const before = await snapshot(w, org.id);
    await expect(w.domain.members.leave(owner.actor, org.id)).rejects.toMatchObject({
      code: 'primary_owner_protected',
      message: expect.stringMatching(/transfer/i),
    });
    expect(await snapshot(w, org.id)).toEqual(before);
  });

  it('a sole member is told to delete the org instead of leaving (sole_member)', async () => {
    const w = world();
    const { org, owner } = await w.org('Alone');
    const before = await snapshot(w, org.id);
    await expect(w.domain.members.leave(owner.actor, org.id)).rejects.toMatchObject({
      code: 'sole_member',
      message: expect.stringMatching(/delete the organization/i),
    });
    expect(await snapshot(w, org.id)).toEqual(before);
  });

  it('a non-primary owner can leave while the primary owner remains', async () => {
    const w = world();
    const { org, owner } = await w.org('OwnerLeaves');
    const o = await w.member(org, owner.actor, 'owner');
    await w.domain.members.leave(o.actor, org.id);
    expect(await membershipOf(w, org.id, o.account.id)).toBeUndefined();
    expect(await roleOf(w, org.id, owner.account.id)).toBe('owner');
    expect(await auditOf(w, org.id, 'member.left')).toHaveLength(1);
  });

  it('the last active owner cannot leave (last_owner), and nothing changes', async () => {
    const w = world();
    const { org, owner } = await w.org('LastLeave');
    const o = await w.member(org, owner.actor, 'owner');
    await w.member(org, owner.actor, 'member');
    await suspend(w, org.id, owner.account.id);
    const before = await snapshot(w, org.id);
    await expect(w.domain.members.leave(o.actor, org.id)).rejects.toMatchObject({ code: 'last_owner' });
    expect(await snapshot(w, org.id)).toEqual(before);
  });

  it('an outsider cannot leave an org they are not in (not_a_member)', async () => {
    const w = world();
    const { org } = await w.org('NotIn');
    const outsider = await w.person('Outsider');
    const before = await snapshot(w, org.id);
    await expect(w.domain.members.leave(outsider.actor, org.id)).rejects.toMatchObject({ code: 'not_a_member' });
    expect(await snapshot(w, org.id)).toEqual(before);
  });
});

describe('billing emails', () => {
  it('an owner turns billing emails on and off for a member, each change audited with before/after', async () => {
    const w = world();
    const { org, owner } = await w.org('Billing');
    const m = await w.member(org, owner.actor, 'billing');
    const membership = (await membershipOf(w, org.id, m.account.id))!;
    expect(membership.billingEmails).toBe(false);
    expect((await w.domain.members.setBillingEmails(owner.actor, org.id, m.account.id, true)).billingEmails).toBe(true);
    expect((await membershipOf(w, org.id, m.account.id))!.billingEmails).toBe(true);
    await w.domain.members.setBillingEmails(owner.actor, org.id, m.account.id, false);
    expect((await membershipOf(w, org.id, m.account.id))!.billingEmails).toBe(false);
    const events = await auditOf(w, org.id, 'member.billing_emails_changed');
    expect(events).toHaveLength(2);
    expect(events[0]).toMatchObject({
      actorId: owner.account.id,
      targetType: 'membership',
      targetId: membership.id,
      before: { billingEmails: false },
      after: { billingEmails: true },
    });
    expect(events[1]).toMatchObject({ before: { billingEmails: true }, after: { billingEmails: false } });
  });

  it('an admin toggles billing emails for members and admins, including their own', async () => {
    const w = world();
    const { org, owner } = await w.org('AdminBilling');
    const admin = await w.member(org, owner.actor, 'admin');
    const other = await w.member(org, owner.actor, 'admin');
    const dev = await w.member(org, owner.actor, 'developer');
    for (const t of [admin, other, dev]) {
      await w.domain.members.setBillingEmails(admin.actor, org.id, t.account.id, true);
      expect((await membershipOf(w, org.id, t.account.id))!.billingEmails).toBe(true);
    }
  });

  it('an owner toggles their own and another owner’s billing emails', async () => {
    const w = world();
    const { org, owner } = await w.org('OwnerBilling');
    const o = await w.member(org, owner.actor, 'owner');
    const o2 = await w.member(org, owner.actor, 'owner');
    await w.domain.members.setBillingEmails(o.actor, org.id, o.account.id, true);
    await w.domain.members.setBillingEmails(o.actor, org.id, o2.account.id, true);
    expect((await membershipOf(w, org.id, o.account.id))!.billingEmails).toBe(true);
    expect((await membershipOf(w, org.id, o2.account.id))!.billingEmails).toBe(true);
  });

  it("nobody can turn off the primary owner's billing emails (primary_owner_billing), and nothing changes", async () => {
    const w = world();
    const { org, owner } = await w.org('PrimaryBilling');
    const o = await w.member(org, owner.actor, 'owner');
    const admin = await w.member(org, owner.actor, 'admin');
    const before = await snapshot(w, org.id);
    for (const who of [owner, o, admin]) {
      await expect(w.domain.members.setBillingEmails(who.actor, org.id, owner.account.id, false)).rejects.toMatchObject({
        code: 'primary_owner_billing',
        message: expect.stringMatching(/primary owner/i),
      });
    }
    expect(await snapshot(w, org.id)).toEqual(before);
    expect((await membershipOf(w, org.id, owner.account.id))!.billingEmails).toBe(true);
  });

  it('billing, developer and member roles cannot toggle billing emails (forbidden), not even their own', async () => {
    const w = world();
    const { org, owner } = await w.org('NoToggle');
    const target = await w.member(org, owner.actor, 'member');
    const actors = [];
    for (const role of ['billing', 'developer', 'member'] as const) actors.push(await w.member(org, owner.actor, role));
    const before = await snapshot(w, org.id);
    for (const a of actors) {
      await expect(w.domain.members.setBillingEmails(a.actor, org.id, target.account.id, true)).rejects.toMatchObject({
        code: 'forbidden',
        message: expect.stringMatching(/billing emails/i),
      });
      await expect(w.domain.members.setBillingEmails(a.actor, org.id, a.account.id, true)).rejects.toMatchObject({ code: 'forbidden' });
    }
    expect(await snapshot(w, org.id)).toEqual(before);
  });

  it("an admin cannot toggle an owner's billing emails (forbidden), and nothing changes", async () => {
    const w = world();
    const { org, owner } = await w.org('AdminOwnerBilling');
    const admin = await w.member(org, owner.actor, 'admin');
    const o = await w.member(org, owner.actor, 'owner');
    const before = await snapshot(w, org.id);
    await expect(w.domain.members.setBillingEmails(admin.actor, org.id, o.account.id, true)).rejects.toMatchObject({
      code: 'forbidden',
      message: expect.stringMatching(/owner/i),
    });
    expect(await snapshot(w, org.id)).toEqual(before);
  });

  it('setting billing emails to the value they already have writes no audit event', async () => {
    const w = world();
    const { org, owner } = await w.org('BillingSame');
    const m = await w.member(org, owner.actor, 'member');
    const before = await snapshot(w, org.id);
    await w.domain.members.setBillingEmails(owner.actor, org.id, m.account.id, false);
    await w.domain.members.setBillingEmails(owner.actor, org.id, owner.account.id, true);
    expect(await snapshot(w, org.id)).toEqual(before);
  });

  it('toggling billing emails of a non-member is refused (member_not_found)', async () => {
    const w = world();
    const { org, owner } = await w.org('BillingGhost');
    const outsider = await w.person('Outsider');
    await expect(w.domain.members.setBillingEmails(owner.actor, org.id, outsider.account.id, true)).rejects.toMatchObject({ code: 'member_not_found' });
    expect(await auditOf(w, org.id, 'member.billing_emails_changed')).toHaveLength(0);
  });
});

describe('transferring primary ownership', () => {
  it('the primary owner hands primary ownership to another owner: the new one gets billing emails, and it is audited', async () => {
    const w = world();
    const { org, owner } = await w.org('Transfer');
    const o = await w.member(org, owner.actor, 'owner');
    expect((await membershipOf(w, org.id, o.account.id))!.billingEmails).toBe(false);
    await w.domain.members.transferPrimaryOwnership(owner.actor, org.id, o.account.id);
    const [row] = await w.db.db.select().from(orgs).where(eq(orgs.id, org.id));
    expect(row!.primaryOwnerId).toBe(o.account.id);
    expect((await membershipOf(w, org.id, o.account.id))!.billingEmails).toBe(true);
    const list = await w.domain.members.list(owner.actor, org.id);
    expect(list.filter((m) => m.isPrimaryOwner).map((m) => m.accountId)).toEqual([o.account.id]);
    const events = await auditOf(w, org.id, 'org.primary_owner_transferred');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      actorId: owner.account.id,
      targetType: 'org',
      targetId: org.id,
      before: { primaryOwnerId: owner.account.id },
      after: { primaryOwnerId: o.account.id },
    });
  });

  it('after a transfer the old primary owner can be demoted or leave, and the new one cannot', async () => {
    const w = world();
    const { org, owner } = await w.org('AfterTransfer');
    const o = await w.member(org, owner.actor, 'owner');
    await w.member(org, owner.actor, 'member');
    await w.domain.members.transferPrimaryOwnership(owner.actor, org.id, o.account.id);

    // The new primary owner is now protected, from the old one too.
    await expect(w.domain.members.changeRole(owner.actor, org.id, o.account.id, 'admin')).rejects.toMatchObject({ code: 'primary_owner_protected' });
    await expect(w.domain.members.remove(owner.actor, org.id, o.account.id)).rejects.toMatchObject({ code: 'primary_owner_protected' });
    await expect(w.domain.members.leave(o.actor, org.id)).rejects.toMatchObject({ code: 'primary_owner_protected' });
    await expect(w.domain.members.setBillingEmails(owner.actor, org.id, o.account.id, false)).rejects.toMatchObject({ code: 'primary_owner_billing' });

    // The old one is an ordinary owner now: they may be demoted, and may leave.
    await w.domain.members.changeRole(o.actor, org.id, owner.account.id, 'admin');
    expect(await roleOf(w, org.id, owner.account.id)).toBe('admin');
    await w.domain.members.setBillingEmails(o.actor, org.id, owner.account.id, false);
    await w.domain.members.leave(owner.actor, org.id);
    expect(await membershipOf(w, org.id, owner.account.id)).toBeUndefined();
    expect(await roleOf(w, org.id, o.account.id)).toBe('owner');
  });

  it('only the primary owner can transfer primary ownership (forbidden for other owners and admins)', async () => {
    const w = world();
    const { org, owner } = await w.org('OnlyPrimary');
    const o = await w.member(org, owner.actor, 'owner');
    const o2 = await w.member(org, owner.actor, 'owner');
    const admin = await w.member(org, owner.actor, 'admin');
    const before = await snapshot(w, org.id);
    for (const who of [o, admin]) {
      await expect(w.domain.members.transferPrimaryOwnership(who.actor, org.id, o2.account.id)).rejects.toMatchObject({
        code: 'forbidden',
        message: expect.stringMatching(/only the primary owner/i),
      });
    }
    // Not even to themselves.
    await expect(w.domain.members.transferPrimaryOwnership(o.actor, org.id, o.account.id)).rejects.toMatchObject({ code: 'forbidden' });
    expect(await snapshot(w, org.id)).toEqual(before);
  });

  it('primary ownership goes only to an active owner (transfer_target_not_owner), and nothing changes', async () => {
    const w = world();
    const { org, owner } = await w.org('TargetOwner');
    const admin = await w.member(org, owner.actor, 'admin');
    const m = await w.member(org, owner.actor, 'member');
    const suspended = await w.member(org, owner.actor, 'owner');
    await suspend(w, org.id, suspended.account.id);
    const before = await snapshot(w, org.id);
    for (const t of [admin, m, suspended]) {
      await expect(w.domain.members.transferPrimaryOwnership(owner.actor, org.id, t.account.id)).rejects.toMatchObject({
        code: 'transfer_target_not_owner',
        message: expect.stringMatching(/owner/i),
      });
    }
    const outsider = await w.person('Outsider');
    await expect(w.domain.members.transferPrimaryOwnership(owner.actor, org.id, outsider.account.id)).rejects.toMatchObject({ code: 'member_not_found' });
    expect(await snapshot(w, org.id)).toEqual(before);
  });
});
