import { describe, expect, it } from 'vitest';
import { verifiedDomainForTest } from '../helpers/fixtures.js';
import { countRows, orgOwnedBy, slackPerson, uniq, useSlackRoster, type SlackCall, type SlackHarness } from '../helpers/slack.js';
import { waitFor } from '../helpers/wait.js';
import { userBody } from '../helpers/scim.js';

/** SPEC §10: a person another org's IdP claims is asked in Slack too, with Accept / Decline that only they can use. */
const harness = useSlackRoster();

const buttonsOf = (blocks: any[] = []) =>
  blocks.flatMap((b) => (b.type === 'actions' ? b.elements : b.accessory ? [b.accessory] : [])).filter((e: any) => e.type === 'button');
const blockText = (blocks: any[] = []) => JSON.stringify(blocks);

/** Org A (an unrelated org with its own verified domain and a SCIM token) provisions `email` over real HTTP. */
async function claimedBy(h: SlackHarness, email: string) {
  const ana = await slackPerson(h, 'Ana');
  const a = await orgOwnedBy(h, ana, 'Alpha');
  await verifiedDomainForTest(h.db, a.id, `alpha-${a.id.slice(0, 8)}.example.com`);
  const { token } = await h.domain.scimTokens.create(ana.actor, a.id, 'okta');
  const res = await fetch(`${h.baseUrl}/scim/v2/Users`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' },
    body: JSON.stringify(userBody(email)),
  });
  expect(res.status).toBe(201);
  return a;
}

function consentDmTo(h: SlackHarness, userId: string, orgId: string, since = 0): Promise<SlackCall> {
  return h.slack.waitForCall(
    'chat.postMessage',
    since,
    (c) => c.args.channel === userId && blockText(c.args.blocks).includes('consent_accept') && blockText(c.args.blocks).includes(orgId),
  );
}

describe('consent DM', () => {
  it('the person claimed gets a DM naming the org and its IdP, with Accept / Decline; Accept makes them a member and updates the DM', async () => {
    const h = harness();
    const carol = await slackPerson(h, 'Carol');
    const mark = h.slack.calls.length;
    const a = await claimedBy(h, carol.email);
    const dm = await consentDmTo(h, carol.user.id, a.id, mark);
    const text = blockText(dm.args.blocks);
    expect(text).toContain(`*${a.name}* (SCIM token okta)`);
    expect(text).toContain('you join only if you accept');
    expect(buttonsOf(dm.args.blocks).map((b: any) => [b.text.text, b.action_id, b.value])).toEqual([
      ['Accept', 'consent_accept', a.id],
      ['Decline', 'consent_decline', a.id],
    ]);
    expect(text).toMatch(/<https:\/\/roster\.test\/consent\/[0-9a-f-]{36}\.[A-Za-z0-9_-]{43}\|Open in browser>/);

    const { responseId } = await h.action(carol.user, { action_id: 'consent_accept', value: a.id, type: 'button' });
    const reply = await h.slack.waitForResponse(responseId);
    expect(reply.replace_original).toBe(true);
    expect(reply.text).toMatch(new RegExp(`You joined ${a.name}`));
    expect(buttonsOf(reply.blocks)).toEqual([]);
    expect(await countRows(h, 'memberships', `org_id = '${a.id}' and account_id = '${carol.account.id}' and status = 'active'`)).toBe(1);
  });

  it('the same Accept clicked by someone else does nothing for them and leaves the request pending', async () => {
    const h = harness();
    const carol = await slackPerson(h, 'Carol');
    const mallory = await slackPerson(h, 'Mallory');
    const a = await claimedBy(h, carol.email);
    const { responseId } = await h.action(mallory.user, { action_id: 'consent_accept', value: a.id, type: 'button' });
    const reply = await h.slack.waitForResponse(responseId);
    expect(reply.response_type).toBe('ephemeral');
    expect(reply.text).toMatch(/does not exist any more/);
    expect(await countRows(h, 'memberships', `org_id = '${a.id}' and account_id = '${carol.account.id}' and status = 'pending'`)).toBe(1);
    expect(await countRows(h, 'memberships', `org_id = '${a.id}' and account_id = '${mallory.account.id}'`)).toBe(0);
  });

  it('a Slack user whose profile shows the address but Slack does not vouch for it gets no DM (the email covers the person)', async () => {
    const h = harness();
    const email = `carol.${uniq()}@elsewhere.test`;
    await h.domain.accounts.findOrCreateByEmail(email, 'Carol');
    const mallory = h.slack.addUser('Mallory', email, { emailConfirmed: false });
    const mark = h.slack.calls.length;
    const a = await claimedBy(h, email);
    const account = (await h.domain.accounts.findByEmail(email))!;
    const [m] = (await h.db.pool.query(`select id from memberships where org_id = $1 and account_id = $2`, [a.id, account.id])).rows;
    const settled = await waitFor(async () => {
      const ns = await h.domain.outbox.find({ dedupeKey: `member.consent_requested:${m.id}` });
      const slack = ns.find((n) => n.channel === 'slack');
      return slack && slack.status !== 'pending' && slack.status !== 'sending' ? slack : undefined;
    }, 'the Slack consent notification to settle');
    expect(settled.status).toBe('skipped');
    expect(h.slack.of('chat.postMessage', mark).filter((c) => c.args.channel === mallory.id)).toEqual([]);
  });

  it('Decline removes the pending membership, and `/org list` no longer shows the org', async () => {
    const h = harness();
    const carol = await slackPerson(h, 'Carol');
    const a = await claimedBy(h, carol.email);
    const listed = await h.command(carol.user, 'list');
    expect(JSON.stringify(listed)).toMatch(/waiting for you to accept/);
    const { responseId } = await h.action(carol.user, { action_id: 'consent_decline', value: a.id, type: 'button' });
    expect((await h.slack.waitForResponse(responseId)).text).toMatch(/You declined/);
    expect(await countRows(h, 'memberships', `org_id = '${a.id}' and account_id = '${carol.account.id}'`)).toBe(0);
    expect(JSON.stringify(await h.command(carol.user, 'list'))).not.toContain(a.name);
  });
});
