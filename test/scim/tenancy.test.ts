import { describe, expect, it } from 'vitest';
import { GROUP_SCHEMA, patchBody, q, useScimRoster, userBody, type ScimHarness } from '../helpers/scim.js';

/** A token sees only its org (SPEC §6): the org comes from the token, never from ids or the body. */
const roster = useScimRoster();

async function orgWithData(h: ScimHarness, name: string) {
  const o = await h.newOrgWithToken(name);
  const email = o.mail(`${name.toLowerCase()}.user`);
  const user = await h.scim(o.token, 'POST', '/Users', userBody(email, { externalId: `${name}-ext` }));
  expect(user.status, user.text).toBe(201);
  const groupName = `${name} Admins ${h.tag()}`;
  await h.domain.scim.mapGroup(o.owner.actor, o.org.id, groupName, 'admin');
  const group = await h.scim(o.token, 'POST', '/Groups', { schemas: [GROUP_SCHEMA], displayName: groupName, members: [{ value: user.body.id }] });
  expect(group.status, group.text).toBe(201);
  return { ...o, email, userId: user.body.id as string, groupId: group.body.id as string, groupName };
}

async function snapshot(h: ScimHarness, orgId: string) {
  const r = await h.db.pool.query(
    `select (select json_agg(u order by u.id) from scim_users u where u.org_id = $1) as users,
            (select json_agg(g order by g.id) from scim_groups g where g.org_id = $1) as groups,
            (select json_agg(m order by m.group_id, m.scim_user_id) from scim_group_members m join scim_groups g on g.id = m.group_id where g.org_id = $1) as group_members,
            (select json_agg(m order by m.id) from memberships m where m.org_id = $1) as memberships,
            (select count(*)::int from audit_events where org_id = $1) as audit`,
    [orgId],
  );
  return r.rows[0];
}

describe('tenancy', () => {
  it("org A's token never reads org B's users or groups, in lists, filters or by id", async () => {
    const h = roster();
    const a = await orgWithData(h, 'Alpha');
    const b = await orgWithData(h, 'Beta');

    const users = await h.scim(a.token, 'GET', '/Users?count=1000');
    expect(users.body.totalResults).toBe(1);
    expect(users.body.Resources.map((u: { id: string }) => u.id)).toEqual([a.userId]);
    const groups = await h.scim(a.token, 'GET', '/Groups?count=1000');
    expect(groups.body.Resources.map((g: { id: string }) => g.id)).toEqual([a.groupId]);

    for (const filter of [
      `userName eq "${b.email}"`,
      `externalId eq "Beta-ext"`,
      `emails[type eq "work"].value eq "${b.email}"`,
      `id eq "${b.userId}"`,
      `userName co "beta"`,
    ]) {
      const r = await h.scim(a.token, 'GET', `/Users?filter=${q(filter)}`);
      expect(r.status).toBe(200);
      expect(r.body.totalResults, filter).toBe(0);
    }
    for (const filter of [`displayName eq "${b.groupName}"`, `id eq "${b.groupId}"`, `members eq "${b.userId}"`]) {
      expect((await h.scim(a.token, 'GET', `/Groups?filter=${q(filter)}`)).body.totalResults, filter).toBe(0);
    }
    expect((await h.scim(a.token, 'GET', `/Users/${b.userId}`)).status).toBe(404);
    expect((await h.scim(a.token, 'GET', `/Groups/${b.groupId}`)).status).toBe(404);
    // And the other way round.
    expect((await h.scim(b.token, 'GET', `/Users/${a.userId}`)).status).toBe(404);
  });

  it("org A's token never changes or deletes org B's users or groups, even by their ids", async () => {
    const h = roster();
    const a = await orgWithData(h, 'Alpha');
    const b = await orgWithData(h, 'Beta');
    const before = await snapshot(h, b.org.id);

    const attempts = [
      h.scim(a.token, 'PUT', `/Users/${b.userId}`, userBody(b.email, { active: false })),
      h.scim(a.token, 'PATCH', `/Users/${b.userId}`, patchBody({ op: 'replace', value: { active: false } })),
      h.scim(a.token, 'DELETE', `/Users/${b.userId}`),
      h.scim(a.token, 'PUT', `/Groups/${b.groupId}`, { schemas: [GROUP_SCHEMA], displayName: 'Taken over', members: [] }),
      h.scim(a.token, 'PATCH', `/Groups/${b.groupId}`, patchBody({ op: 'remove', path: `members[value eq "${b.userId}"]` })),
      h.scim(a.token, 'DELETE', `/Groups/${b.groupId}`),
    ];
    for (const r of await Promise.all(attempts)) {
      expect(r.status, r.text).toBe(404);
    }
    // Nor may A put B's user into A's mapped group.
    const cross = await h.scim(a.token, 'PATCH', `/Groups/${a.groupId}`, patchBody({ op: 'add', path: 'members', value: [{ value: b.userId }] }));
    expect(cross.status, cross.text).toBe(400);

    expect(await snapshot(h, b.org.id)).toEqual(before);
    expect(await h.memberByEmail(b.org, b.email)).toMatchObject({ role: 'admin', status: 'active' });
  });

  it('a body naming another org, or ids and meta of another resource, is ignored: the token decides', async () => {
    const h = roster();
    const a = await h.newOrgWithToken('Alpha');
    const b = await orgWithData(h, 'Beta');
    const before = await snapshot(h, b.org.id);
    const email = a.mail('wanderer');

    const r = await h.scim(a.token, 'POST', '/Users', {
      ...userBody(email),
      id: b.userId,
      orgId: b.org.id,
      organization: b.org.slug,
      meta: { resourceType: 'User', location: `https://roster.test/scim/v2/Users/${b.userId}` },
      'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': { organization: b.org.id },
    });
    expect(r.status, r.text).toBe(201);
    expect(r.body.id).not.toBe(b.userId);
    expect(await h.memberByEmail(a.org, email)).toMatchObject({ source: 'scim', status: 'active' });
    expect(await h.memberByEmail(b.org, email)).toBeUndefined();
    expect(await snapshot(h, b.org.id)).toEqual(before);

    // A group body naming B's org lands in A.
    const g = await h.scim(a.token, 'POST', '/Groups', { schemas: [GROUP_SCHEMA], displayName: b.groupName, orgId: b.org.id, members: [{ value: r.body.id }] });
    expect(g.status, g.text).toBe(201);
    expect(await h.count('scim_groups', `id = '${g.body.id}' and org_id = '${a.org.id}'`)).toBe(1);
    // B's mapping for that name does not reach into A.
    expect((await h.memberByEmail(a.org, email))!.role).toBe('member');
    expect(await snapshot(h, b.org.id)).toEqual(before);
  });

  it('one person provisioned by two orgs: active where the domain is verified, pending consent in the other', async () => {
    const h = roster();
    const a = await h.newOrgWithToken('Alpha');
    const b = await h.newOrgWithToken('Beta');
    // One domain is verified by one org only: the address is Alpha's, so Beta's IdP only asks the person.
    const email = a.mail('shared');
    const inA = await h.scim(a.token, 'POST', '/Users', userBody(email));
    const inB = await h.scim(b.token, 'POST', '/Users', userBody(email.toUpperCase()));
    expect(inA.status).toBe(201);
    expect(inB.status).toBe(201);
    expect(await h.count('accounts', `lower(email) = lower('${email}')`)).toBe(1);
    expect((await h.memberByEmail(a.org, email))!.status).toBe('active');
    expect(await h.memberByEmail(b.org, email)).toMatchObject({ status: 'pending', source: 'scim' });

    await h.scim(a.token, 'PATCH', `/Users/${inA.body.id}`, patchBody({ op: 'replace', value: { active: false } }));
    expect((await h.memberByEmail(a.org, email))!.status).toBe('suspended');
    expect((await h.memberByEmail(b.org, email))!.status).toBe('pending');

    expect((await h.scim(a.token, 'DELETE', `/Users/${inA.body.id}`)).status).toBe(204);
    expect(await h.memberByEmail(a.org, email)).toBeUndefined();
    expect(await h.memberByEmail(b.org, email)).toMatchObject({ status: 'pending', source: 'scim' });
    expect((await h.scim(b.token, 'GET', `/Users/${inB.body.id}`)).status).toBe(200);
  });

  it('the same userName may exist in two orgs; uniqueness is per org', async () => {
    const h = roster();
    const a = await h.newOrgWithToken('Alpha');
    const b = await h.newOrgWithToken('Beta');
    const userName = `same.${h.tag()}`;
    const inA = await h.scim(a.token, 'POST', '/Users', userBody(userName, { emails: [{ value: a.mail(userName), type: 'work', primary: true }] }));
    const inB = await h.scim(b.token, 'POST', '/Users', userBody(userName, { emails: [{ value: b.mail(userName), type: 'work', primary: true }] }));
    expect(inA.status, inA.text).toBe(201);
    expect(inB.status, inB.text).toBe(201);
    expect((await h.scim(a.token, 'GET', `/Users?filter=${q(`userName eq "${userName}"`)}`)).body.Resources.map((u: { id: string }) => u.id)).toEqual([
      inA.body.id,
    ]);
  });
});
