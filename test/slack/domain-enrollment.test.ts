import { describe, expect, it } from 'vitest';
import { verifiedDomainForTest } from '../helpers/fixtures.js';
import { countRows, homeClick, openHome, orgOwnedBy, slackPerson, uniq, useSlackRoster, type SlackHarness } from '../helpers/slack.js';

/**
 * SPEC §10 enrollment: a Slack user whose Slack-confirmed email is on an org's verified domain joins it
 * by themselves (auto-join, never above the domain's role) or is offered to ask (suggest). Nothing of
 * the kind for an unverified domain or an email Slack does not vouch for.
 */
const harness = useSlackRoster();

const text = (view: any) => JSON.stringify(view.blocks);

/** An org (owned by a Slack person) that has verified a fresh domain, with the enrollment mode set. */
async function orgWithDomain(h: SlackHarness, mode: 'auto_join' | 'suggest', role?: string) {
  const owner = await slackPerson(h, 'Olga');
  const org = await orgOwnedBy(h, owner, 'Enroll');
  const domain = `enroll-${uniq()}.example.com`;
  await verifiedDomainForTest(h.db, org.id, domain);
  await h.domain.domains.setEnrollment(owner.actor, org.id, domain, mode, role);
  return { owner, org, domain };
}

const memberOf = (h: SlackHarness, orgId: string, email: string) =>
  h.db.pool
    .query(`select m.role, m.status, m.source from memberships m join accounts a on a.id = m.account_id where m.org_id = $1 and lower(a.email) = lower($2)`, [
      orgId,
      email,
    ])
    .then((r) => r.rows[0]);

describe('enrollment by verified domain', () => {
  it('auto-join: a person with a confirmed email on the domain joins with the domain’s role when they open App Home, and is told', async () => {
    const h = harness();
    const { org, domain } = await orgWithDomain(h, 'auto_join', 'developer');
    const email = `dana.${uniq()}@${domain}`;
    const dana = h.slack.addUser('Dana', email);
    const view = await openHome(h, dana);
    expect(text(view)).toContain(`You joined *${org.name}* as Developer: your address is on ${domain}`);
    expect(await memberOf(h, org.id, email)).toEqual({ role: 'developer', status: 'active', source: 'domain' });
    const [added] = (
      await h.db.pool.query(`select actor_label, after from audit_events where org_id = $1 and action = 'member.added' and after->>'source' = 'domain'`, [
        org.id,
      ])
    ).rows;
    expect(added.actor_label).toContain(email);
  });

  it('someone removed after joining by domain is not added back the next time they open App Home', async () => {
    const h = harness();
    const { owner, org, domain } = await orgWithDomain(h, 'auto_join');
    const email = `once.${uniq()}@${domain}`;
    const once = h.slack.addUser('Once', email);
    await openHome(h, once);
    const account = (await h.domain.accounts.findByEmail(email))!;
    await h.domain.members.remove(owner.actor, org.id, account.id);
    await openHome(h, once);
    expect(await memberOf(h, org.id, email)).toBeUndefined();
  });

  it('someone who joined by invite and was removed is not added back by their domain', async () => {
    const h = harness();
    const { owner, org, domain } = await orgWithDomain(h, 'auto_join');
    const email = `ex.${uniq()}@${domain}`;
    const ex = h.slack.addUser('Ex', email);
    const [r] = await h.domain.invites.create(owner.actor, org.id, { emails: email });
    if (!r?.ok) throw new Error('invite failed');
    await h.domain.invites.acceptByToken(r.token);
    const account = (await h.domain.accounts.findByEmail(email))!;
    await h.domain.members.remove(owner.actor, org.id, account.id);
    expect(text(await openHome(h, ex))).not.toContain(`You joined *${org.name}*`);
    expect(await memberOf(h, org.id, email)).toBeUndefined();
  });

  it('an email Slack stopped vouching for (now unconfirmed) no longer enrolls, though the account keeps it', async () => {
    const h = harness();
    const { org, domain } = await orgWithDomain(h, 'auto_join');
    const other = await orgWithDomain(h, 'auto_join');
    const email = `vic.${uniq()}@${domain}`;
    const vic = h.slack.addUser('Vic', email);
    await openHome(h, vic);
    expect(await memberOf(h, org.id, email)).toMatchObject({ status: 'active' });
    // Slack no longer vouches for Vic's email, and the account's email is on another auto-join org's domain.
    (vic as any).facts = { emailConfirmed: false };
    await h.db.pool.query(`update accounts set email = $1 where lower(email) = lower($2)`, [`vic.${uniq()}@${other.domain}`, email]);
    expect(text(await openHome(h, vic))).not.toContain(other.org.name);
  });

  it('an email Slack does not vouch for (unconfirmed, or a guest) is not enrolled', async () => {
    const h = harness();
    const { org, domain } = await orgWithDomain(h, 'auto_join');
    const unconfirmed = h.slack.addUser('Una', `una.${uniq()}@${domain}`, { emailConfirmed: false });
    const guest = h.slack.addUser('Gus', `gus.${uniq()}@${domain}`, { restricted: true });
    for (const u of [unconfirmed, guest]) expect(text(await openHome(h, u))).not.toContain(org.name);
    expect(await countRows(h, 'memberships', `org_id = '${org.id}'`)).toBe(1);
  });

  it('an unverified domain enrolls nobody, even with auto-join stored on it', async () => {
    const h = harness();
    const owner = await slackPerson(h, 'Olga');
    const org = await orgOwnedBy(h, owner, 'Pending');
    const domain = `pending-${uniq()}.example.com`;
    await h.db.pool.query(
      `insert into org_domains (org_id, domain, status, challenge, enrollment) values ($1, $2, 'pending', 'roster-verification=x', 'auto_join')`,
      [org.id, domain],
    );
    const pat = h.slack.addUser('Pat', `pat.${uniq()}@${domain}`);
    expect(text(await openHome(h, pat))).not.toContain(org.name);
    expect(await countRows(h, 'memberships', `org_id = '${org.id}'`)).toBe(1);
  });

  it('suggest: App Home offers "Ask to join"; the click files a join request for the org’s deciders, and the offer then says it waits', async () => {
    const h = harness();
    const { org, domain } = await orgWithDomain(h, 'suggest');
    const email = `sam.${uniq()}@${domain}`;
    const sam = h.slack.addUser('Sam', email);
    const view = await openHome(h, sam);
    expect(text(view)).toContain(`*${org.name}* has verified ${domain}`);
    expect(text(view)).toContain('domain_ask_to_join');
    expect(await memberOf(h, org.id, email)).toBeUndefined();
    const after = await homeClick(h, sam, { action_id: 'domain_ask_to_join', value: org.id, type: 'button' });
    expect(text(after)).toContain('You asked to join; waiting for a decision.');
    expect(await countRows(h, 'join_requests', `org_id = '${org.id}' and status = 'pending'`)).toBe(1);
    expect(await memberOf(h, org.id, email)).toBeUndefined();
  });

  it('a full org (seat limit reached) skips auto-join and says nothing', async () => {
    const h = harness();
    const { owner, org, domain } = await orgWithDomain(h, 'auto_join');
    await h.domain.orgs.updateSettings(owner.actor, org.id, { seatLimit: 1 });
    const email = `late.${uniq()}@${domain}`;
    const view = await openHome(h, h.slack.addUser('Late', email));
    expect(text(view)).not.toContain(org.name);
    expect(await memberOf(h, org.id, email)).toBeUndefined();
  });
});
