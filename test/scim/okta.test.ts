import { describe, expect, it } from 'vitest';
import { accountActor } from '../../src/domain/context.js';
import { GROUP_SCHEMA, LIST_SCHEMA, PATCH_SCHEMA, USER_SCHEMA, q, useScimRoster } from '../helpers/scim.js';

/**
 * Okta's provisioning conversation, request by request as Okta's "SCIM 2.0 protocol reference" shows it
 * (test connection, look-up by userName with startIndex/count, create, read, PUT update, PATCH
 * deactivate/reactivate, Group Push with PATCH member add/remove and PUT), with Roster's own state
 * checked after every step.
 */
const roster = useScimRoster();

describe('Okta', () => {
  it('provisions, updates, pushes groups, deactivates, reactivates and deprovisions a user the way Okta does', async () => {
    const h = roster();
    // The org has verified its people's domain, so its IdP grants access at once (SPEC §10).
    const { org, owner, token } = await h.newOrgWithToken('Okta Co', { domains: ['okta.local'] });
    // The owner maps the Okta group before Okta pushes it (the mapping waits for the group).
    const mapped = await h.domain.scim.mapGroup(owner.actor, org.id, 'Roster Admins', 'admin');
    expect(mapped.pending).toBe(true);

    // 1. "Test connection": Okta lists users (count=2) and groups (count=100).
    const testUsers = await h.scim(token, 'GET', '/Users?startIndex=1&count=2');
    expect(testUsers.status).toBe(200);
    expect(testUsers.body).toMatchObject({ schemas: [LIST_SCHEMA], totalResults: 0, startIndex: 1, itemsPerPage: 0, Resources: [] });
    const testGroups = await h.scim(token, 'GET', '/Groups?startIndex=1&count=100');
    expect(testGroups.status).toBe(200);
    expect(testGroups.body.totalResults).toBe(0);

    // 2. Assignment: Okta looks the user up by userName first; nobody yet.
    const userName = `test.user.${h.tag()}@okta.local`;
    const lookup = await h.scim(token, 'GET', `/Users?filter=${q(`userName eq "${userName}"`)}&startIndex=1&count=100`);
    expect(lookup.status).toBe(200);
    expect(lookup.body.totalResults).toBe(0);
    expect(await h.memberByEmail(org, userName)).toBeUndefined();

    // 3. Create: Okta's body (with password, locale and an empty groups list).
    const created = await h.scim(token, 'POST', '/Users', {
      schemas: [USER_SCHEMA],
      userName,
      name: { givenName: 'Test', familyName: 'User' },
      emails: [{ primary: true, value: userName, type: 'work' }],
      displayName: 'Test User',
      locale: 'en-US',
      externalId: '00ujl29u0le5T6Aj10h7',
      groups: [],
      password: '1mz050nq',
      active: true,
    });
    expect(created.status, created.text).toBe(201);
    expect(created.body).toMatchObject({ userName, active: true, externalId: '00ujl29u0le5T6Aj10h7' });
    expect(created.body).not.toHaveProperty('password');
    const id: string = created.body.id;
    expect(created.headers.get('content-type')).toMatch(/application\/scim\+json/);
    let m = await h.memberByEmail(org, userName);
    expect(m).toMatchObject({ role: 'member', status: 'active', source: 'scim' });
    const person = accountActor(m!.accountId, 'api');
    await expect(h.domain.members.list(person, org.id)).resolves.toHaveLength(2);

    // 4. The same look-up now finds exactly that user, whatever the case Okta sends.
    const found = await h.scim(token, 'GET', `/Users?filter=${q(`userName eq "${userName.toUpperCase()}"`)}&startIndex=1&count=100`);
    expect(found.status).toBe(200);
    expect(found.body.totalResults).toBe(1);
    expect(found.body.Resources.map((r: { id: string }) => r.id)).toEqual([id]);

    // 5. Read by id.
    const read = await h.scim(token, 'GET', `/Users/${id}`);
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ id, userName, name: { givenName: 'Test', familyName: 'User' } });

    // 6. Profile update: Okta PUTs the whole user back.
    const put = await h.scim(token, 'PUT', `/Users/${id}`, {
      ...read.body,
      schemas: [USER_SCHEMA],
      name: { givenName: 'Testy', familyName: 'User' },
      active: true,
    });
    expect(put.status, put.text).toBe(200);
    expect(put.body.name).toMatchObject({ givenName: 'Testy', familyName: 'User' });
    expect((await h.scim(token, 'GET', `/Users/${id}`)).body.name.givenName).toBe('Testy');
    expect(await h.memberByEmail(org, userName)).toMatchObject({ role: 'member', status: 'active' });

    // 7. Group Push: Okta creates the group, empty, then PATCHes members in.
    const group = await h.scim(token, 'POST', '/Groups', { schemas: [GROUP_SCHEMA], displayName: 'Roster Admins', members: [] });
    expect(group.status, group.text).toBe(201);
    const groupId: string = group.body.id;
    expect(await h.domain.scim.mappings(owner.actor, org.id)).toContainEqual({ group: 'Roster Admins', role: 'admin', pending: false, members: 0 });
    expect((await h.memberByEmail(org, userName))!.role).toBe('member');

    const add = await h.scim(token, 'PATCH', `/Groups/${groupId}`, {
      schemas: [PATCH_SCHEMA],
      Operations: [{ op: 'add', path: 'members', value: [{ value: id, display: userName }] }],
    });
    expect(add.status, add.text).toBe(200);
    expect(add.body.members.map((x: { value: string }) => x.value)).toEqual([id]);
    m = await h.memberByEmail(org, userName);
    expect(m).toMatchObject({ role: 'admin', status: 'active', scimBaseRole: 'member' });
    expect((await h.scim(token, 'GET', `/Users/${id}`)).body.groups).toEqual([{ value: groupId, display: 'Roster Admins', type: 'direct' }]);

    // 8. Okta renames the group with a PATCH replace, then PUTs it whole: the mapping stays with the group.
    const rename = await h.scim(token, 'PATCH', `/Groups/${groupId}`, {
      schemas: [PATCH_SCHEMA],
      Operations: [{ op: 'replace', value: { id: groupId, displayName: 'Roster Administrators' } }],
    });
    expect(rename.status, rename.text).toBe(200);
    expect(rename.body.displayName).toBe('Roster Administrators');
    const putGroup = await h.scim(token, 'PUT', `/Groups/${groupId}`, {
      schemas: [GROUP_SCHEMA],
      id: groupId,
      displayName: 'Roster Administrators',
      members: [{ value: id, display: userName }],
    });
    expect(putGroup.status, putGroup.text).toBe(200);
    expect((await h.memberByEmail(org, userName))!.role).toBe('admin');

    // 9. Unassigned from the group: Okta removes the member by value path; the role goes back.
    const remove = await h.scim(token, 'PATCH', `/Groups/${groupId}`, {
      schemas: [PATCH_SCHEMA],
      Operations: [{ op: 'remove', path: `members[value eq "${id}"]` }],
    });
    expect(remove.status, remove.text).toBe(200);
    expect(remove.body.members ?? []).toEqual([]);
    expect(await h.memberByEmail(org, userName)).toMatchObject({ role: 'member', scimBaseRole: null });

    // 10. Deactivation: PATCH replace with a path-less value object. The member stays listed, suspended, and can do nothing.
    const deactivate = await h.scim(token, 'PATCH', `/Users/${id}`, {
      schemas: [PATCH_SCHEMA],
      Operations: [{ op: 'replace', value: { active: false } }],
    });
    expect(deactivate.status, deactivate.text).toBe(200);
    expect(deactivate.body.active).toBe(false);
    expect(await h.memberByEmail(org, userName)).toMatchObject({ status: 'suspended', role: 'member' });
    await expect(h.domain.members.list(person, org.id)).rejects.toMatchObject({ code: 'forbidden' });
    const inactive = await h.scim(token, 'GET', `/Users?filter=${q(`userName eq "${userName}"`)}&startIndex=1&count=100`);
    expect(inactive.body.Resources[0]).toMatchObject({ id, active: false });

    // 11. Reactivation restores access at once.
    const reactivate = await h.scim(token, 'PATCH', `/Users/${id}`, {
      schemas: [PATCH_SCHEMA],
      Operations: [{ op: 'replace', value: { active: true } }],
    });
    expect(reactivate.status, reactivate.text).toBe(200);
    expect(await h.memberByEmail(org, userName)).toMatchObject({ status: 'active', role: 'member' });
    await expect(h.domain.members.list(person, org.id)).resolves.toHaveLength(2);

    // 12. Deprovisioning by DELETE removes the membership SCIM created.
    const del = await h.scim(token, 'DELETE', `/Users/${id}`);
    expect(del.status).toBe(204);
    expect(await h.memberByEmail(org, userName)).toBeUndefined();
    await expect(h.domain.members.list(person, org.id)).rejects.toMatchObject({ code: 'not_a_member' });
    expect((await h.scim(token, 'GET', `/Users/${id}`)).status).toBe(404);
    expect((await h.scim(token, 'GET', `/Users?filter=${q(`userName eq "${userName}"`)}&startIndex=1&count=100`)).body.totalResults).toBe(0);

    // 13. Group Push stopped: the group goes; only the owner is left.
    expect((await h.scim(token, 'DELETE', `/Groups/${groupId}`)).status).toBe(204);
    expect((await h.scim(token, 'GET', `/Groups/${groupId}`)).status).toBe(404);
    expect((await h.members(org)).map((x) => x.role)).toEqual(['owner']);
  });
});
