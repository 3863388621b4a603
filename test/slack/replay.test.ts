import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { start } from '../../src/main.js';
import { SIGNING_SECRET, TEAM, countRows, sign, slackPerson, uniq, useSlackRoster, type SlackHarness, type SlackUser } from '../helpers/slack.js';

// Slack request timestamps and replays: a signed request is only good for 5 minutes either way, and is
// acted on once, whichever Roster process it reaches.

const harness = useSlackRoster();
const closers: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of closers.splice(0)) await c();
});

function createForm(h: SlackHarness, user: SlackUser, name: string) {
  const r = h.slack.responseUrl();
  const form = new URLSearchParams({
    command: '/org',
    text: `create ${name}`,
    team_id: TEAM,
    user_id: user.id,
    user_name: user.name,
    channel_id: 'C0GENERAL',
    response_url: r.url,
    trigger_id: `trig-${r.id}`,
    api_app_id: 'A0ROSTER',
  }).toString();
  return { form, responseId: r.id };
}

async function rawPost(baseUrl: string, body: string, headers: Record<string, string>) {
  const res = await fetch(`${baseUrl}/slack/events`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body });
  await res.text();
  return res.status;
}

const orgsNamed = (h: SlackHarness, name: string) => countRows(h, 'orgs', `name = '${name}'`);

/** A second Roster process (in this test process) on the same database, with Slack on. */
async function secondProcess(h: SlackHarness): Promise<string> {
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    PUBLIC_URL: 'https://roster.test',
    APP_SECRET: 's'.repeat(40),
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_BOT_TOKEN: 'xoxb-test',
    SLACK_API_URL: h.slack.url,
    ROSTER_ROLE: 'web',
    OUTBOX_DIR: path.join(os.tmpdir(), `roster-test-outbox-${process.pid}`),
  });
  const roster = await start(config, { database: h.db, clock: h.clock });
  closers.push(roster.stop);
  return `http://127.0.0.1:${roster.port}`;
}

describe('Slack request timestamps', () => {
  it('a request signed with a timestamp more than 5 minutes in the future gets 401 and changes nothing', async () => {
    const h = harness();
    const ana = await slackPerson(h, 'Ana');
    const now = Math.floor(Date.now() / 1000);
    for (const ts of [now + 24 * 3600, now + 6 * 60]) {
      const name = `Future ${uniq()}`;
      const { form } = createForm(h, ana.user, name);
      expect(await rawPost(h.baseUrl, form, sign(form, ts))).toBe(401);
      expect(await orgsNamed(h, name)).toBe(0);
    }
    // A little clock skew (4 minutes ahead) is still fine.
    const name = `Skewed ${uniq()}`;
    const { form, responseId } = createForm(h, ana.user, name);
    expect(await rawPost(h.baseUrl, form, sign(form, now + 4 * 60))).toBe(200);
    expect((await h.slack.waitForResponse(responseId)).text).toContain(`Created *${name}*`);
  });
});

describe('Slack request replays', () => {
  it('the same signed `/org create` sent three times creates one org', async () => {
    const h = harness();
    const ana = await slackPerson(h, 'Ana');
    const name = `Replayed ${uniq()}`;
    const { form, responseId } = createForm(h, ana.user, name);
    const headers = sign(form);
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push(await rawPost(h.baseUrl, form, headers));
    expect(statuses).toEqual([200, 200, 200]);
    expect((await h.slack.waitForResponse(responseId)).text).toContain(`Created *${name}*`);
    await new Promise((r) => setTimeout(r, 300));
    expect(await orgsNamed(h, name)).toBe(1);
    expect(h.slack.responses.filter((r) => r.id === responseId)).toHaveLength(1);
  });

  it('a replay sent to another Roster process on the same database, even at the same moment, is not acted on either', async () => {
    const h = harness();
    const other = await secondProcess(h);
    const ana = await slackPerson(h, 'Ana');
    const name = `Twice ${uniq()}`;
    const { form, responseId } = createForm(h, ana.user, name);
    const headers = sign(form);
    const statuses = await Promise.all([h.baseUrl, other, h.baseUrl, other].map((base) => rawPost(base, form, headers)));
    expect(statuses).toEqual([200, 200, 200, 200]);
    await h.slack.waitForResponse(responseId);
    await new Promise((r) => setTimeout(r, 300));
    expect(await orgsNamed(h, name)).toBe(1);
  });

  it('a different, correctly signed request with the same body (a new timestamp) is acted on', async () => {
    const h = harness();
    const ana = await slackPerson(h, 'Ana');
    const first = `First ${uniq()}`;
    const a = createForm(h, ana.user, first);
    const now = Math.floor(Date.now() / 1000);
    expect(await rawPost(h.baseUrl, a.form, sign(a.form, now - 1))).toBe(200);
    expect(await rawPost(h.baseUrl, a.form, sign(a.form, now))).toBe(200);
    await h.slack.waitForResponse(a.responseId);
    await new Promise((r) => setTimeout(r, 300));
    // Both acted on: the second create of the same name got its own answer (a second org or a refusal).
    expect(h.slack.responses.filter((r) => r.id === a.responseId)).toHaveLength(2);
  });
});
