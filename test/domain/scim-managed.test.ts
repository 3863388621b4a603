import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Actor } from '../../src/domain/context.js';
import type { OrgRow } from '../../src/db/schema.js';
import { useWorld, type World } from '../helpers/domain.js';
import { verifiedDomainForTest } from '../helpers/fixtures.js';

/**
 * What the identity provider owns, Roster's own surfaces leave alone (SPEC §6 "SCIM only takes away what
 * SCIM granted"): a membership SCIM created and a role SCIM groups manage can only be overridden by an
 * owner who says so ({ force: true }). Everything through the domain, as Slack and the CLI call it.
 */
const world = useWorld();

const tag = () => randomBytes(4).toString('hex');

/**
 * An org, its owner, an admin who joined by invite, and the org's SCIM token as an actor. The org has
 * verified a domain, where its IdP grants access at once (SPEC §10): `mail('x')` makes an address on it.
 */
async function scimOrg(w: World) {
  const { org, owner } = await w.org('Managed');
  const admin = await w.member(org, owner.actor, 'admin');
  const { token } = await w.domain.scimTokens.create(owner.actor, org.id, 'idp');
  const p = await w.domain.scimTokens.authenticate(token);
  const idp: Actor = { type: 'scim', tokenId: p!.tokenId, orgId: p!.orgId, label: p!.name };
  const domain = `${tag()}.example.com`;
  await verifiedDomainForTest(w.db, org.id, domain);
  return { org, owner, admin, idp, mail: (local: string) => `${local}.${tag()}@${domain}` };
}

async function provision(w: World, idp: Actor, email: string) {
  const u = await w.domain.scim.createUser(idp, { userName: email, emails: [{ value: email, type: 'work', primary: true }] });
  return { scimUserId: u.id, accountId: u.accountId!, email };
}

async function membership(w: World, org: OrgRow, accountId: string) {
  const r = await w.db.pool.query('select role, status, source, scim_base_role from memberships where org_id = $1 and account_id = $2', [org.id, accountId]);
  return r.rows[0] as { role: string; status: string; source: string; scim_base_role: string | null } | undefined;
}

const audits = (w: World, org: OrgRow, action: string) => w.count('audit_events', `org_id = '${org.id}' and action = '${action}'`);

/** A SCIM user in a group mapped to `role`. */
async function inMappedGroup(w: World, org: OrgRow, owner: Actor, idp: Actor, role: string, accountEmail: string) {
  const name = `Group ${randomBytes(3).toString('hex')}`;
  await w.domain.scim.mapGroup(owner, org.id, name, role);
  const u = await provision(w, idp, accountEmail);
  const g = await w.domain.scim.createGroup(idp, { displayName: name, memberIds: [u.scimUserId] });
  return { ...u, groupId: g.id, groupName: name };
}

describe('members SCIM created', () => {
  it('an admin cannot remove them: scim_managed, and nothing changes', async () => {
    const w = world();
    const { org, admin, idp, mail } = await scimOrg(w);
    const u = await provision(w, idp, mail('scim'));
    const before = await audits(w, org, 'member.removed');

    await expect(w.domain.members.remove(admin.actor, org.id, u.accountId)).rejects.toMatchObject({
      code: 'scim_managed',
      message: expect.stringMatching(/identity provider/),
    });
    expect(await membership(w, org, u.accountId)).toMatchObject({ source: 'scim', status: 'active' });
    expect(await audits(w, org, 'member.removed')).toBe(before);
  });

  it('an admin passing force is forbidden: only an owner may override the identity provider', async () => {
    const w = world();
    const { org, admin, idp, mail } = await scimOrg(w);
    const u = await provision(w, idp, mail('scim'));
    await expect(w.domain.members.remove(admin.actor, org.id, u.accountId, { force: true })).rejects.toMatchObject({
      code: 'forbidden',
      message: expect.stringMatching(/owner/i),
    });
    expect(await membership(w, org, u.accountId)).toMatchObject({ source: 'scim' });
    expect(await audits(w, org, 'member.removed')).toBe(0);
  });

  it('an owner must pass force; with force the member is removed, and later IdP updates do not bring them back', async () => {
    const w = world();
    const { org, owner, idp, mail } = await scimOrg(w);
    const u = await provision(w, idp, mail('scim'));

    await expect(w.domain.members.remove(owner.actor, org.id, u.accountId)).rejects.toMatchObject({ code: 'scim_managed' });
    expect(await membership(w, org, u.accountId)).toBeDefined();

    await w.domain.members.remove(owner.actor, org.id, u.accountId, { force: true });
    expect(await membership(w, org, u.accountId)).toBeUndefined();
    expect(await audits(w, org, 'member.removed')).toBe(1);

    // The IdP still knows the user: its next update or group push must not re-create the membership.
    await w.domain.scim.replaceUser(idp, u.scimUserId, { userName: u.email, active: false });
    await w.domain.scim.replaceUser(idp, u.scimUserId, { userName: u.email, active: true });
    const name = `Admins ${randomBytes(3).toString('hex')}`;
    await w.domain.scim.mapGroup(owner.actor, org.id, name, 'admin');
    await w.domain.scim.createGroup(idp, { displayName: name, memberIds: [u.scimUserId] });
    expect(await membership(w, org, u.accountId)).toBeUndefined();
    await w.domain.scim.deleteUser(idp, u.scimUserId);
    expect(await w.count('scim_users', `id = '${u.scimUserId}'`)).toBe(0);
  });

  it('a member who joined by invite and was only linked by SCIM is removed without force', async () => {
    const w = world();
    const { org, owner, admin, idp } = await scimOrg(w);
    const invited = await w.member(org, owner.actor, 'member');
    await provision(w, idp, invited.account.email!);
    await w.domain.members.remove(admin.actor, org.id, invited.account.id);
    expect(await membership(w, org, invited.account.id)).toBeUndefined();
  });

  it('their role, when no SCIM group manages it, is Roster’s to change', async () => {
    const w = world();
    const { org, admin, idp, mail } = await scimOrg(w);
    const u = await provision(w, idp, mail('scim'));
    const after = await w.domain.members.changeRole(admin.actor, org.id, u.accountId, 'developer');
    expect(after.role).toBe('developer');
    expect(await membership(w, org, u.accountId)).toMatchObject({ role: 'developer', scim_base_role: null, source: 'scim' });
  });
});

describe('roles SCIM groups manage', () => {
  it('an admin cannot change them: scim_managed, and nothing changes', async () => {
    const w = world();
    const { org, owner, admin, idp, mail } = await scimOrg(w);
    const u = await inMappedGroup(w, org, owner.actor, idp, 'developer', mail('scim'));
    expect(await membership(w, org, u.accountId)).toMatchObject({ role: 'developer', scim_base_role: 'member' });
    const before = await audits(w, org, 'member.role_changed');

    await expect(w.domain.members.changeRole(admin.actor, org.id, u.accountId, 'billing')).rejects.toMatchObject({
      code: 'scim_managed',
      message: expect.stringMatching(/groups/),
    });
    await expect(w.domain.members.changeRole(admin.actor, org.id, u.accountId, 'billing', { force: true })).rejects.toMatchObject({ code: 'forbidden' });
    expect(await membership(w, org, u.accountId)).toMatchObject({ role: 'developer', scim_base_role: 'member' });
    expect(await audits(w, org, 'member.role_changed')).toBe(before);
  });

  it('an owner must pass force; the forced role becomes the one the groups fall back to', async () => {
    const w = world();
    const { org, owner, idp, mail } = await scimOrg(w);
    const u = await inMappedGroup(w, org, owner.actor, idp, 'admin', mail('scim'));

    await expect(w.domain.members.changeRole(owner.actor, org.id, u.accountId, 'billing')).rejects.toMatchObject({ code: 'scim_managed' });
    expect(await membership(w, org, u.accountId)).toMatchObject({ role: 'admin' });

    await w.domain.members.changeRole(owner.actor, org.id, u.accountId, 'billing', { force: true });
    expect(await membership(w, org, u.accountId)).toMatchObject({ role: 'billing', scim_base_role: 'billing' });

    // Leaving the group, the person keeps what the owner chose, not the org's default SCIM role.
    await w.domain.scim.replaceGroup(idp, u.groupId, { displayName: u.groupName, memberIds: [] });
    expect(await membership(w, org, u.accountId)).toMatchObject({ role: 'billing', scim_base_role: null });
  });

  it('an invited member whose role a group raised: the role is the IdP’s, the membership their own', async () => {
    const w = world();
    const { org, owner, admin, idp } = await scimOrg(w);
    const invited = await w.member(org, owner.actor, 'developer');
    const u = await inMappedGroup(w, org, owner.actor, idp, 'admin', invited.account.email!);
    expect(await membership(w, org, u.accountId)).toMatchObject({ role: 'admin', scim_base_role: 'developer', source: 'invite' });

    await expect(w.domain.members.changeRole(admin.actor, org.id, u.accountId, 'member')).rejects.toMatchObject({ code: 'scim_managed' });
    // The membership itself is the person's own (from the invite): an admin may still remove it.
    await w.domain.members.remove(admin.actor, org.id, u.accountId);
    expect(await membership(w, org, u.accountId)).toBeUndefined();
  });
});
