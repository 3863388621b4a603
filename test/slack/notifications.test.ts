import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { webApi } from '@slack/bolt';
import { and, eq } from 'drizzle-orm';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { notifications, type NotificationRow, type OrgRow } from '../../src/db/schema.js';
import { createEmailChannel } from '../../src/delivery/email-channel.js';
import { createMailer, type Mailer } from '../../src/delivery/email.js';
import { MAX_ATTEMPTS } from '../../src/domain/notifications.js';
import { deliverDueNotifications } from '../../src/jobs/deliver-notifications.js';
import { createLogger } from '../../src/logger.js';
import { createSlackChannel } from '../../src/slack/notifications.js';
import { useWorld, type World } from '../helpers/domain.js';
import { FakeSlack } from '../helpers/slack.js';
import { TestSmtp } from '../helpers/smtp.js';

/**
 * The Slack DM channel against a fake Slack Web API that answers what Slack answers (errors, 429 with
 * Retry-After, silence), with real email over a real SMTP server and a real outbox in PostgreSQL.
 */
const PUBLIC_URL = 'https://roster.test';
const world = useWorld();
const slack = new FakeSlack();
const smtp = new TestSmtp();
let mailer: Mailer;

beforeAll(async () => {
  await Promise.all([slack.start(), smtp.start()]);
  mailer = createMailer({
    smtpUrl: smtp.url,
    from: 'Roster <roster@roster.test>',
    outboxDir: await mkdtemp(path.join(os.tmpdir(), 'roster-unused-')),
    log: createLogger('silent'),
  });
});
afterEach(() => {
  slack.intercept = undefined;
});
afterAll(async () => {
  mailer?.close();
  await Promise.all([slack.stop(), smtp.stop()]);
});

/** A logger whose JSON lines the test reads. */
function capturingLogger() {
  const lines: Record<string, any>[] = [];
  const log = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  return { log, lines };
}

/** The channels main.ts wires: email, and Slack DMs through a Web client pointed at the fake Slack. */
function channelsFor(w: World, log = createLogger('silent'), opts: { requestTimeoutMs?: number } = {}) {
  const dm = createSlackChannel(
    { domain: w.domain, clock: w.clock, log, publicUrl: PUBLIC_URL, kickOutbox: () => {} },
    new webApi.WebClient('xoxb-test', { slackApiUrl: slack.url }),
    opts,
  );
  return { email: createEmailChannel(mailer, PUBLIC_URL), slack: dm };
}
type TestChannels = ReturnType<typeof channelsFor>;

const deliver = (w: World, channels: TestChannels) => deliverDueNotifications(w.domain, channels, createLogger('silent'));

/** A member of the org who is also in the Slack workspace (Slack finds them by email). */
async function memberInSlack(w: World, org: OrgRow, owner: { actor: Parameters<World['member']>[1] }, channels: TestChannels) {
  const m = await w.member(org, owner.actor, 'member');
  slack.addUser('Member', m.account.email!);
  await deliver(w, channels); // the invite and its acceptance, out of the way
  return m;
}

/** A new invitee who is in the Slack workspace: the invite goes by email and by DM. */
async function inviteSlackUser(w: World, org: OrgRow, owner: { actor: Parameters<World['member']>[1] }) {
  const p = await w.person('Invitee');
  slack.addUser('Invitee', p.account.email!);
  const [r] = await w.domain.invites.create(owner.actor, org.id, { emails: p.account.email!, role: 'developer' });
  if (!r?.ok) throw new Error(`invite failed: ${r?.message}`);
  return { person: p, invite: r.invite };
}

async function row(w: World, dedupeKey: string, channel: string): Promise<NotificationRow> {
  const [r] = await w.db.db
    .select()
    .from(notifications)
    .where(and(eq(notifications.dedupeKey, dedupeKey), eq(notifications.channel, channel)));
  if (!r) throw new Error(`no ${channel} notification ${dedupeKey}`);
  return r;
}

async function roleChangeRow(w: World, accountId: string): Promise<NotificationRow> {
  const rows = (await w.domain.outbox.find({ kind: 'member.role_changed' })).filter((r) => r.recipientAccountId === accountId);
  expect(rows).toHaveLength(1);
  return rows[0]!;
}

const inviteKey = (invite: { id: string; tokenNonce: string }) => `invite.sent:${invite.id}:${invite.tokenNonce}`;
const slackError = (error: string, extra: Record<string, unknown> = {}) => ({ body: { ok: false, error, ...extra } });

describe("a person Slack can't reach", () => {
  for (const code of ['channel_not_found', 'cannot_dm_bot', 'user_not_found', 'user_disabled', 'invalid_blocks']) {
    it(`${code}: a DM-or-email notification goes by email at once, Slack is asked once, and nothing is retried`, async () => {
      const w = world();
      const channels = channelsFor(w);
      const { org, owner } = await w.org('Reach');
      const m = await memberInSlack(w, org, owner, channels);
      slack.intercept = (method) => (method === 'chat.postMessage' ? slackError(code) : undefined);
      const mark = slack.calls.length;
      const mailsBefore = smtp.to(m.account.email!).length;
      await w.domain.members.changeRole(owner.actor, org.id, m.account.id, 'developer');
      await deliver(w, channels);
      expect(slack.of('chat.postMessage', mark)).toHaveLength(1);
      const mails = smtp.to(m.account.email!).slice(mailsBefore);
      expect(mails.map((x) => x.subject)).toEqual([`Your role in ${org.name} changed`]);
      expect(await roleChangeRow(w, m.account.id)).toMatchObject({ status: 'sent', attempts: 1 });

      w.clock.advanceHours(2);
      await deliver(w, channels);
      expect(slack.of('chat.postMessage', mark)).toHaveLength(1);
      expect(smtp.to(m.account.email!).slice(mailsBefore)).toHaveLength(1);
    });
  }

  it("a Slack-only DM Slack refuses for the person (channel_not_found) is skipped at once with Slack's reason, never retried; the invite email still goes", async () => {
    const w = world();
    const channels = channelsFor(w);
    const { org, owner } = await w.org('SlackOnly');
    slack.intercept = (method) => (method === 'chat.postMessage' ? slackError('channel_not_found') : undefined);
    const mark = slack.calls.length;
    const { person, invite } = await inviteSlackUser(w, org, owner);
    await deliver(w, channels);
    expect(await row(w, inviteKey(invite), 'slack')).toMatchObject({ status: 'skipped', attempts: 1, lastError: expect.stringContaining('channel_not_found') });
    expect(await row(w, inviteKey(invite), 'email')).toMatchObject({ status: 'sent' });
    expect(smtp.to(person.account.email!)).toHaveLength(1);
    for (let h = 0; h < 3; h++) {
      w.clock.advanceHours(1);
      await deliver(w, channels);
    }
    expect(slack.of('chat.postMessage', mark)).toHaveLength(1);
  });

  it('someone not in the workspace (users_not_found) is skipped for Slack and emailed, with the reason kept', async () => {
    const w = world();
    const channels = channelsFor(w);
    const { org, owner } = await w.org('NotThere');
    const p = await w.person('Outsider');
    const [r] = await w.domain.invites.create(owner.actor, org.id, { emails: p.account.email!, role: 'member' });
    if (!r?.ok) throw new Error('invite failed');
    const mark = slack.calls.length;
    await deliver(w, channels);
    expect(slack.of('chat.postMessage', mark)).toHaveLength(0);
    expect(await row(w, inviteKey(r.invite), 'slack')).toMatchObject({ status: 'skipped', lastError: expect.stringContaining('users_not_found') });
    expect(smtp.to(p.account.email!)).toHaveLength(1);
  });
});

describe('an operator problem (Slack refuses the app itself)', () => {
  const cases: { code: string; extra?: Record<string, unknown>; fix: RegExp; methods: 'all' | 'chat.postMessage' }[] = [
    { code: 'invalid_auth', fix: /SLACK_BOT_TOKEN/, methods: 'all' },
    { code: 'token_revoked', fix: /reinstall/i, methods: 'all' },
    { code: 'account_inactive', fix: /reinstall/i, methods: 'all' },
    { code: 'not_authed', fix: /SLACK_BOT_TOKEN/, methods: 'all' },
    {
      code: 'missing_scope',
      extra: { needed: 'chat:write', provided: 'commands,users:read,users:read.email' },
      fix: /chat:write.*reinstall/i,
      methods: 'chat.postMessage',
    },
  ];
  for (const c of cases) {
    it(`${c.code}: one error log line naming the fix, health and metrics report it, DM-or-email goes by email, Slack-only DMs wait without using up retries, and all goes out once it is fixed`, async () => {
      const w = world();
      const { log, lines } = capturingLogger();
      const channels = channelsFor(w, log);
      const { org, owner } = await w.org('Operator');
      const m = await memberInSlack(w, org, owner, channels);
      expect(channels.slack.health()).toMatchObject({ status: 'ok', operatorError: null });
      let refused = 0;
      slack.intercept = (method) => {
        if (c.methods !== 'all' && method !== c.methods) return undefined;
        refused++;
        return slackError(c.code, c.extra);
      };

      const mailsBefore = smtp.to(m.account.email!).length;
      await w.domain.members.changeRole(owner.actor, org.id, m.account.id, 'developer');
      const { person, invite } = await inviteSlackUser(w, org, owner);
      const startedAt = w.clock.now().getTime();
      await deliver(w, channels);

      // Either way will do: the email goes now.
      expect(
        smtp
          .to(m.account.email!)
          .slice(mailsBefore)
          .map((x) => x.subject),
      ).toEqual([`Your role in ${org.name} changed`]);
      expect(await roleChangeRow(w, m.account.id)).toMatchObject({ status: 'sent' });
      // The invite's email goes; its DM waits, without using an attempt.
      expect(smtp.to(person.account.email!)).toHaveLength(1);
      const parked = await row(w, inviteKey(invite), 'slack');
      expect(parked).toMatchObject({ status: 'pending', attempts: 0, lastError: expect.stringContaining(c.code) });
      expect(parked.nextAttemptAt.getTime() - startedAt).toBe(5 * 60_000);
      // One Slack call met the problem; the other notification did not make that call again.
      expect(refused).toBe(1);

      const errors = lines.filter((l) => l.level === 50);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatchObject({ slackError: c.code, fix: expect.stringMatching(c.fix) });
      expect(errors[0]!.msg).toMatch(c.fix);
      expect(channels.slack.health()).toMatchObject({ status: 'failing', operatorError: { code: c.code, fix: expect.stringMatching(c.fix) } });
      const metrics = channels.slack.metricLines().join('\n');
      expect(metrics).toContain('roster_slack_delivery_ok 0');
      expect(metrics).toMatch(new RegExp(`roster_slack_operator_errors_total\\{code="${c.code}"\\} 1`));

      // Far longer than the 20 retries (~14 h) would last: the DM still waits, never failed, attempts untouched.
      for (let i = 0; i < 40; i++) {
        w.clock.advance(30 * 60_000);
        await deliver(w, channels);
      }
      expect(await row(w, inviteKey(invite), 'slack')).toMatchObject({ status: 'pending', attempts: 0 });
      expect(MAX_ATTEMPTS).toBeLessThan(40);
      // Reminded once an hour, not once per try; Slack probed at most once per run.
      expect(lines.filter((l) => l.level === 50).length).toBeLessThanOrEqual(21);
      expect(refused).toBeLessThanOrEqual(41);

      // The operator fixes the app: the waiting DM goes out once, and health is back.
      slack.intercept = undefined;
      const fixedMark = slack.calls.length;
      w.clock.advance(5 * 60_000);
      await deliver(w, channels);
      await deliver(w, channels);
      const invitee = [...slack.users.values()].find((u) => u.email === person.account.email)!;
      expect(slack.of('chat.postMessage', fixedMark).filter((x) => x.args.channel === invitee.id)).toHaveLength(1);
      expect(await row(w, inviteKey(invite), 'slack')).toMatchObject({ status: 'sent', attempts: 1 });
      expect(channels.slack.health()).toMatchObject({ status: 'ok', operatorError: null });
      expect(channels.slack.metricLines().join('\n')).toContain('roster_slack_delivery_ok 1');
      expect(lines.some((l) => l.level === 30 && /works again/.test(l.msg))).toBe(true);
    });
  }
});

describe("Slack's rate limit", () => {
  it('a 429 with Retry-After: the DM is not retried by the client, waits exactly as long as Slack says (without using an attempt), and other DMs wait too instead of hitting the limit', async () => {
    const w = world();
    const channels = channelsFor(w);
    const { org, owner } = await w.org('Limited');
    let limited = 1;
    slack.intercept = (method) =>
      method === 'chat.postMessage' && limited-- > 0
        ? { status: 429, headers: { 'retry-after': '120' }, body: { ok: false, error: 'ratelimited' } }
        : undefined;
    const a = await inviteSlackUser(w, org, owner);
    const b = await inviteSlackUser(w, org, owner);
    const startedAt = w.clock.now().getTime();
    const mark = slack.calls.length;
    const real = Date.now();
    await deliver(w, channels);
    expect(Date.now() - real).toBeLessThan(5_000);
    expect(slack.of('chat.postMessage', mark)).toHaveLength(1);
    for (const x of [a, b]) {
      const r = await row(w, inviteKey(x.invite), 'slack');
      expect(r).toMatchObject({ status: 'pending', attempts: 0, lastError: expect.stringMatching(/rate limited/) });
      expect(r.nextAttemptAt.getTime() - startedAt).toBe(120_000);
      expect(await row(w, inviteKey(x.invite), 'email')).toMatchObject({ status: 'sent' });
    }
    expect(channels.slack.health().rateLimitedUntil['chat.postMessage']).toBe(new Date(startedAt + 120_000).toISOString());
    expect(channels.slack.metricLines().join('\n')).toContain('roster_slack_rate_limited_total 1');

    w.clock.advance(119_999);
    await deliver(w, channels);
    expect(slack.of('chat.postMessage', mark)).toHaveLength(1);
    w.clock.advance(1);
    await deliver(w, channels);
    expect(slack.of('chat.postMessage', mark)).toHaveLength(3);
    for (const x of [a, b]) expect(await row(w, inviteKey(x.invite), 'slack')).toMatchObject({ status: 'sent', attempts: 1 });
  });
});

describe('the delivery client leaves the waiting to the outbox', () => {
  it("a Slack 500 is one call, not the client's 10 retries: the outbox retries it after its backoff, once", async () => {
    const w = world();
    const channels = channelsFor(w);
    const { org, owner } = await w.org('Flaky');
    let failures = 1;
    slack.intercept = (method) => (method === 'chat.postMessage' && failures-- > 0 ? { status: 500, body: { ok: false } } : undefined);
    const { invite } = await inviteSlackUser(w, org, owner);
    const mark = slack.calls.length;
    const real = Date.now();
    await deliver(w, channels);
    expect(Date.now() - real).toBeLessThan(5_000);
    expect(slack.of('chat.postMessage', mark)).toHaveLength(1);
    const r = await row(w, inviteKey(invite), 'slack');
    expect(r).toMatchObject({ status: 'pending', attempts: 1 });
    expect(r.nextAttemptAt.getTime() - w.clock.now().getTime()).toBe(30_000);
    w.clock.advance(30_000);
    await deliver(w, channels);
    expect(slack.of('chat.postMessage', mark)).toHaveLength(2);
    expect(await row(w, inviteKey(invite), 'slack')).toMatchObject({ status: 'sent', attempts: 2 });
  });

  it('a Slack that never answers: the request gives up after its timeout and the DM is retried later, instead of the attempt hanging past its claim', async () => {
    const w = world();
    const channels = channelsFor(w, createLogger('silent'), { requestTimeoutMs: 300 });
    expect(channels.slack.maxAttemptMs).toBe(600);
    const { org, owner } = await w.org('Silent');
    slack.intercept = (method) => (method === 'chat.postMessage' ? { hang: true } : undefined);
    const { invite } = await inviteSlackUser(w, org, owner);
    const real = Date.now();
    await deliver(w, channels);
    expect(Date.now() - real).toBeLessThan(5_000);
    const r = await row(w, inviteKey(invite), 'slack');
    expect(r).toMatchObject({ status: 'pending', attempts: 1 });
    expect(r.lastError).toMatch(/abort|timeout|timed out/i);
  });
});
