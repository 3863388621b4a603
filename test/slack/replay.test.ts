import { describe, expect, it } from 'vitest';
import { countRows, postSlackEvent, sign, slackPerson, slashCommand, uniq, useSlackRoster, type SlackHarness, type SlackUser } from '../helpers/slack.js';

// Slack request timestamps and replays: a signed request is only good for 5 minutes either way, and is
// acted on once, whichever Roster process it reaches.

const harness = useSlackRoster();

const createForm = (h: SlackHarness, user: SlackUser, name: string) => slashCommand(h.slack, user, `create ${name}`);
const orgsNamed = (h: SlackHarness, name: string) => countRows(h, 'orgs', `name = '${name}'`);

/**
 * Resolves once a later, fresh command sent through that process has been answered. Replays are told
 * apart before they are acked, so by then one acted on by mistake would have been dispatched before
 * this command and answered too (instead of guessing how long that takes).
 */
async function answeredAfter(h: SlackHarness, baseUrl: string, user: SlackUser) {
  const { body, responseId } = slashCommand(h.slack, user, 'help');
  expect(await postSlackEvent(baseUrl, body, sign(body))).toBe(200);
  await h.slack.waitForResponse(responseId);
}

describe('Slack request timestamps', () => {
  it('a request signed with a timestamp more than 5 minutes in the future gets 401 and changes nothing', async () => {
    const h = harness();
    const ana = await slackPerson(h, 'Ana');
    const now = Math.floor(Date.now() / 1000);
    for (const ts of [now + 24 * 3600, now + 6 * 60]) {
      const name = `Future ${uniq()}`;
      const { body } = createForm(h, ana.user, name);
      expect(await postSlackEvent(h.baseUrl, body, sign(body, ts))).toBe(401);
      expect(await orgsNamed(h, name)).toBe(0);
    }
    // A little clock skew (4 minutes ahead) is still fine.
    const name = `Skewed ${uniq()}`;
    const { body, responseId } = createForm(h, ana.user, name);
    expect(await postSlackEvent(h.baseUrl, body, sign(body, now + 4 * 60))).toBe(200);
    expect((await h.slack.waitForResponse(responseId)).text).toContain(`Created *${name}*`);
  });
});

describe('Slack request replays', () => {
  it('the same signed `/org create` sent three times creates one org', async () => {
    const h = harness();
    const ana = await slackPerson(h, 'Ana');
    const name = `Replayed ${uniq()}`;
    const { body, responseId } = createForm(h, ana.user, name);
    const headers = sign(body);
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push(await postSlackEvent(h.baseUrl, body, headers));
    expect(statuses).toEqual([200, 200, 200]);
    expect((await h.slack.waitForResponse(responseId)).text).toContain(`Created *${name}*`);
    await answeredAfter(h, h.baseUrl, ana.user);
    expect(await orgsNamed(h, name)).toBe(1);
    expect(h.slack.responses.filter((r) => r.id === responseId)).toHaveLength(1);
  });

  it('a replay sent to another Roster process on the same database, even at the same moment, is not acted on either', async () => {
    const h = harness();
    const other = await h.another({ ROSTER_ROLE: 'web' });
    const ana = await slackPerson(h, 'Ana');
    const name = `Twice ${uniq()}`;
    const { body, responseId } = createForm(h, ana.user, name);
    const headers = sign(body);
    const statuses = await Promise.all([h.baseUrl, other, h.baseUrl, other].map((base) => postSlackEvent(base, body, headers)));
    expect(statuses).toEqual([200, 200, 200, 200]);
    await h.slack.waitForResponse(responseId);
    await Promise.all([h.baseUrl, other].map((base) => answeredAfter(h, base, ana.user)));
    expect(await orgsNamed(h, name)).toBe(1);
  });

  it('a different, correctly signed request with the same body (a new timestamp) is acted on', async () => {
    const h = harness();
    const ana = await slackPerson(h, 'Ana');
    const first = `First ${uniq()}`;
    const a = createForm(h, ana.user, first);
    const now = Math.floor(Date.now() / 1000);
    expect(await postSlackEvent(h.baseUrl, a.body, sign(a.body, now - 1))).toBe(200);
    expect(await postSlackEvent(h.baseUrl, a.body, sign(a.body, now))).toBe(200);
    // Both acted on: the second create of the same name gets its own answer (a second org or a refusal).
    await h.slack.waitFor(() => h.slack.responses.filter((r) => r.id === a.responseId).length >= 2, 'both answers');
    await answeredAfter(h, h.baseUrl, ana.user);
    expect(h.slack.responses.filter((r) => r.id === a.responseId)).toHaveLength(2);
  });
});
