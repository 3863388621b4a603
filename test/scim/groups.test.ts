import { describe, expect, it } from 'vitest';
import { ERROR_SCHEMA, GROUP_SCHEMA, patchBody, q, useScimRoster, userBody, type ScimHarness } from '../helpers/scim.js';

/** /Groups and group → role mapping (SPEC §6): SCIM groups raise roles, and only take away what they granted. */
const roster = useScimRoster();

/** A SCIM user; `email` is on the org's verified domain (`mail`) unless the test links someone else. */
async function provision(h: ScimHarness, token: string, email: string) {
  const r = await h.scim(token, 'POST', '/Users', userBody(email));
  expect(r.status, r.text).toBe(201);
  return { id: r.body.id as string, email };
}

async function pushGroup(h: ScimHarness, token: string, displayName: string, memberIds: string[] = []) {
  const r = await h.scim(token, 'POST', '/Groups', { schemas: [GROUP_SCHEMA], displayName, members: memberIds.map((value) => ({ value })) });
  expect(r.status, r.text).toBe(201);
  return r.body.id as string;
}

const addMember = (h: ScimHarness, token: string, groupId: string, userId: string) =>
  h.scim(token, 'PATCH', `/Groups/${groupId}`, patchBody({ op: 'add', path: 'members', value: [{ value: userId }] }));
const removeMember = (h: ScimHarness, token: string, groupId: string, userId: string) =>
  h.scim(token, 'PATCH', `/Groups/${groupId}`, patchBody({ op: 'remove', path: `members[value eq "${userId}"]` }));

describe('/Groups', () => {
  it('creates a group with members, and members of a mapped group get its role', async () => {
    const h = roster();
    const { org, owner, token, mail } = await h.newOrgWithToken();
    const name = `Admins ${h.tag()}`;
    await h.domain.scim.mapGroup(owner.actor, org.id, name, 'admin');
    const a = await provision(h, token, mail('g.user'));
    const b = await provision(h, token, mail('g.user'));

    const r = await h.scim(token, 'POST', '/Groups', {
      schemas: [GROUP_SCHEMA],
      displayName: name,
      externalId: 'grp-1',
      members: [{ value: a.id }, { value: b.id }],
    });
    expect(r.status, r.text).toBe(201);
    expect(r.body).toMatchObject({ displayName: name, externalId: 'grp-1', meta: { resourceType: 'Group' } });
    expect(r.body.members.map((x: { value: string }) => x.value).sort()).toEqual([a.id, b.id].sort());
    expect(await h.memberByEmail(org, a.email)).toMatchObject({ role: 'admin', scimBaseRole: 'member' });
    expect(await h.memberByEmail(org, b.email)).toMatchObject({ role: 'admin', scimBaseRole: 'member' });
    const read = await h.scim(token, 'GET', `/Groups/${r.body.id}`);
    expect(read.body.members).toHaveLength(2);
  });

  it('a group that no mapping names changes nobody’s role', async () => {
    const h = roster();
    const { org, token, mail } = await h.newOrgWithToken();
    const a = await provision(h, token, mail('g.user'));
    await pushGroup(h, token, `Unmapped ${h.tag()}`, [a.id]);
    expect(await h.memberByEmail(org, a.email)).toMatchObject({ role: 'member', scimBaseRole: null });
  });

  it('lists groups by displayName (any case) and leaves members out with excludedAttributes=members', async () => {
    const h = roster();
    const { token, mail } = await h.newOrgWithToken();
    const a = await provision(h, token, mail('g.user'));
    const t = h.tag();
    const id = await pushGroup(h, token, `Finance ${t}`, [a.id]);
    await pushGroup(h, token, `Finance ${t} EU`);

    const withMembers = await h.scim(token, 'GET', `/Groups?filter=${q(`displayName eq "FINANCE ${t}"`)}`);
    expect(withMembers.status).toBe(200);
    expect(withMembers.body.totalResults).toBe(1);
    expect(withMembers.body.Resources[0]).toMatchObject({ id, displayName: `Finance ${t}`, members: [{ value: a.id }] });

    const without = await h.scim(token, 'GET', `/Groups?filter=${q(`displayName eq "Finance ${t}"`)}&excludedAttributes=members`);
    expect(without.body.Resources[0]).toMatchObject({ id, displayName: `Finance ${t}` });
    expect(without.body.Resources[0]).not.toHaveProperty('members');

    const both = await h.scim(token, 'GET', `/Groups?filter=${q(`displayName sw "finance ${t}"`)}`);
    expect(both.body.totalResults).toBe(2);
    const byMember = await h.scim(token, 'GET', `/Groups?filter=${q(`members eq "${a.id}"`)}`);
    expect(byMember.body.Resources.map((g: { id: string }) => g.id)).toEqual([id]);
  });

  it('PATCH add and remove members raise and lower the role', async () => {
    const h = roster();
    const { org, owner, token, mail } = await h.newOrgWithToken();
    const name = `Devs ${h.tag()}`;
    const groupId = await pushGroup(h, token, name);
    await h.domain.scim.mapGroup(owner.actor, org.id, name, 'developer');
    const a = await provision(h, token, mail('g.user'));

    expect((await addMember(h, token, groupId, a.id)).status).toBe(200);
    expect(await h.memberByEmail(org, a.email)).toMatchObject({ role: 'developer', scimBaseRole: 'member' });
    // Adding twice is harmless (no change: RFC 7644 allows 204 No Content).
    expect([200, 204]).toContain((await addMember(h, token, groupId, a.id)).status);
    expect((await h.scim(token, 'GET', `/Groups/${groupId}`)).body.members).toHaveLength(1);
    expect((await h.memberByEmail(org, a.email))!.role).toBe('developer');

    expect((await removeMember(h, token, groupId, a.id)).status).toBe(200);
    expect(await h.memberByEmail(org, a.email)).toMatchObject({ role: 'member', scimBaseRole: null });
    const audit = await h.count('audit_events', `org_id = '${org.id}' and action = 'member.role_changed'`);
    expect(audit).toBe(2);
  });

  it('a member who is not a user of this org cannot be added (400, nothing changes)', async () => {
    const h = roster();
    const { org, owner, token, mail } = await h.newOrgWithToken();
    const name = `Strict ${h.tag()}`;
    const groupId = await pushGroup(h, token, name);
    await h.domain.scim.mapGroup(owner.actor, org.id, name, 'admin');
    const a = await provision(h, token, mail('g.user'));
    for (const bogus of ['00000000-0000-4000-8000-000000000000', 'not-a-uuid']) {
      const r = await h.scim(token, 'PATCH', `/Groups/${groupId}`, patchBody({ op: 'add', path: 'members', value: [{ value: a.id }, { value: bogus }] }));
      expect(r.status, r.text).toBe(400);
      expect(r.body).toMatchObject({ schemas: [ERROR_SCHEMA], scimType: 'invalidValue' });
    }
    expect(await h.count('scim_group_members', `group_id = '${groupId}'`)).toBe(0);
    expect((await h.memberByEmail(org, a.email))!.role).toBe('member');
  });

  it('PUT replaces the member list: members left out lose the role', async () => {
    const h = roster();
    const { org, owner, token, mail } = await h.newOrgWithToken();
    const name = `Billing ${h.tag()}`;
    await h.domain.scim.mapGroup(owner.actor, org.id, name, 'billing');
    const a = await provision(h, token, mail('g.user'));
    const b = await provision(h, token, mail('g.user'));
    const groupId = await pushGroup(h, token, name, [a.id]);
    expect((await h.memberByEmail(org, a.email))!.role).toBe('billing');

    const r = await h.scim(token, 'PUT', `/Groups/${groupId}`, { schemas: [GROUP_SCHEMA], displayName: name, members: [{ value: b.id }] });
    expect(r.status, r.text).toBe(200);
    expect(r.body.members.map((x: { value: string }) => x.value)).toEqual([b.id]);
    expect((await h.memberByEmail(org, a.email))!.role).toBe('member');
    expect((await h.memberByEmail(org, b.email))!.role).toBe('billing');
  });

  it('DELETE of a mapped group reverts its members’ roles', async () => {
    const h = roster();
    const { org, owner, token, mail } = await h.newOrgWithToken();
    const name = `Temp Admins ${h.tag()}`;
    await h.domain.scim.mapGroup(owner.actor, org.id, name, 'admin');
    const a = await provision(h, token, mail('g.user'));
    const groupId = await pushGroup(h, token, name, [a.id]);
    expect((await h.memberByEmail(org, a.email))!.role).toBe('admin');

    expect((await h.scim(token, 'DELETE', `/Groups/${groupId}`)).status).toBe(204);
    expect(await h.memberByEmail(org, a.email)).toMatchObject({ role: 'member', scimBaseRole: null });
    expect(await h.count('scim_groups', `id = '${groupId}'`)).toBe(0);
    expect((await h.scim(token, 'GET', `/Users/${a.id}`)).body.groups).toEqual([]);
  });

  it('deprovisioning a member Roster added gives back the role they had before their groups, and audits the change', async () => {
    const h = roster();
    const { org, owner, token } = await h.newOrgWithToken();
    const name = `Admins ${h.tag()}`;
    await h.domain.scim.mapGroup(owner.actor, org.id, name, 'admin');
    const dev = await h.member(org, owner.actor, 'developer');
    const u = await provision(h, token, dev.account.email!);
    await pushGroup(h, token, name, [u.id]);
    const m = await h.memberByEmail(org, dev.account.email!);
    expect(m).toMatchObject({ role: 'admin', scimBaseRole: 'developer', source: 'invite' });

    expect((await h.scim(token, 'DELETE', `/Users/${u.id}`)).status).toBe(204);
    expect(await h.memberByEmail(org, dev.account.email!)).toMatchObject({ role: 'developer', scimBaseRole: null });
    const events = await h.domain.audit.query(owner.actor, org.id, { action: 'member.role_changed', targetId: m!.membershipId });
    expect(events.map((e) => [e.before, e.after])).toEqual([
      [
        { accountId: dev.account.id, role: 'admin' },
        { accountId: dev.account.id, role: 'developer', via: 'scim groups' },
      ],
      [
        { accountId: dev.account.id, role: 'developer' },
        { accountId: dev.account.id, role: 'admin', via: 'scim groups' },
      ],
    ]);
  });

  it('the highest role wins across two mapped groups, and leaving one falls back to the other', async () => {
    const h = roster();
    const { org, owner, token, mail } = await h.newOrgWithToken();
    const t = h.tag();
    await h.domain.scim.mapGroup(owner.actor, org.id, `Devs ${t}`, 'developer');
    await h.domain.scim.mapGroup(owner.actor, org.id, `Admins ${t}`, 'admin');
    const a = await provision(h, token, mail('g.user'));
    const devs = await pushGroup(h, token, `Devs ${t}`, [a.id]);
    const admins = await pushGroup(h, token, `Admins ${t}`, [a.id]);
    expect((await h.memberByEmail(org, a.email))!.role).toBe('admin');

    await removeMember(h, token, admins, a.id);
    expect((await h.memberByEmail(org, a.email))!.role).toBe('developer');
    await addMember(h, token, admins, a.id);
    expect((await h.memberByEmail(org, a.email))!.role).toBe('admin');
    await removeMember(h, token, devs, a.id);
    expect((await h.memberByEmail(org, a.email))!.role).toBe('admin');
    await removeMember(h, token, admins, a.id);
    expect(await h.memberByEmail(org, a.email)).toMatchObject({ role: 'member', scimBaseRole: null });
  });

  it('groups never lower a role the person had without SCIM, and take away only what they granted', async () => {
    const h = roster();
    const { org, owner, token } = await h.newOrgWithToken();
    const t = h.tag();
    await h.domain.scim.mapGroup(owner.actor, org.id, `Members ${t}`, 'member');
    await h.domain.scim.mapGroup(owner.actor, org.id, `Admins ${t}`, 'admin');
    const dev = await h.member(org, owner.actor, 'developer');
    const u = await provision(h, token, dev.account.email!);
    const low = await pushGroup(h, token, `Members ${t}`, [u.id]);
    expect((await h.memberByEmail(org, u.email))!.role).toBe('developer');

    const high = await pushGroup(h, token, `Admins ${t}`, [u.id]);
    expect(await h.memberByEmail(org, u.email)).toMatchObject({ role: 'admin', scimBaseRole: 'developer' });
    await removeMember(h, token, high, u.id);
    await removeMember(h, token, low, u.id);
    expect(await h.memberByEmail(org, u.email)).toMatchObject({ role: 'developer', scimBaseRole: null, source: 'invite' });
  });

  it('DELETE of a linked invite member gives back the role they had and keeps their membership', async () => {
    const h = roster();
    const { org, owner, token } = await h.newOrgWithToken();
    const name = `Raise ${h.tag()}`;
    await h.domain.scim.mapGroup(owner.actor, org.id, name, 'admin');
    const dev = await h.member(org, owner.actor, 'developer');
    const u = await provision(h, token, dev.account.email!);
    await pushGroup(h, token, name, [u.id]);
    expect((await h.memberByEmail(org, u.email))!.role).toBe('admin');

    expect((await h.scim(token, 'DELETE', `/Users/${u.id}`)).status).toBe(204);
    expect(await h.memberByEmail(org, u.email)).toMatchObject({ role: 'developer', scimBaseRole: null, source: 'invite', status: 'active' });
  });

  it('PATCH replace of members sets the whole list', async () => {
    const h = roster();
    const { org, owner, token, mail } = await h.newOrgWithToken();
    const name = `Replace ${h.tag()}`;
    await h.domain.scim.mapGroup(owner.actor, org.id, name, 'developer');
    const a = await provision(h, token, mail('g.user'));
    const b = await provision(h, token, mail('g.user'));
    const groupId = await pushGroup(h, token, name, [a.id]);
    const r = await h.scim(token, 'PATCH', `/Groups/${groupId}`, patchBody({ op: 'Replace', path: 'members', value: [{ value: b.id }] }));
    expect(r.status, r.text).toBe(200);
    expect(r.body.members.map((x: { value: string }) => x.value)).toEqual([b.id]);
    expect((await h.memberByEmail(org, a.email))!.role).toBe('member');
    expect((await h.memberByEmail(org, b.email))!.role).toBe('developer');
  });

  it('two mapped groups pushed at the same time still give the highest role', async () => {
    const h = roster();
    const { org, owner, token, mail } = await h.newOrgWithToken();
    const t = h.tag();
    await h.domain.scim.mapGroup(owner.actor, org.id, `Race Devs ${t}`, 'developer');
    await h.domain.scim.mapGroup(owner.actor, org.id, `Race Admins ${t}`, 'admin');
    await h.domain.scim.mapGroup(owner.actor, org.id, `Race Billing ${t}`, 'billing');
    const a = await provision(h, token, mail('g.user'));
    const devs = await pushGroup(h, token, `Race Devs ${t}`);
    const admins = await pushGroup(h, token, `Race Admins ${t}`);
    const billing = await pushGroup(h, token, `Race Billing ${t}`);
    const adds = await Promise.all([devs, admins, billing].map((g) => addMember(h, token, g, a.id)));
    expect(adds.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(await h.memberByEmail(org, a.email)).toMatchObject({ role: 'admin', scimBaseRole: 'member' });
    const removes = await Promise.all([admins, billing].map((g) => removeMember(h, token, g, a.id)));
    expect(removes.map((r) => r.status)).toEqual([200, 200]);
    expect(await h.memberByEmail(org, a.email)).toMatchObject({ role: 'developer', scimBaseRole: 'member' });
  });

  it('parallel member PATCHes on one group never undo each other: every add stays, a removal stays removed', async () => {
    const h = roster();
    const { org, owner, token, mail } = await h.newOrgWithToken();
    const name = `Parallel ${h.tag()}`;
    await h.domain.scim.mapGroup(owner.actor, org.id, name, 'admin');
    const leaving = await provision(h, token, mail('g.user'));
    const staying = await provision(h, token, mail('g.user'));
    const joining: { id: string; email: string }[] = [];
    for (let i = 0; i < 6; i++) joining.push(await provision(h, token, mail('g.user')));
    const groupId = await pushGroup(h, token, name, [leaving.id, staying.id]);
    expect((await h.memberByEmail(org, leaving.email))!.role).toBe('admin');

    // Okta and Entra send membership changes for one group concurrently.
    const results = await Promise.all([
      removeMember(h, token, groupId, leaving.id),
      ...joining.map((u) => addMember(h, token, groupId, u.id)),
      h.scim(token, 'PATCH', `/Groups/${groupId}`, patchBody({ op: 'replace', path: 'displayName', value: `${name} renamed` })),
    ]);
    expect(results.map((r) => r.status)).toEqual(results.map(() => 200));

    const group = (await h.scim(token, 'GET', `/Groups/${groupId}`)).body;
    expect(group.displayName).toBe(`${name} renamed`);
    expect(group.members.map((m: { value: string }) => m.value).sort()).toEqual([staying.id, ...joining.map((u) => u.id)].sort());
    expect(await h.memberByEmail(org, leaving.email)).toMatchObject({ role: 'member', scimBaseRole: null });
    for (const u of [staying, ...joining]) expect((await h.memberByEmail(org, u.email))!.role, u.email).toBe('admin');
  });

  it('owner is granted by a group only when the org allows SCIM to grant owner', async () => {
    const h = roster();
    const { org, owner, token, mail } = await h.newOrgWithToken();
    const name = `Owners ${h.tag()}`;

    await expect(h.domain.scim.mapGroup(owner.actor, org.id, name, 'owner')).rejects.toMatchObject({
      code: 'forbidden',
      message: expect.stringMatching(/owner/i),
    });
    expect(await h.domain.scim.mappings(owner.actor, org.id)).toEqual([]);
    const a = await provision(h, token, mail('g.user'));
    const groupId = await pushGroup(h, token, name, [a.id]);
    expect((await h.memberByEmail(org, a.email))!.role).toBe('member');

    await h.domain.scim.updateSettings(owner.actor, org.id, { allowOwner: true });
    await h.domain.scim.mapGroup(owner.actor, org.id, name, 'owner');
    expect((await h.memberByEmail(org, a.email))!.role).toBe('owner');
    await removeMember(h, token, groupId, a.id);
    expect((await h.memberByEmail(org, a.email))!.role).toBe('member');
  });

  it('turning off "SCIM may grant owner" takes back the owner role SCIM granted, and keeps owners who were owners before', async () => {
    const h = roster();
    const { org, owner, token, mail } = await h.newOrgWithToken();
    const name = `Owners ${h.tag()}`;
    await h.domain.scim.updateSettings(owner.actor, org.id, { allowOwner: true });
    await h.domain.scim.mapGroup(owner.actor, org.id, name, 'owner');
    const granted = await provision(h, token, mail('g.user'));
    const coOwner = await h.member(org, owner.actor, 'owner');
    const linked = await provision(h, token, coOwner.account.email!);
    await pushGroup(h, token, name, [granted.id, linked.id]);
    expect((await h.memberByEmail(org, granted.email))!.role).toBe('owner');

    await h.domain.scim.updateSettings(owner.actor, org.id, { allowOwner: false });
    expect(await h.memberByEmail(org, granted.email)).toMatchObject({ role: 'member', scimBaseRole: null });
    expect((await h.memberByEmail(org, linked.email))!.role).toBe('owner');
    expect((await h.memberByEmail(org, owner.account.email!))!.role).toBe('owner');
  });

  it('the default SCIM role cannot be owner unless SCIM may grant owner, including when owner is turned off', async () => {
    const h = roster();
    const { org, owner } = await h.newOrgWithToken();
    await expect(h.domain.scim.updateSettings(owner.actor, org.id, { defaultRole: 'owner' })).rejects.toMatchObject({ code: 'invalid_input' });
    await h.domain.scim.updateSettings(owner.actor, org.id, { allowOwner: true, defaultRole: 'owner' });
    await expect(h.domain.scim.updateSettings(owner.actor, org.id, { allowOwner: false })).rejects.toMatchObject({
      code: 'invalid_input',
      message: expect.stringMatching(/default SCIM role/),
    });
    expect(await h.count('orgs', `id = '${org.id}' and scim_allow_owner and scim_default_role = 'owner'`)).toBe(1);
    await h.domain.scim.updateSettings(owner.actor, org.id, { allowOwner: false, defaultRole: 'member' });
    expect(await h.count('orgs', `id = '${org.id}' and not scim_allow_owner and scim_default_role = 'member'`)).toBe(1);
  });

  it('only owners map groups and change SCIM settings', async () => {
    const h = roster();
    const { org, owner } = await h.newOrgWithToken();
    const admin = await h.member(org, owner.actor, 'admin');
    await expect(h.domain.scim.mapGroup(admin.actor, org.id, 'Anything', 'member')).rejects.toMatchObject({ code: 'forbidden' });
    await expect(h.domain.scim.updateSettings(admin.actor, org.id, { defaultRole: 'developer' })).rejects.toMatchObject({ code: 'forbidden' });
    await expect(h.domain.scim.updateSettings(owner.actor, org.id, { defaultRole: 'owner' })).rejects.toMatchObject({ code: 'invalid_input' });
    expect(await h.count('scim_pending_mappings', `org_id = '${org.id}'`)).toBe(0);
    expect(await h.count('orgs', `id = '${org.id}' and scim_default_role = 'member'`)).toBe(1);
  });

  it('a mapping made before the group exists waits, then attaches when the IdP creates that group (any case)', async () => {
    const h = roster();
    const { org, owner, token, mail } = await h.newOrgWithToken();
    const name = `Later ${h.tag()}`;
    expect(await h.domain.scim.mapGroup(owner.actor, org.id, name, 'developer')).toEqual({ pending: true, groups: 0 });
    expect(await h.domain.scim.mappings(owner.actor, org.id)).toEqual([{ group: name, role: 'developer', pending: true, members: 0 }]);
    const a = await provision(h, token, mail('g.user'));

    await pushGroup(h, token, name.toUpperCase(), [a.id]);
    expect(await h.domain.scim.mappings(owner.actor, org.id)).toEqual([{ group: name.toUpperCase(), role: 'developer', pending: false, members: 1 }]);
    expect(await h.count('scim_pending_mappings', `org_id = '${org.id}'`)).toBe(0);
    expect((await h.memberByEmail(org, a.email))!.role).toBe('developer');
  });

  it('renaming the group in the IdP keeps its mapping; a new group with the old name gets none', async () => {
    const h = roster();
    const { org, owner, token, mail } = await h.newOrgWithToken();
    const name = `Platform ${h.tag()}`;
    const groupId = await pushGroup(h, token, name);
    await h.domain.scim.mapGroup(owner.actor, org.id, name, 'admin');
    const a = await provision(h, token, mail('g.user'));
    const b = await provision(h, token, mail('g.user'));

    const rename = await h.scim(token, 'PATCH', `/Groups/${groupId}`, patchBody({ op: 'replace', path: 'displayName', value: `${name} Team` }));
    expect(rename.status, rename.text).toBe(200);
    await addMember(h, token, groupId, a.id);
    expect((await h.memberByEmail(org, a.email))!.role).toBe('admin');

    await pushGroup(h, token, name, [b.id]);
    expect((await h.memberByEmail(org, b.email))!.role).toBe('member');
    expect(await h.domain.scim.mappings(owner.actor, org.id)).toEqual([{ group: `${name} Team`, role: 'admin', pending: false, members: 1 }]);
  });

  it('unmapping a group takes back the role it granted', async () => {
    const h = roster();
    const { org, owner, token, mail } = await h.newOrgWithToken();
    const name = `Unmap ${h.tag()}`;
    const a = await provision(h, token, mail('g.user'));
    await pushGroup(h, token, name, [a.id]);
    await h.domain.scim.mapGroup(owner.actor, org.id, name, 'admin');
    expect((await h.memberByEmail(org, a.email))!.role).toBe('admin');
    await h.domain.scim.mapGroup(owner.actor, org.id, name, null);
    expect(await h.memberByEmail(org, a.email)).toMatchObject({ role: 'member', scimBaseRole: null });
    expect(await h.domain.scim.mappings(owner.actor, org.id)).toEqual([]);
  });

  it('DELETE of a user takes them out of their groups', async () => {
    const h = roster();
    const { token, mail } = await h.newOrgWithToken();
    const a = await provision(h, token, mail('g.user'));
    const groupId = await pushGroup(h, token, `Gone ${h.tag()}`, [a.id]);
    expect((await h.scim(token, 'DELETE', `/Users/${a.id}`)).status).toBe(204);
    expect((await h.scim(token, 'GET', `/Groups/${groupId}`)).body.members ?? []).toEqual([]);
  });
});
