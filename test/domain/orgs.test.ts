import { randomBytes, randomUUID } from 'node:crypto';
import { and, asc, eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { accounts, auditEvents, memberships, orgs, type AccountRow, type Role } from '../../src/db/schema.js';
import type { Actor } from '../../src/domain/context.js';
import { slugify } from '../../src/domain/orgs.js';
import { releasedTogether } from '../helpers/db.js';
import { useWorld, type World } from '../helpers/domain.js';

const world = useWorld();

const hex = () => randomBytes(3).toString('hex');

async function eventsOf(w: World, orgId: string, action?: string) {
  return w.db.db
    .select()
    .from(auditEvents)
    .where(and(eq(auditEvents.orgId, orgId), action ? eq(auditEvents.action, action) : undefined))
    .orderBy(asc(auditEvents.id));
}

async function orgRow(w: World, orgId: string) {
  const [o] = await w.db.db.select().from(orgs).where(eq(orgs.id, orgId));
  return o;
}

async function activeOrgOf(w: World, accountId: string) {
  const [a] = await w.db.db.select({ activeOrgId: accounts.activeOrgId }).from(accounts).where(eq(accounts.id, accountId));
  return a!.activeOrgId;
}

/** An existing person joins an org through a real invite. */
async function joinExisting(w: World, orgId: string, by: Actor, who: { account: AccountRow; actor: Actor }, role: Role) {
  const [r] = await w.domain.invites.create(by, orgId, { emails: who.account.email!, role });
  if (!r?.ok) throw new Error(`invite failed: ${r?.message}`);
  await w.domain.invites.accept(who.actor, r.invite.id);
}

/** Everything a person could have left behind by creating an org. */
async function footprint(w: World, accountId: string) {
  return {
    orgs: await w.count('orgs', `primary_owner_id = '${accountId}'`),
    memberships: await w.count('memberships', `account_id = '${accountId}'`),
    events: await w.count('audit_events', `actor_id = '${accountId}'`),
    activeOrgId: await activeOrgOf(w, accountId),
  };
}

const released = <T>(w: World, table: string, waiters: number, run: () => Promise<T>[]) => releasedTogether(w.db, table, waiters, run);

describe('creating an organization', () => {
  it('the creator becomes owner and primary owner, receives billing emails, and the org becomes active', async () => {
    const w = world();
    const p = await w.person('Creator');
    const org = await w.domain.orgs.create(p.actor, { name: `  Creators   Guild ${hex()}  ` });

    expect(org.name).toMatch(/^Creators Guild [0-9a-f]{6}$/);
    expect(org.primaryOwnerId).toBe(p.account.id);
    const [m] = await w.db.db.select().from(memberships).where(eq(memberships.orgId, org.id));
    expect(m).toMatchObject({ accountId: p.account.id, role: 'owner', status: 'active', billingEmails: true, source: 'creator' });
    expect(await w.count('memberships', `org_id = '${org.id}'`)).toBe(1);
    expect(await activeOrgOf(w, p.account.id)).toBe(org.id);
    const mine = await w.domain.orgs.listMine(p.actor);
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ role: 'owner', active: true, org: { id: org.id } });
  });

  it('creating an org writes org.created and member.added audit events', async () => {
    const w = world();
    const p = await w.person('Audited Creator');
    const org = await w.domain.orgs.create(p.actor, { name: `Audited ${hex()}` });
    const events = await eventsOf(w, org.id);
    expect(events.map((e) => e.action)).toEqual(['org.created', 'member.added']);
    expect(events[0]).toMatchObject({
      actorType: 'account',
      actorId: p.account.id,
      targetType: 'org',
      targetId: org.id,
      after: { name: org.name, slug: org.slug },
    });
    const [m] = await w.db.db.select().from(memberships).where(eq(memberships.orgId, org.id));
    expect(events[1]).toMatchObject({
      targetType: 'membership',
      targetId: m!.id,
      after: { accountId: p.account.id, role: 'owner', source: 'creator' },
    });
  });

  it('creating a second org makes the new one active', async () => {
    const w = world();
    const { org: first, owner } = await w.org('First');
    const second = await w.domain.orgs.create(owner.actor, { name: `Second ${hex()}` });
    expect(await activeOrgOf(w, owner.account.id)).toBe(second.id);
    const mine = await w.domain.orgs.listMine(owner.actor);
    expect(mine.find((m) => m.org.id === first.id)?.active).toBe(false);
    expect(mine.find((m) => m.org.id === second.id)?.active).toBe(true);
  });

  it('a name of exactly 80 characters is accepted', async () => {
    const w = world();
    const p = await w.person('Long Namer');
    const name = `${hex()}${'n'.repeat(74)}`;
    expect(name).toHaveLength(80);
    const org = await w.domain.orgs.create(p.actor, { name });
    expect(org.name).toBe(name);
  });

  it.each([
    ['an empty name', '', /cannot be empty/],
    ['a name of only spaces', '    ', /cannot be empty/],
    ['an 81-character name', 'x'.repeat(81), /at most 80 characters/],
    ['a 500-character name', 'y'.repeat(500), /at most 80 characters/],
  ])('%s is refused with invalid_input and nothing is created', async (_label, name, message) => {
    const w = world();
    const p = await w.person('Bad Namer');
    const before = await footprint(w, p.account.id);
    const orgsBefore = await w.count('orgs');
    await expect(w.domain.orgs.create(p.actor, { name })).rejects.toMatchObject({
      code: 'invalid_input',
      message: expect.stringMatching(message),
    });
    expect(await footprint(w, p.account.id)).toEqual(before);
    expect(await w.count('orgs')).toBe(orgsBefore);
  });
});

describe('slugs', () => {
  it('the slug is suggested from the name, and a second "Acme Inc" gets acme-inc-2', async () => {
    const w = world();
    expect(await w.domain.orgs.suggestSlug('Acme Inc')).toBe('acme-inc');
    const a = await w.person('Acme One');
    const first = await w.domain.orgs.create(a.actor, { name: 'Acme Inc' });
    expect(first.slug).toBe('acme-inc');
    expect(await w.domain.orgs.suggestSlug('Acme Inc')).toBe('acme-inc-2');
    const b = await w.person('Acme Two');
    const second = await w.domain.orgs.create(b.actor, { name: 'Acme Inc' });
    expect(second.slug).toBe('acme-inc-2');
    const c = await w.person('Acme Three');
    expect((await w.domain.orgs.create(c.actor, { name: '  ACME   inc ' })).slug).toBe('acme-inc-3');
  });

  it('accents are stripped and punctuation becomes single dashes', async () => {
    const w = world();
    expect(await w.domain.orgs.suggestSlug('Café Crème — Zürich!!')).toBe('cafe-creme-zurich');
    expect(slugify('Ångström & Søn')).toMatch(/^angstrom-s/);
    expect(slugify('  --Hello,   World--  ')).toBe('hello-world');
  });

  it('a name without latin letters still gets a valid slug', async () => {
    const w = world();
    const slug = await w.domain.orgs.suggestSlug('日本語');
    expect(slug).toMatch(/^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/);
    expect(slug.length).toBeGreaterThanOrEqual(2);
  });

  it('a suggested slug for a very long name fits in 40 characters', async () => {
    const w = world();
    const slug = await w.domain.orgs.suggestSlug('Very Long Organization Name '.repeat(2));
    expect(slug.length).toBeLessThanOrEqual(40);
    expect(slug).toMatch(/^very-long-organization-name/);
    expect(slug).not.toMatch(/-$/);
  });

  it('two people creating the same name at the same moment both succeed, with different slugs', async () => {
    const w = world();
    const name = `Simultaneous ${hex()}`;
    const people = [await w.person('Simul One'), await w.person('Simul Two'), await w.person('Simul Three')];
    const results = await released(w, 'orgs', 3, () => people.map((p) => w.domain.orgs.create(p.actor, { name })));
    const created = results.map((r) => {
      if (r.status === 'rejected') throw r.reason;
      return r.value;
    });
    const base = slugify(name);
    expect(created.map((o) => o.slug).sort()).toEqual([base, `${base}-2`, `${base}-3`]);
    for (const p of people) expect(await w.count('memberships', `account_id = '${p.account.id}'`)).toBe(1);
  });

  it('two people asking for the same explicit slug at the same moment: one gets it, the other is told it is taken', async () => {
    const w = world();
    const slug = `contested-${hex()}`;
    const people = [await w.person('Contest One'), await w.person('Contest Two')];
    const results = await released(w, 'orgs', 2, () => people.map((p) => w.domain.orgs.create(p.actor, { name: 'Contested', slug })));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(refused.reason).toMatchObject({ code: 'slug_taken', message: expect.stringContaining(slug) });
    expect(await w.count('orgs', `slug = '${slug}'`)).toBe(1);
    expect(await w.count('memberships', `account_id in ('${people[0]!.account.id}', '${people[1]!.account.id}')`)).toBe(1);
  });

  it('an explicit slug typed in uppercase is normalised to lowercase', async () => {
    const w = world();
    const p = await w.person('Slug Chooser');
    const wanted = `My-Team-${hex()}`;
    const org = await w.domain.orgs.create(p.actor, { name: 'Anything', slug: `  ${wanted} ` });
    expect(org.slug).toBe(wanted.toLowerCase());
  });

  it.each([
    ['spaces', 'acme inc'],
    ['an underscore', 'acme_inc'],
    ['a leading dash', '-acme'],
    ['a trailing dash', 'acme-'],
    ['a dot', 'acme.io'],
    ['one character', 'a'],
    ['41 characters', 'a'.repeat(41)],
  ])('an explicit slug with %s is refused with invalid_input and nothing is created', async (_label, slug) => {
    const w = world();
    const p = await w.person('Bad Slug');
    const before = await footprint(w, p.account.id);
    await expect(w.domain.orgs.create(p.actor, { name: `Bad Slug ${hex()}`, slug })).rejects.toMatchObject({
      code: 'invalid_input',
      message: expect.stringMatching(/URL name/),
    });
    expect(await footprint(w, p.account.id)).toEqual(before);
  });

  it('a taken slug is refused with slug_taken and nothing is created', async () => {
    const w = world();
    const slug = `taken-${hex()}`;
    const first = await w.person('First Taker');
    await w.domain.orgs.create(first.actor, { name: 'First', slug });
    const { org: existing, owner: second } = await w.org('Second Taker');
    const before = await footprint(w, second.account.id);
    const orgsBefore = await w.count('orgs');
    await expect(w.domain.orgs.create(second.actor, { name: 'Second', slug: slug.toUpperCase() })).rejects.toMatchObject({
      code: 'slug_taken',
      message: expect.stringContaining(slug),
    });
    expect(await w.count('orgs')).toBe(orgsBefore);
    // The person's existing org stays their active org.
    expect(await footprint(w, second.account.id)).toEqual({ ...before, activeOrgId: existing.id });
  });
});

describe('renaming', () => {
  it('an owner renames the org; the audit event keeps the name before and after', async () => {
    const w = world();
    const { org, owner } = await w.org('Renamable');
    const renamed = await w.domain.orgs.rename(owner.actor, org.id, `  New   Name ${hex()} `);
    expect(renamed.name).toMatch(/^New Name [0-9a-f]{6}$/);
    expect((await orgRow(w, org.id))!.name).toBe(renamed.name);
    const [e] = await eventsOf(w, org.id, 'org.renamed');
    expect(e).toMatchObject({
      actorId: owner.account.id,
      targetType: 'org',
      targetId: org.id,
      before: { name: org.name },
      after: { name: renamed.name },
    });
  });

  it.each(['admin', 'member', 'billing', 'developer'] as const)('a(n) %s cannot rename the org; nothing changes', async (role) => {
    const w = world();
    const { org, owner } = await w.org('Not Yours');
    const p = await w.member(org, owner.actor, role);
    await expect(w.domain.orgs.rename(p.actor, org.id, 'Hijacked')).rejects.toMatchObject({
      code: 'forbidden',
      message: expect.stringMatching(/owners only/),
    });
    expect((await orgRow(w, org.id))!.name).toBe(org.name);
    expect(await eventsOf(w, org.id, 'org.renamed')).toHaveLength(0);
  });

  it('renaming to an empty or 81-character name is refused and the name stays', async () => {
    const w = world();
    const { org, owner } = await w.org('Keep Name');
    await expect(w.domain.orgs.rename(owner.actor, org.id, '  ')).rejects.toMatchObject({ code: 'invalid_input' });
    await expect(w.domain.orgs.rename(owner.actor, org.id, 'z'.repeat(81))).rejects.toMatchObject({
      code: 'invalid_input',
      message: expect.stringMatching(/at most 80/),
    });
    expect((await orgRow(w, org.id))!.name).toBe(org.name);
    expect(await eventsOf(w, org.id, 'org.renamed')).toHaveLength(0);
  });
});

describe('settings', () => {
  it('new orgs default to 14-day invites, reminders 3 days and 1 day before, and no seat limit', async () => {
    const w = world();
    const { org } = await w.org('Defaults');
    expect(org).toMatchObject({ inviteExpiryHours: 336, reminderHours: [72, 24], seatLimit: null });
  });

  it.each([
    ['72h', 72],
    ['7d', 168],
    ['14d', 336],
    ['30d', 720],
    ['never', null],
  ] as const)('an owner sets invite expiry to %s', async (choice, hours) => {
    const w = world();
    const { org, owner } = await w.org('Expiry');
    // Start from a different value so every choice is a real change.
    await w.domain.orgs.updateSettings(owner.actor, org.id, { inviteExpiry: choice === '30d' ? '7d' : '30d' });
    const after = await w.domain.orgs.updateSettings(owner.actor, org.id, { inviteExpiry: choice });
    expect(after.inviteExpiryHours).toBe(hours);
    expect((await orgRow(w, org.id))!.inviteExpiryHours).toBe(hours);
    const events = await eventsOf(w, org.id, 'org.settings_changed');
    expect(events.at(-1)!.after).toMatchObject({ inviteExpiry: choice });
  });

  it('an invite created after the change expires on the new schedule', async () => {
    const w = world();
    const { org, owner } = await w.org('Schedule');
    await w.domain.orgs.updateSettings(owner.actor, org.id, { inviteExpiry: '72h' });
    const [r] = await w.domain.invites.create(owner.actor, org.id, { emails: `short.${hex()}@example.com` });
    expect(r?.ok && r.invite.expiresAt?.getTime()).toBe(w.clock.now().getTime() + 72 * 3_600_000);
    await w.domain.orgs.updateSettings(owner.actor, org.id, { inviteExpiry: 'never' });
    const [r2] = await w.domain.invites.create(owner.actor, org.id, { emails: `forever.${hex()}@example.com` });
    expect(r2?.ok && r2.invite.expiresAt).toBeNull();
  });

  it('settings changes are audited with before and after', async () => {
    const w = world();
    const { org, owner } = await w.org('Audited Settings');
    await w.domain.orgs.updateSettings(owner.actor, org.id, { inviteExpiry: '7d', reminderHours: [24, 48], seatLimit: 10 });
    const [e] = await eventsOf(w, org.id, 'org.settings_changed');
    expect(e).toMatchObject({
      actorId: owner.account.id,
      targetType: 'org',
      targetId: org.id,
      before: { inviteExpiry: '14d', reminderHours: [72, 24], seatLimit: null },
      after: { inviteExpiry: '7d', reminderHours: [48, 24], seatLimit: 10 },
    });
  });

  it('reminder hours are stored once each, latest first', async () => {
    const w = world();
    const { org, owner } = await w.org('Reminders');
    const after = await w.domain.orgs.updateSettings(owner.actor, org.id, { reminderHours: [1, 72, 24, 72] });
    expect(after.reminderHours).toEqual([72, 24, 1]);
    expect((await w.domain.orgs.updateSettings(owner.actor, org.id, { reminderHours: [] })).reminderHours).toEqual([]);
  });

  it('a seat limit of 1 or more is accepted, and null removes it', async () => {
    const w = world();
    const { org, owner } = await w.org('Seats');
    expect((await w.domain.orgs.updateSettings(owner.actor, org.id, { seatLimit: 1 })).seatLimit).toBe(1);
    expect((await w.domain.orgs.updateSettings(owner.actor, org.id, { seatLimit: 25 })).seatLimit).toBe(25);
    expect((await w.domain.orgs.updateSettings(owner.actor, org.id, { seatLimit: null })).seatLimit).toBeNull();
    expect((await orgRow(w, org.id))!.seatLimit).toBeNull();
  });

  it.each([
    ['an unknown invite expiry', { inviteExpiry: '1d' }, /72h, 7d, 14d, 30d or never/],
    ['a seat limit of 0', { seatLimit: 0 }, /at least 1/],
    ['a negative seat limit', { seatLimit: -3 }, /at least 1/],
    ['a fractional seat limit', { seatLimit: 2.5 }, /seatLimit/],
    ['a reminder of 0 hours', { reminderHours: [0] }, /at least 1/],
    ['more than 5 reminders', { reminderHours: [1, 2, 3, 4, 5, 6] }, /At most 5/],
    ['an unknown setting', { colour: 'red' }, /colour/],
  ])('%s is refused with invalid_input and nothing changes', async (_label, input, message) => {
    const w = world();
    const { org, owner } = await w.org('Strict Settings');
    await expect(w.domain.orgs.updateSettings(owner.actor, org.id, input as never)).rejects.toMatchObject({
      code: 'invalid_input',
      message: expect.stringMatching(message),
    });
    expect(await orgRow(w, org.id)).toEqual(org);
    expect(await eventsOf(w, org.id, 'org.settings_changed')).toHaveLength(0);
  });

  it.each(['admin', 'member'] as const)('a(n) %s cannot change settings; nothing changes', async (role) => {
    const w = world();
    const { org, owner } = await w.org('Owner Settings');
    const p = await w.member(org, owner.actor, role);
    await expect(w.domain.orgs.updateSettings(p.actor, org.id, { seatLimit: 1 })).rejects.toMatchObject({ code: 'forbidden' });
    expect((await orgRow(w, org.id))!.seatLimit).toBeNull();
    expect(await eventsOf(w, org.id, 'org.settings_changed')).toHaveLength(0);
  });
});

describe('deleting an organization', () => {
  it.each(['admin', 'member'] as const)('a(n) %s cannot delete the org; it is still there', async (role) => {
    const w = world();
    const { org, owner } = await w.org('Undeletable');
    const p = await w.member(org, owner.actor, role);
    await expect(w.domain.orgs.delete(p.actor, org.id, org.name)).rejects.toMatchObject({
      code: 'forbidden',
      message: expect.stringMatching(/delete the organization/),
    });
    expect(await orgRow(w, org.id)).toBeDefined();
    expect(await w.count('memberships', `org_id = '${org.id}'`)).toBe(2);
    expect(await eventsOf(w, org.id, 'org.deleted')).toHaveLength(0);
  });

  it('a wrong confirmation name refuses the delete and the org is still there', async () => {
    const w = world();
    const { org, owner } = await w.org('Confirm Me');
    for (const typed of ['', 'confirm me', `${org.name}x`, org.slug]) {
      await expect(w.domain.orgs.delete(owner.actor, org.id, typed)).rejects.toMatchObject({
        code: 'confirmation_mismatch',
        message: expect.stringMatching(/nothing was deleted/),
      });
    }
    expect(await orgRow(w, org.id)).toEqual(org);
    expect(await w.count('memberships', `org_id = '${org.id}'`)).toBe(1);
    expect(await activeOrgOf(w, owner.account.id)).toBe(org.id);
    expect(await eventsOf(w, org.id, 'org.deleted')).toHaveLength(0);
  });

  it('deleting removes memberships, invites and join requests but keeps the audit log, with an org.deleted event', async () => {
    const w = world();
    const { org, owner } = await w.org('Doomed');
    const admin = await w.member(org, owner.actor, 'admin');
    await w.domain.invites.create(owner.actor, org.id, { emails: `pending.${hex()}@example.com` });
    const asker = await w.person('Asker');
    await w.domain.joinRequests.request(asker.actor, org, 'let me in');
    expect(await w.count('invites', `org_id = '${org.id}'`)).toBeGreaterThan(0);
    expect(await w.count('join_requests', `org_id = '${org.id}'`)).toBe(1);
    const eventsBefore = (await eventsOf(w, org.id)).length;

    await w.domain.orgs.delete(owner.actor, org.id, `  ${org.name} `);

    expect(await orgRow(w, org.id)).toBeUndefined();
    expect(await w.count('memberships', `org_id = '${org.id}'`)).toBe(0);
    expect(await w.count('invites', `org_id = '${org.id}'`)).toBe(0);
    expect(await w.count('join_requests', `org_id = '${org.id}'`)).toBe(0);
    const events = await eventsOf(w, org.id);
    expect(events).toHaveLength(eventsBefore + 1);
    expect(events.map((e) => e.action)).toEqual(expect.arrayContaining(['org.created', 'member.added', 'invite.created', 'join_request.created']));
    expect(events.at(-1)).toMatchObject({
      action: 'org.deleted',
      actorId: owner.account.id,
      targetType: 'org',
      targetId: org.id,
      before: { name: org.name, slug: org.slug, members: 2 },
    });
    // The people themselves still exist.
    expect(await w.count('accounts', `id in ('${owner.account.id}', '${admin.account.id}', '${asker.account.id}')`)).toBe(3);
    // The slug is free again.
    expect(await w.domain.orgs.suggestSlug(org.name)).toBe(org.slug);
  });

  it('accounts whose active org was deleted have no active org; others keep theirs', async () => {
    const w = world();
    const { org, owner } = await w.org('Gone');
    const newcomer = await w.member(org, owner.actor, 'member');
    const { org: home, owner: visitor } = await w.org('Home');
    await joinExisting(w, org.id, owner.actor, visitor, 'developer');
    expect(await activeOrgOf(w, newcomer.account.id)).toBe(org.id);
    expect(await activeOrgOf(w, visitor.account.id)).toBe(home.id);

    await w.domain.orgs.delete(owner.actor, org.id, org.name);

    expect(await activeOrgOf(w, owner.account.id)).toBeNull();
    expect(await activeOrgOf(w, newcomer.account.id)).toBeNull();
    expect(await activeOrgOf(w, visitor.account.id)).toBe(home.id);
    await expect(w.domain.orgs.active(newcomer.actor)).rejects.toMatchObject({ code: 'no_active_org' });
    expect(await w.domain.orgs.listMine(newcomer.actor)).toEqual([]);
  });
});

describe('my orgs and the active org', () => {
  it('listMine shows every org I belong to with my role, and marks the active one', async () => {
    const w = world();
    const { org: a, owner: me } = await w.org('Alpha');
    const { org: b, owner: bOwner } = await w.org('Beta');
    await joinExisting(w, b.id, bOwner.actor, me, 'billing');
    const mine = await w.domain.orgs.listMine(me.actor);
    expect(mine.map((m) => ({ id: m.org.id, role: m.role, status: m.status, active: m.active }))).toEqual(
      // Sorted by name: "Alpha …" before "Beta …".
      [
        { id: a.id, role: 'owner', status: 'active', active: true },
        { id: b.id, role: 'billing', status: 'active', active: false },
      ],
    );
    // Someone else's list does not include my orgs.
    expect((await w.domain.orgs.listMine(bOwner.actor)).map((m) => m.org.id)).toEqual([b.id]);
  });

  it('switching by slug makes that org active and is audited', async () => {
    const w = world();
    const { org: a, owner: me } = await w.org('Switch A');
    const b = await w.domain.orgs.create(me.actor, { name: `Switch B ${hex()}` });
    expect(await activeOrgOf(w, me.account.id)).toBe(b.id);

    const switched = await w.domain.orgs.switchActive(me.actor, ` ${a.slug.toUpperCase()} `);
    expect(switched.id).toBe(a.id);
    expect(await activeOrgOf(w, me.account.id)).toBe(a.id);
    expect((await w.domain.orgs.active(me.actor)).org.id).toBe(a.id);
    const events = await eventsOf(w, a.id, 'account.active_org_changed');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ actorId: me.account.id, targetType: 'account', targetId: me.account.id, after: { orgId: a.id } });

    // Switching to the org that is already active changes nothing and writes no second event.
    await w.domain.orgs.switchActive(me.actor, a.slug);
    expect(await eventsOf(w, a.id, 'account.active_org_changed')).toHaveLength(1);

    // By id works too.
    await w.domain.orgs.switchActive(me.actor, b.id);
    expect(await activeOrgOf(w, me.account.id)).toBe(b.id);
  });

  it('switching to an org I am not a member of is refused with not_a_member and nothing changes', async () => {
    const w = world();
    const { org: mine, owner: me } = await w.org('Mine');
    const { org: theirs } = await w.org('Theirs');
    for (const ref of [theirs.slug, theirs.id, 'no-such-org']) {
      await expect(w.domain.orgs.switchActive(me.actor, ref)).rejects.toMatchObject({
        code: 'not_a_member',
        hint: 'list_orgs',
      });
    }
    expect(await activeOrgOf(w, me.account.id)).toBe(mine.id);
    expect(await eventsOf(w, theirs.id, 'account.active_org_changed')).toHaveLength(0);
    expect(await w.count('audit_events', `action = 'account.active_org_changed' and actor_id = '${me.account.id}'`)).toBe(0);
  });

  it('active() falls back to my only org when no active org is set', async () => {
    const w = world();
    const { org: keep, owner: me } = await w.org('Keep');
    const temp = await w.domain.orgs.create(me.actor, { name: `Temp ${hex()}` });
    await w.domain.orgs.delete(me.actor, temp.id, temp.name);
    expect(await activeOrgOf(w, me.account.id)).toBeNull();
    const current = await w.domain.orgs.active(me.actor);
    expect(current).toMatchObject({ org: { id: keep.id }, role: 'owner', active: true });
  });

  it('active() with several orgs and none chosen asks me to switch', async () => {
    const w = world();
    const { owner: me } = await w.org('One');
    await w.domain.orgs.create(me.actor, { name: `Two ${hex()}` });
    const three = await w.domain.orgs.create(me.actor, { name: `Three ${hex()}` });
    await w.domain.orgs.delete(me.actor, three.id, three.name);
    await expect(w.domain.orgs.active(me.actor)).rejects.toMatchObject({
      code: 'no_active_org',
      hint: 'switch_org',
    });
  });

  it('active() with no org at all is refused with no_active_org', async () => {
    const w = world();
    const p = await w.person('Loner');
    await expect(w.domain.orgs.active(p.actor)).rejects.toMatchObject({
      code: 'no_active_org',
      hint: 'create_or_join_org',
    });
    expect(await w.domain.orgs.listMine(p.actor)).toEqual([]);
  });
});

describe('suspended members', () => {
  async function suspend(w: World, orgId: string, accountId: string) {
    await w.db.db
      .update(memberships)
      .set({ status: 'suspended' })
      .where(and(eq(memberships.orgId, orgId), eq(memberships.accountId, accountId)));
  }

  it('a suspended owner cannot rename, change settings or delete the org', async () => {
    const w = world();
    const { org, owner } = await w.org('Suspended Owner');
    const second = await w.member(org, owner.actor, 'owner');
    await suspend(w, org.id, second.account.id);
    await expect(w.domain.orgs.rename(second.actor, org.id, 'Mine Now')).rejects.toMatchObject({ code: 'forbidden' });
    await expect(w.domain.orgs.updateSettings(second.actor, org.id, { seatLimit: 1 })).rejects.toMatchObject({ code: 'forbidden' });
    await expect(w.domain.orgs.delete(second.actor, org.id, org.name)).rejects.toMatchObject({ code: 'forbidden' });
    await expect(w.domain.orgs.get(second.actor, org.id)).rejects.toMatchObject({ code: 'forbidden' });
    expect(await orgRow(w, org.id)).toEqual(org);
  });

  it('a suspended member cannot switch to that org, and it is listed as suspended', async () => {
    const w = world();
    const { org, owner } = await w.org('Suspending');
    const { org: home, owner: me } = await w.org('My Home');
    await joinExisting(w, org.id, owner.actor, me, 'member');
    await suspend(w, org.id, me.account.id);
    await expect(w.domain.orgs.switchActive(me.actor, org.slug)).rejects.toMatchObject({
      code: 'forbidden',
      message: expect.stringMatching(/suspended/),
    });
    expect(await activeOrgOf(w, me.account.id)).toBe(home.id);
    const mine = await w.domain.orgs.listMine(me.actor);
    expect(mine.find((m) => m.org.id === org.id)).toMatchObject({ status: 'suspended', active: false });
  });

  it('active() does not fall back to an org where I am suspended', async () => {
    const w = world();
    const { org, owner } = await w.org('Only Suspended');
    const p = await w.member(org, owner.actor, 'member');
    await w.db.db.update(accounts).set({ activeOrgId: null }).where(eq(accounts.id, p.account.id));
    await suspend(w, org.id, p.account.id);
    await expect(w.domain.orgs.active(p.actor)).rejects.toMatchObject({ code: 'no_active_org' });
  });
});

describe('finding organizations', () => {
  it('findBySlug finds an org by its slug, in any case, and refuses unknown slugs with org_not_found', async () => {
    const w = world();
    const { org } = await w.org('Findable');
    expect((await w.domain.orgs.findBySlug(`  ${org.slug.toUpperCase()} `)).id).toBe(org.id);
    await expect(w.domain.orgs.findBySlug(`missing-${hex()}`)).rejects.toMatchObject({
      code: 'org_not_found',
      message: expect.stringContaining('missing-'),
    });
    await expect(w.domain.orgs.findBySlug("'; drop table orgs; --")).rejects.toMatchObject({ code: 'org_not_found' });
    await expect(w.domain.orgs.findBySlug('x'.repeat(500))).rejects.toMatchObject({ code: 'org_not_found' });
    expect(await orgRow(w, org.id)).toBeDefined();
  });

  it('resolve finds an org by id or by slug; an unknown id is org_not_found', async () => {
    const w = world();
    const { org } = await w.org('Resolvable');
    expect((await w.domain.orgs.resolve(org.id)).id).toBe(org.id);
    expect((await w.domain.orgs.resolve(org.id.toUpperCase())).id).toBe(org.id);
    expect((await w.domain.orgs.resolve(org.slug)).id).toBe(org.id);
    await expect(w.domain.orgs.resolve(randomUUID())).rejects.toMatchObject({ code: 'org_not_found' });
  });

  it('listAll shows every org with its member count', async () => {
    const w = world();
    const { org, owner } = await w.org('Counted');
    await w.member(org, owner.actor, 'admin');
    await w.member(org, owner.actor, 'member');
    const { org: other } = await w.org('Counted Other');
    const all = await w.domain.orgs.listAll();
    expect(all.find((o) => o.id === org.id)).toMatchObject({ name: org.name, slug: org.slug, members: 3 });
    expect(all.find((o) => o.id === other.id)).toMatchObject({ members: 1 });
    expect(all).toHaveLength(await w.count('orgs'));
  });

  it('a member can read their org; an outsider cannot', async () => {
    const w = world();
    const { org, owner } = await w.org('Private');
    const m = await w.member(org, owner.actor, 'member');
    expect((await w.domain.orgs.get(m.actor, org.id)).name).toBe(org.name);
    const outsider = await w.person('Outsider');
    await expect(w.domain.orgs.get(outsider.actor, org.id)).rejects.toMatchObject({ code: 'not_a_member' });
  });
});

describe("another org's id", () => {
  it('an outsider using an org id is refused with not_a_member and nothing changes', async () => {
    const w = world();
    const { org } = await w.org('Target');
    const { owner: outsider } = await w.org('Outsider Org');
    const eventsBefore = (await eventsOf(w, org.id)).length;
    await expect(w.domain.orgs.rename(outsider.actor, org.id, 'Pwned')).rejects.toMatchObject({ code: 'not_a_member' });
    await expect(w.domain.orgs.updateSettings(outsider.actor, org.id, { seatLimit: 1 })).rejects.toMatchObject({ code: 'not_a_member' });
    await expect(w.domain.orgs.delete(outsider.actor, org.id, org.name)).rejects.toMatchObject({ code: 'not_a_member' });
    await expect(w.domain.orgs.switchActive(outsider.actor, org.id)).rejects.toMatchObject({ code: 'not_a_member' });
    expect(await orgRow(w, org.id)).toEqual(org);
    expect((await eventsOf(w, org.id)).length).toBe(eventsBefore);
  });

  it('an id of an org that does not exist is org_not_found', async () => {
    const w = world();
    const { owner } = await w.org('Real');
    const ghost = randomUUID();
    await expect(w.domain.orgs.get(owner.actor, ghost)).rejects.toMatchObject({ code: 'org_not_found' });
    await expect(w.domain.orgs.rename(owner.actor, ghost, 'Ghost')).rejects.toMatchObject({ code: 'org_not_found' });
    await expect(w.domain.orgs.updateSettings(owner.actor, ghost, { seatLimit: 3 })).rejects.toMatchObject({ code: 'org_not_found' });
    await expect(w.domain.orgs.delete(owner.actor, ghost, 'Ghost')).rejects.toMatchObject({ code: 'org_not_found' });
    expect(await w.count('audit_events', `org_id = '${ghost}'`)).toBe(0);
  });

  it.each(['not-a-uuid', '', "1' or '1'='1", '123'])('a malformed org id %j is invalid_input', async (bad) => {
    const w = world();
    const { org, owner } = await w.org('Malformed');
    await expect(w.domain.orgs.get(owner.actor, bad)).rejects.toMatchObject({ code: 'invalid_input', message: expect.stringMatching(/organization id/) });
    await expect(w.domain.orgs.rename(owner.actor, bad, 'X')).rejects.toMatchObject({ code: 'invalid_input' });
    await expect(w.domain.orgs.updateSettings(owner.actor, bad, { seatLimit: 3 })).rejects.toMatchObject({ code: 'invalid_input' });
    await expect(w.domain.orgs.delete(owner.actor, bad, org.name)).rejects.toMatchObject({ code: 'invalid_input' });
    expect(await orgRow(w, org.id)).toEqual(org);
  });
});
