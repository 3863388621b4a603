import { describe, expect, it } from 'vitest';
import { accountActor } from '../../src/domain/context.js';
import { ENTERPRISE_SCHEMA, GROUP_SCHEMA, PATCH_SCHEMA, USER_SCHEMA, q, useScimRoster } from '../helpers/scim.js';

/**
 * Microsoft Entra ID's provisioning conversation, as its "Develop and plan provisioning for a SCIM
 * endpoint" tutorial shows the requests: look-up by userName, create with the enterprise extension,
 * PATCH with capitalized ops, "True"/"False" strings and emails[type eq "work"].value paths, groups
 * looked up by displayName with excludedAttributes=members, member Add/Remove, and DELETE.
 */
const roster = useScimRoster();

const ADSCIM_GROUP = 'http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group';

describe('Microsoft Entra ID', () => {
  it('provisions, updates, disables, enables, maps groups and deletes a user the way Entra ID does', async () => {
    const h = roster();
    // The org has verified its tenant's domains, so its IdP grants access at once (SPEC §10).
    const { org, owner, token } = await h.newOrgWithToken('Entra Co', { domains: ['contoso.onmicrosoft.com', 'contoso.com'] });
    const t = h.tag();
    // Entra's userName is the UPN; the work email is a separate attribute.
    const userName = `Test_User_${t}@contoso.onmicrosoft.com`;
    const workEmail = `Test_User_${t}@Contoso.com`;

    // 1. Get user by query: no match yet.
    const none = await h.scim(token, 'GET', `/Users?filter=${q(`userName eq "${userName}"`)}`);
    expect(none.status).toBe(200);
    expect(none.body).toMatchObject({ totalResults: 0, Resources: [] });

    // 2. Create user, with the enterprise extension and Entra's meta/roles.
    const created = await h.scim(token, 'POST', '/Users', {
      schemas: [USER_SCHEMA, ENTERPRISE_SCHEMA],
      externalId: `0a21f0f2-8d2a-4f8e-bf98-${t}abcd`,
      userName,
      active: true,
      emails: [{ primary: true, type: 'work', value: workEmail }],
      meta: { resourceType: 'User' },
      name: { formatted: 'givenName familyName', familyName: 'familyName', givenName: 'givenName' },
      roles: [],
      [ENTERPRISE_SCHEMA]: { department: 'Sales', employeeNumber: '1001', manager: { value: 'someone' } },
    });
    expect(created.status, created.text).toBe(201);
    const id: string = created.body.id;
    expect(created.body).toMatchObject({ userName, active: true, emails: [{ value: workEmail, type: 'work', primary: true }] });
    // Roster keys the account by the work email, and gives the org's default SCIM role.
    const m = await h.memberByEmail(org, workEmail);
    expect(m).toMatchObject({ role: 'member', status: 'active', source: 'scim' });
    const person = accountActor(m!.accountId, 'api');

    // 3. Entra's look-ups: by userName (any case), by externalId, and by work email.
    for (const filter of [
      `userName eq "${userName.toLowerCase()}"`,
      `externalId eq "0a21f0f2-8d2a-4f8e-bf98-${t}abcd"`,
      `emails[type eq "work"].value eq "${workEmail.toUpperCase()}"`,
    ]) {
      const r = await h.scim(token, 'GET', `/Users?filter=${q(filter)}`);
      expect(r.status, `${filter}: ${r.text}`).toBe(200);
      expect(r.body.totalResults, filter).toBe(1);
      expect(r.body.Resources[0].id, filter).toBe(id);
    }

    // 4. Update user [multi-valued properties]: "Replace" on a value path and a sub-attribute.
    const newEmail = `renamed.${t}@contoso.com`;
    const multi = await h.scim(token, 'PATCH', `/Users/${id}`, {
      schemas: [PATCH_SCHEMA],
      Operations: [
        { op: 'Replace', path: 'emails[type eq "work"].value', value: newEmail },
        { op: 'Replace', path: 'name.familyName', value: 'updatedFamilyName' },
      ],
    });
    expect(multi.status, multi.text).toBe(200);
    expect(multi.body.emails).toEqual([{ value: newEmail, type: 'work', primary: true }]);
    expect(multi.body.name.familyName).toBe('updatedFamilyName');
    const byNewEmail = await h.scim(token, 'GET', `/Users?filter=${q(`emails[type eq "work"].value eq "${newEmail}"`)}`);
    expect(byNewEmail.body.Resources.map((r: { id: string }) => r.id)).toEqual([id]);

    // 5. Update user [single-valued]: "Add" of an attribute that was not set, and an extension attribute.
    const single = await h.scim(token, 'PATCH', `/Users/${id}`, {
      schemas: [PATCH_SCHEMA],
      Operations: [
        { op: 'Add', path: 'displayName', value: 'Test User' },
        { op: 'Replace', path: `${ENTERPRISE_SCHEMA}:department`, value: 'Marketing' },
      ],
    });
    expect(single.status, single.text).toBe(200);
    expect(single.body.displayName).toBe('Test User');

    // 6. Disable user: Entra's "False" string. Suspended, still listed, no access.
    const disable = await h.scim(token, 'PATCH', `/Users/${id}`, {
      schemas: [PATCH_SCHEMA],
      Operations: [{ op: 'Replace', path: 'active', value: 'False' }],
    });
    expect(disable.status, disable.text).toBe(200);
    expect(disable.body.active).toBe(false);
    expect(await h.memberByEmail(org, workEmail)).toMatchObject({ status: 'suspended' });
    await expect(h.domain.members.list(person, org.id)).rejects.toMatchObject({ code: 'forbidden' });
    expect((await h.scim(token, 'GET', `/Users?filter=${q('active eq false')}`)).body.Resources.map((r: { id: string }) => r.id)).toEqual([id]);

    // 7. Enable user: "True" in a path-less value object.
    const enable = await h.scim(token, 'PATCH', `/Users/${id}`, {
      schemas: [PATCH_SCHEMA],
      Operations: [{ op: 'Replace', value: { active: 'True' } }],
    });
    expect(enable.status, enable.text).toBe(200);
    expect(enable.body.active).toBe(true);
    expect(await h.memberByEmail(org, workEmail)).toMatchObject({ status: 'active' });
    await expect(h.domain.members.list(person, org.id)).resolves.toHaveLength(2);

    // 8. Create group (Entra adds its ADSCIM schema), then look it up by displayName without members.
    const groupName = `Roster Developers ${t}`;
    const group = await h.scim(token, 'POST', '/Groups', {
      schemas: [GROUP_SCHEMA, ADSCIM_GROUP],
      externalId: `8aa1a0c0-c4c3-4bc0-b4a5-${t}dcba`,
      displayName: groupName,
      meta: { resourceType: 'Group' },
    });
    expect(group.status, group.text).toBe(201);
    const groupId: string = group.body.id;
    const byName = await h.scim(token, 'GET', `/Groups?excludedAttributes=members&filter=${q(`displayName eq "${groupName}"`)}`);
    expect(byName.status, byName.text).toBe(200);
    expect(byName.body.totalResults).toBe(1);
    expect(byName.body.Resources[0]).toMatchObject({ id: groupId, displayName: groupName });
    expect(byName.body.Resources[0]).not.toHaveProperty('members');
    const oneGroup = await h.scim(token, 'GET', `/Groups/${groupId}?excludedAttributes=members`);
    expect(oneGroup.status).toBe(200);
    expect(oneGroup.body).not.toHaveProperty('members');

    // The owner maps the group (it exists now, so the mapping attaches at once).
    expect(await h.domain.scim.mapGroup(owner.actor, org.id, groupName, 'developer')).toEqual({ pending: false, groups: 1 });

    // 9. Update group [add members]: "Add" with Entra's $ref null.
    const add = await h.scim(token, 'PATCH', `/Groups/${groupId}`, {
      schemas: [PATCH_SCHEMA],
      Operations: [{ op: 'Add', path: 'members', value: [{ $ref: null, value: id }] }],
    });
    expect(add.status, add.text).toBe(200);
    expect(await h.memberByEmail(org, workEmail)).toMatchObject({ role: 'developer', scimBaseRole: 'member' });

    // 10. Update group [non-member attributes]: a rename keeps the mapping.
    const rename = await h.scim(token, 'PATCH', `/Groups/${groupId}`, {
      schemas: [PATCH_SCHEMA],
      Operations: [{ op: 'Replace', path: 'displayName', value: `${groupName} (renamed)` }],
    });
    expect(rename.status, rename.text).toBe(200);
    expect(rename.body.displayName).toBe(`${groupName} (renamed)`);
    expect((await h.memberByEmail(org, workEmail))!.role).toBe('developer');

    // 11. Update group [remove members]: "Remove" with a value list; the role goes back.
    const remove = await h.scim(token, 'PATCH', `/Groups/${groupId}`, {
      schemas: [PATCH_SCHEMA],
      Operations: [{ op: 'Remove', path: 'members', value: [{ $ref: null, value: id }] }],
    });
    expect(remove.status, remove.text).toBe(200);
    expect(await h.memberByEmail(org, workEmail)).toMatchObject({ role: 'member', scimBaseRole: null });

    // Added again, then removed by a value-path filter.
    await h.scim(token, 'PATCH', `/Groups/${groupId}`, { schemas: [PATCH_SCHEMA], Operations: [{ op: 'Add', path: 'members', value: [{ value: id }] }] });
    expect((await h.memberByEmail(org, workEmail))!.role).toBe('developer');
    const removeByPath = await h.scim(token, 'PATCH', `/Groups/${groupId}`, {
      schemas: [PATCH_SCHEMA],
      Operations: [{ op: 'Remove', path: `members[value eq "${id}"]` }],
    });
    expect(removeByPath.status, removeByPath.text).toBe(200);
    expect((await h.memberByEmail(org, workEmail))!.role).toBe('member');

    // 12. Delete user: the membership SCIM created is gone, and so is access.
    const del = await h.scim(token, 'DELETE', `/Users/${id}`);
    expect(del.status, del.text).toBe(204);
    expect(await h.memberByEmail(org, workEmail)).toBeUndefined();
    await expect(h.domain.members.list(person, org.id)).rejects.toMatchObject({ code: 'not_a_member' });
    expect((await h.scim(token, 'GET', `/Users/${id}`)).status).toBe(404);

    // 13. Delete group.
    expect((await h.scim(token, 'DELETE', `/Groups/${groupId}`)).status).toBe(204);
    expect((await h.scim(token, 'GET', `/Groups?excludedAttributes=members&filter=${q(`displayName eq "${groupName} (renamed)"`)}`)).body.totalResults).toBe(0);
    expect(await h.count('scim_groups', `org_id = '${org.id}'`)).toBe(0);
  });
});
