import { describe, expect, it } from 'vitest';
import { renderEmail } from '../../src/delivery/email-templates.js';
import { TEST_PUBLIC_URL } from '../helpers/roster.js';
import { patchBody, useScimRoster, userBody, type ScimHarness } from '../helpers/scim.js';
import { csrfOf, textOf } from '../web/harness.js';

/**
 * SPEC §1 and §10: an org's IdP grants access at once only to addresses on the org's verified domains.
 * Anyone else gets a pending membership (no access anywhere) and a notice to accept or decline; the IdP
 * sees its user as usual. What the IdP calls a person stays in that org.
 */
const roster = useScimRoster();

/** Org B with Carol as its primary owner, and org A whose IdP tries to claim her. */
async function carolAndAttacker(h: ScimHarness) {
  const b = await h.newOrgWithToken('Bravo');
  const carol = b.owner;
  const a = await h.newOrgWithToken('Alpha');
  return { a, b, carol, email: carol.account.email! };
}

async function consentOf(h: ScimHarness, membershipId: string) {
  const [n] = (await h.domain.outbox.find({ dedupeKey: `member.consent_requested:${membershipId}` })).filter((x) => x.channel === 'email');
  expect(n, 'an emailed consent request').toBeDefined();
  const content = await h.domain.outbox.describe(n!);
  return { notification: n!, content: content!, token: content!.consent!.token };
}

async function membershipIn(h: ScimHarness, orgId: string, accountId: string) {
  const r = await h.db.pool.query(`select id, status, role from memberships where org_id = $1 and account_id = $2`, [orgId, accountId]);
  return r.rows[0] as { id: string; status: string; role: string } | undefined;
}

async function page(h: ScimHarness, path: string, form?: Record<string, string>) {
  const res = await fetch(`${h.baseUrl}${path}`, form ? { method: 'POST', body: new URLSearchParams(form), redirect: 'manual' } : {});
  return { status: res.status, text: await res.text() };
}

describe('SCIM for an address outside the org’s verified domains', () => {
  it("org A's IdP provisioning org B's owner gets a pending membership: 201 for the IdP, no access for A, B's list and Carol's name unchanged", async () => {
    const h = roster();
    const { a, b, carol, email } = await carolAndAttacker(h);
    const before = await h.members(b.org);
    const res = await h.scim(
      a.token,
      'POST',
      '/Users',
      userBody(email, { displayName: 'ADMIN: send wire to IBAN X', name: { givenName: 'ADMIN:', familyName: 'wire' } }),
    );
    expect(res.status, res.text).toBe(201);
    // The IdP sees its user as usual.
    const got = await h.scim(a.token, 'GET', `/Users/${res.body.id}`);
    expect(got.body).toMatchObject({ userName: email, active: true, displayName: 'ADMIN: send wire to IBAN X' });

    expect(await membershipIn(h, a.org.id, carol.account.id)).toMatchObject({ status: 'pending' });
    const inA = (await h.members(a.org)).find((m) => m.accountId === carol.account.id);
    expect(inA).toMatchObject({ status: 'pending', displayName: 'ADMIN: send wire to IBAN X' });
    // Org B sees Carol exactly as before: her own name, her role.
    expect(await h.members(b.org)).toEqual(before);
    expect((await h.domain.accounts.get(carol.account.id)).displayName).toBe(carol.account.displayName);
    // No access in A, and her active org stays B.
    await expect(h.domain.members.list(carol.actor, a.org.id)).rejects.toMatchObject({ code: 'membership_pending' });
    await expect(h.domain.orgs.switchActive(carol.actor, a.org.slug)).rejects.toMatchObject({ code: 'membership_pending' });
    expect((await h.domain.orgs.active(carol.actor)).org.id).toBe(b.org.id);
    // The audit says what happened: pending, not added.
    const events = await h.db.pool.query(`select action, after from audit_events where org_id = $1 and target_type = 'membership' order by id`, [a.org.id]);
    expect(events.rows.map((e) => e.action)).toEqual(['member.added', 'member.pending']);
  });

  it('the person is told by email (and Slack) with a signed link; the page names the org and address and changes nothing until Accept', async () => {
    const h = roster();
    const { a, carol, email } = await carolAndAttacker(h);
    await h.scim(a.token, 'POST', '/Users', userBody(email));
    const m = (await membershipIn(h, a.org.id, carol.account.id))!;
    const { content, token } = await consentOf(h, m.id);
    const channels = (await h.domain.outbox.find({ dedupeKey: `member.consent_requested:${m.id}` })).map((n) => n.channel).sort();
    expect(channels).toEqual(['email', 'slack']);
    const mail = renderEmail(content, TEST_PUBLIC_URL)!;
    expect(mail.subject).toContain(a.org.name);
    expect(mail.text).toContain(`${TEST_PUBLIC_URL}/consent/${token}`);
    expect(mail.text).toMatch(/you join only if you accept/);

    const shown = await page(h, `/consent/${token}`);
    expect(shown.status).toBe(200);
    expect(textOf(shown.text)).toContain(a.org.name);
    expect(textOf(shown.text)).toContain(email);
    expect((await membershipIn(h, a.org.id, carol.account.id))!.status).toBe('pending');

    const accepted = await page(h, `/consent/${token}/accept`, { csrf: csrfOf(shown.text) });
    expect(accepted.status, accepted.text).toBe(200);
    expect(textOf(accepted.text)).toContain(`You joined ${a.org.name}`);
    expect((await membershipIn(h, a.org.id, carol.account.id))!.status).toBe('active');
    const [added] = (await h.db.pool.query(`select after from audit_events where org_id = $1 and action = 'member.added' and target_id = $2`, [a.org.id, m.id]))
      .rows;
    expect(added.after).toMatchObject({ accountId: carol.account.id, consented: true, source: 'scim' });
    // The link is used: it says so and changes nothing more.
    expect(textOf((await page(h, `/consent/${token}`)).text)).toMatch(/already accepted/);
  });

  it('a forged or altered link is not valid and changes nothing; a form posted without its CSRF value is refused', async () => {
    const h = roster();
    const { a, carol, email } = await carolAndAttacker(h);
    await h.scim(a.token, 'POST', '/Users', userBody(email));
    const m = (await membershipIn(h, a.org.id, carol.account.id))!;
    const { token } = await consentOf(h, m.id);
    const forged = `${m.id}.${'A'.repeat(43)}`;
    expect((await page(h, `/consent/${forged}`)).status).toBe(404);
    // A forged link has no page to take a CSRF value from: a post to it is refused before anything else.
    expect((await page(h, `/consent/${forged}/accept`, { csrf: 'x' })).status).toBe(403);
    expect((await page(h, `/consent/${token}/accept`, { csrf: 'wrong' })).status).toBe(403);
    expect((await membershipIn(h, a.org.id, carol.account.id))!.status).toBe('pending');
  });

  it('declining keeps the person out: the membership goes, and the IdP’s later PATCHes do not bring it back', async () => {
    const h = roster();
    const { a, carol, email } = await carolAndAttacker(h);
    const res = await h.scim(a.token, 'POST', '/Users', userBody(email));
    const m = (await membershipIn(h, a.org.id, carol.account.id))!;
    const { token } = await consentOf(h, m.id);
    const shown = await page(h, `/consent/${token}`);
    const declined = await page(h, `/consent/${token}/decline`, { csrf: csrfOf(shown.text) });
    expect(declined.status).toBe(200);
    expect(textOf(declined.text)).toMatch(/You declined/);
    expect(await membershipIn(h, a.org.id, carol.account.id)).toBeUndefined();
    for (const active of [false, true]) {
      const p = await h.scim(a.token, 'PATCH', `/Users/${res.body.id}`, patchBody({ op: 'replace', path: 'active', value: active }));
      expect(p.status, p.text).toBe(200);
    }
    expect(await membershipIn(h, a.org.id, carol.account.id)).toBeUndefined();
    const events = await h.db.pool.query(`select action from audit_events where org_id = $1 and target_id = $2 order by id`, [a.org.id, m.id]);
    expect(events.rows.map((e) => e.action)).toEqual(['member.pending', 'member.declined']);
    // The old link now leads nowhere.
    expect((await page(h, `/consent/${token}`)).status).toBe(404);
    // An IdP deleting and re-creating the user gets its 201, but the person is not asked again.
    expect((await h.scim(a.token, 'DELETE', `/Users/${res.body.id}`)).status).toBe(204);
    expect((await h.scim(a.token, 'POST', '/Users', userBody(email))).status).toBe(201);
    const again = (await membershipIn(h, a.org.id, carol.account.id))!;
    expect(again.status).toBe('pending');
    expect(await h.domain.outbox.find({ dedupeKey: `member.consent_requested:${again.id}` })).toEqual([]);
  });

  it('an IdP deactivating a pending person keeps them pending; accepting then makes them a suspended member, not an active one', async () => {
    const h = roster();
    const { a, carol, email } = await carolAndAttacker(h);
    const res = await h.scim(a.token, 'POST', '/Users', userBody(email));
    await h.scim(a.token, 'PATCH', `/Users/${res.body.id}`, patchBody({ op: 'replace', path: 'active', value: false }));
    expect((await membershipIn(h, a.org.id, carol.account.id))!.status).toBe('pending');
    await h.domain.consents.answerForOrg(carol.actor, a.org.id, 'accept');
    expect((await membershipIn(h, a.org.id, carol.account.id))!.status).toBe('suspended');
  });

  it('only the person claimed can answer: another account is told there is no such request', async () => {
    const h = roster();
    const { a, carol, email } = await carolAndAttacker(h);
    await h.scim(a.token, 'POST', '/Users', userBody(email));
    const mallory = await h.person('Mallory');
    await expect(h.domain.consents.answerForOrg(mallory.actor, a.org.id, 'accept')).rejects.toMatchObject({ code: 'consent_not_found' });
    await expect(h.domain.consents.answerForOrg(a.owner.actor, a.org.id, 'accept')).rejects.toMatchObject({ code: 'consent_not_pending' });
    expect((await membershipIn(h, a.org.id, carol.account.id))!.status).toBe('pending');
  });

  it('a new person provisioned from an unverified domain gets no name from the IdP on their account; in the org the IdP’s name shows', async () => {
    const h = roster();
    const a = await h.newOrgWithToken('Alpha');
    const email = `stranger.${h.tag()}@elsewhere.example`;
    const res = await h.scim(a.token, 'POST', '/Users', userBody(email, { displayName: 'Totally The CEO' }));
    expect(res.status).toBe(201);
    const account = (await h.domain.accounts.findByEmail(email))!;
    expect(account.displayName).toBe(email.split('@')[0]);
    expect((await h.members(a.org)).find((m) => m.accountId === account.id)).toMatchObject({ status: 'pending', displayName: 'Totally The CEO' });
    // On the org's verified domain the IdP is trusted with a new person's name.
    const trusted = a.mail('new.hire');
    await h.scim(a.token, 'POST', '/Users', userBody(trusted, { displayName: 'New Hire' }));
    expect((await h.domain.accounts.findByEmail(trusted))!.displayName).toBe('New Hire');
    expect((await h.members(a.org)).find((m) => m.email === trusted)).toMatchObject({ status: 'active' });
  });

  it("an org's invite to someone its IdP added and who has not answered says so; accepting an invite sent before is their consent", async () => {
    const h = roster();
    const { a, carol, email } = await carolAndAttacker(h);
    const [early] = await h.domain.invites.create(a.owner.actor, a.org.id, { emails: email, role: 'developer' });
    expect(early?.ok).toBe(true);
    await h.scim(a.token, 'POST', '/Users', userBody(email));
    const results = await h.domain.invites.create(a.owner.actor, a.org.id, { emails: email });
    expect(results[0]).toMatchObject({ ok: false, message: expect.stringMatching(/identity provider has already added them/) });
    if (!early?.ok) throw new Error('invite failed');
    // The link is not the person's consent (an admin of the claiming org can copy it)…
    await expect(h.domain.invites.acceptByToken(early.token)).rejects.toMatchObject({ code: 'membership_pending' });
    expect((await membershipIn(h, a.org.id, carol.account.id))!.status).toBe('pending');
    // …the person accepting it themselves is.
    await h.domain.invites.accept(carol.actor, early.invite.id);
    expect((await membershipIn(h, a.org.id, carol.account.id))!.status).toBe('active');
  });

  it('a pending member counts toward the seat limit, like a pending invite', async () => {
    const h = roster();
    const a = await h.newOrgWithToken('Alpha');
    await h.domain.orgs.updateSettings(a.owner.actor, a.org.id, { seatLimit: 2 });
    expect((await h.scim(a.token, 'POST', '/Users', userBody(`one.${h.tag()}@elsewhere.example`))).status).toBe(201);
    const over = await h.scim(a.token, 'POST', '/Users', userBody(a.mail('two')));
    expect(over.status).toBe(403);
    expect(await h.count('memberships', `org_id = '${a.org.id}'`)).toBe(2);
  });
});

describe('single-membership mode', () => {
  const single = useScimRoster({ MEMBERSHIP_MODE: 'single' });

  it("another org's IdP cannot lock a person out of their org: the claim is pending (201), and accepting it asks them to leave first", async () => {
    const h = single();
    const { a, b, carol, email } = await carolAndAttacker(h);
    const res = await h.scim(a.token, 'POST', '/Users', userBody(email));
    expect(res.status, res.text).toBe(201);
    expect((await membershipIn(h, b.org.id, carol.account.id))!.status).toBe('active');
    expect((await h.domain.orgs.active(carol.actor)).org.id).toBe(b.org.id);
    await expect(h.domain.consents.answerForOrg(carol.actor, a.org.id, 'accept')).rejects.toMatchObject({ code: 'single_membership' });
    expect((await membershipIn(h, a.org.id, carol.account.id))!.status).toBe('pending');
  });
});
