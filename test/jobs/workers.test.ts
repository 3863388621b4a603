import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { and, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { connect, type Database } from '../../src/db/client.js';
import { notifications } from '../../src/db/schema.js';
import { accountActor, type Actor } from '../../src/domain/context.js';
import { createDomain, type Domain } from '../../src/domain/index.js';
import type { NotificationContent } from '../../src/domain/notifications.js';
import type { DeliveryChannel } from '../../src/jobs/deliver-notifications.js';
import { createWorker, type Worker } from '../../src/jobs/agenda.js';
import { createLogger } from '../../src/logger.js';
import { start } from '../../src/main.js';
import { freshDatabase } from '../helpers/db.js';
import { TEST_INVITE_KEY, TestClock } from '../helpers/domain.js';
import { TestSmtp } from '../helpers/smtp.js';
import { waitFor } from '../helpers/wait.js';

const log = createLogger('silent');
const H = 3_600_000;

/** A channel that records what it sends, yielding between steps so two workers interleave. */
function recorder(name: string) {
  const sent: { worker: string; id: number; channel: string; kind: string; inviteId?: string }[] = [];
  const channel: DeliveryChannel = {
    async deliver(c: NotificationContent) {
      await new Promise((r) => setImmediate(r));
      sent.push({
        worker: name,
        id: c.notification.id,
        channel: c.notification.channel,
        kind: c.notification.kind,
        ...(c.invite ? { inviteId: c.invite.id } : {}),
      });
      return 'sent';
    },
  };
  return { channel, sent };
}

type Node = { name: string; database: Database; domain: Domain; email: ReturnType<typeof recorder>; slack: ReturnType<typeof recorder>; worker: Worker };

/**
 * Two Roster workers over one database: separate pools and domains (as two processes would have),
 * one clock, the same invite key (as every process of a deployment has the same APP_SECRET).
 */
describe('two workers on one database', () => {
  let base: Database & { url: string };
  const clock = new TestClock();
  const nodes: Node[] = [];

  beforeAll(async () => {
    base = await freshDatabase(10);
    for (const name of ['w1', 'w2']) {
      const database = name === 'w1' ? base : connect(base.url, 10);
      const domain = createDomain({ db: database.db, clock, settings: { membershipMode: 'multi', inviteTokenKey: TEST_INVITE_KEY } });
      const email = recorder(name);
      const slack = recorder(name);
      const worker = createWorker({ pool: database.pool, domain, log, channels: { email: email.channel, slack: slack.channel } });
      nodes.push({ name, database, domain, email, slack, worker });
    }
  });
  afterAll(async () => {
    for (const n of nodes) await n.worker.stop();
    for (const n of nodes) await n.database.close();
  });

  const allSent = () => nodes.flatMap((n) => [...n.email.sent, ...n.slack.sent]);

  async function setUp(count: number) {
    const d = nodes[0]!.domain;
    const ownerAccount = await d.accounts.findOrCreateByEmail(`owner.${randomBytes(4).toString('hex')}@example.com`, 'Owner');
    const owner: Actor = accountActor(ownerAccount.id, 'api');
    const org = await d.orgs.create(owner, { name: `Busy ${randomBytes(3).toString('hex')}` });
    const emails = Array.from({ length: count }, (_, i) => `p${i}.${randomBytes(4).toString('hex')}@example.com`);
    const results = await d.invites.create(owner, org.id, { emails: emails.join('\n'), role: 'member' });
    expect(results.every((r) => r.ok)).toBe(true);
    return { org, owner, invites: results.map((r) => (r.ok ? r.invite : undefined)!) };
  }

  async function rounds(n: number, job: (node: Node) => Promise<unknown>) {
    for (let i = 0; i < n; i++) await Promise.all(nodes.map((node) => job(node)));
  }

  it('two workers delivering together send each notification exactly once in total', async () => {
    const { org, invites } = await setUp(30);
    await rounds(4, (node) => node.worker.run.deliverNotifications());
    const rows = await base.db.select().from(notifications).where(eq(notifications.orgId, org.id));
    expect(rows).toHaveLength(60); // invite.sent by email and Slack
    const sent = allSent().filter((s) => rows.some((r) => r.id === s.id));
    expect(sent).toHaveLength(60);
    expect(new Set(sent.map((s) => s.id)).size).toBe(60);
    for (const r of rows) expect(r).toMatchObject({ status: 'sent', attempts: 1 });
    for (const i of invites)
      expect(
        sent
          .filter((s) => s.inviteId === i.id)
          .map((s) => s.channel)
          .sort(),
      ).toEqual(['email', 'slack']);
  });

  it('two workers reminding together queue each reminder step once, and together deliver each reminder once', async () => {
    const { org, invites } = await setUp(25);
    await rounds(2, (node) => node.worker.run.deliverNotifications());
    const expiresAt = invites[0]!.expiresAt!;
    clock.set(new Date(expiresAt.getTime() - 72 * H));
    await rounds(3, (node) => node.domain.invites.remindDue());
    clock.set(new Date(expiresAt.getTime() - 24 * H));
    // The worker's job also nudges delivery in the background (kick); stop() waits for it.
    await rounds(3, (node) => node.worker.run.remindInvitees());
    await Promise.all(nodes.map((n) => n.worker.stop()));
    await rounds(3, (node) => node.worker.run.deliverNotifications());

    const reminders = await base.db
      .select()
      .from(notifications)
      .where(and(eq(notifications.orgId, org.id), eq(notifications.kind, 'invite.reminder')));
    expect(reminders).toHaveLength(25 * 2 * 2); // 25 invites × 2 steps × 2 channels
    for (const i of invites) {
      const mine = reminders.filter((r) => (r.payload as { inviteId: string }).inviteId === i.id);
      const steps = mine.map((r) => `${(r.payload as { hoursBeforeExpiry: number }).hoursBeforeExpiry}:${r.channel}`).sort();
      expect(steps).toEqual(['24:email', '24:slack', '72:email', '72:slack']);
    }
    const sent = allSent().filter((s) => s.kind === 'invite.reminder' && reminders.some((r) => r.id === s.id));
    expect(sent).toHaveLength(100);
    expect(new Set(sent.map((s) => s.id)).size).toBe(100);
    for (const r of reminders) expect(r.status).toBe('sent');
  });

  it('two workers expiring together expire each invite once, with one audit event each', async () => {
    const { org, invites } = await setUp(20);
    clock.set(invites[0]!.expiresAt!);
    const counts = await Promise.all(nodes.map((n) => n.worker.run.expireInvites()));
    await rounds(2, (node) => node.worker.run.expireInvites());
    expect(counts.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(20);
    const r = await base.db.execute<{ n: number; expired: number }>(sql`
      select (select count(*)::int from audit_events where org_id = ${org.id} and action = 'invite.expired') as n,
             (select count(*)::int from invites where org_id = ${org.id} and status = 'expired') as expired`);
    expect(r.rows[0]).toEqual({ n: 20, expired: 20 });
    for (const i of invites) {
      const e = await base.db.execute<{ n: number }>(sql`select count(*)::int as n from audit_events where target_id = ${i.id} and action = 'invite.expired'`);
      expect(e.rows[0]!.n).toBe(1);
    }
  });
});

describe('agenda runs the jobs on its own', () => {
  it('a started worker delivers a queued invite email on its schedule (no job run by hand), and stops cleanly', async () => {
    const database = await freshDatabase(6);
    const clock = new TestClock();
    const domain = createDomain({ db: database.db, clock, settings: { membershipMode: 'multi', inviteTokenKey: TEST_INVITE_KEY } });
    const email = recorder('agenda');
    const worker = createWorker({
      pool: database.pool,
      domain,
      log,
      channels: { email: email.channel },
      intervals: { deliverNotifications: '1 second', expireInvites: '1 second', remindInvitees: '1 second' },
    });
    try {
      await worker.start();
      const ownerAccount = await domain.accounts.findOrCreateByEmail('agenda.owner@example.com', 'Owner');
      const owner = accountActor(ownerAccount.id, 'api');
      const org = await domain.orgs.create(owner, { name: 'Scheduled' });
      const [r] = await domain.invites.create(owner, org.id, { emails: 'agenda.invitee@example.com', role: 'member' });
      expect(r?.ok).toBe(true);
      const sent = await waitFor(async () => email.sent.find((s) => s.inviteId === (r!.ok ? r!.invite.id : '')), 'the invite email', {
        timeoutMs: 30_000,
        intervalMs: 100,
      });
      expect(sent.kind).toBe('invite.sent');
      // The expiry job runs on its own too.
      clock.set(r!.ok ? r!.invite.expiresAt! : new Date());
      await waitFor(
        async () => {
          const x = await database.db.execute<{ status: string }>(sql`select status from invites where id = ${r!.ok ? r!.invite.id : ''}`);
          return x.rows[0]?.status === 'expired';
        },
        'the invite to expire',
        { timeoutMs: 30_000, intervalMs: 100 },
      );
      const jobs = await database.db.execute<{ name: string }>(sql`select name from agenda_jobs order by name`);
      expect(jobs.rows.map((j) => j.name)).toEqual(['deliver-notifications', 'expire-invites', 'prune-events', 'remind-invitees', 'verify-domains']);
    } finally {
      await worker.stop();
      await database.close();
    }
    expect(email.sent.filter((s) => s.kind === 'invite.sent')).toHaveLength(1);
  });

  it('two agenda workers started together on a fresh database start without crashing and deliver each notification once', async () => {
    const base = await freshDatabase(6);
    const second = connect(base.url, 6);
    const clock = new TestClock();
    const made = [base, second].map((database, i) => {
      const domain = createDomain({ db: database.db, clock, settings: { membershipMode: 'multi', inviteTokenKey: TEST_INVITE_KEY } });
      const email = recorder(`agenda${i}`);
      const worker = createWorker({ pool: database.pool, domain, log, channels: { email: email.channel }, intervals: { deliverNotifications: '1 second' } });
      return { domain, email, worker };
    });
    try {
      await Promise.all(made.map((m) => m.worker.start()));
      const d = made[0]!.domain;
      const ownerAccount = await d.accounts.findOrCreateByEmail('two.owner@example.com', 'Owner');
      const owner = accountActor(ownerAccount.id, 'api');
      const org = await d.orgs.create(owner, { name: 'Twice' });
      const results = await d.invites.create(owner, org.id, { emails: Array.from({ length: 10 }, (_, i) => `two${i}@example.com`), role: 'member' });
      const ids = results.map((x) => (x.ok ? x.invite.id : ''));
      const sentOf = () => made.flatMap((m) => m.email.sent).filter((s) => s.kind === 'invite.sent');
      await waitFor(async () => ids.every((id) => sentOf().some((s) => s.inviteId === id)), 'all 10 invite emails', { timeoutMs: 30_000, intervalMs: 100 });
      // Give a few more ticks a chance to double-send, then check nothing was.
      await waitFor(
        async () => {
          const r = await base.db.execute<{ n: number }>(
            sql`select count(*)::int as n from agenda_jobs where name = 'deliver-notifications' and last_finished_at is not null`,
          );
          return (r.rows[0]?.n ?? 0) >= 1;
        },
        'a finished delivery run',
        { timeoutMs: 30_000, intervalMs: 100 },
      );
      await Promise.all(made.map((m) => m.worker.stop()));
      expect(sentOf()).toHaveLength(10);
      expect(new Set(sentOf().map((s) => s.id)).size).toBe(10);
    } finally {
      await Promise.all(made.map((m) => m.worker.stop()));
      await second.close();
      await base.close();
    }
  });
});

describe('web and worker roles (ROSTER_ROLE)', () => {
  const smtp = new TestSmtp();
  const dirs: string[] = [];
  beforeAll(async () => {
    await smtp.start();
  });
  afterAll(async () => {
    await smtp.stop();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('a web-role process runs no jobs; a worker-role process on the same database mails what the web process queued', async () => {
    const base = await freshDatabase(4);
    const other = connect(base.url, 4);
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'roster-roles-'));
    dirs.push(dataDir);
    const env = {
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'silent',
      PUBLIC_URL: 'https://roles.example',
      APP_SECRET: 'r'.repeat(40),
      SMTP_URL: smtp.url,
      DATA_DIR: dataDir,
    };
    const clock = new TestClock();
    const web = await start(loadConfig({ ...env, ROSTER_ROLE: 'web' }), { database: base, clock, startJobs: false });
    const workerProc = await start(loadConfig({ ...env, ROSTER_ROLE: 'worker' }), { database: other, clock, startJobs: false });
    try {
      expect(web.worker).toBeUndefined();
      expect(workerProc.worker).toBeDefined();
      const ownerAccount = await web.domain.accounts.findOrCreateByEmail('roles.owner@example.com', 'Rita Owner');
      const owner = accountActor(ownerAccount.id, 'web');
      const org = await web.domain.orgs.create(owner, { name: 'Split Roles' });
      const [r] = await web.domain.invites.create(owner, org.id, { emails: 'roles.invitee@example.com', role: 'member' });
      expect(r?.ok).toBe(true);
      await workerProc.worker!.run.deliverNotifications();
      const mails = smtp.to('roles.invitee@example.com');
      expect(mails).toHaveLength(1);
      expect(mails[0]!.text).toContain(`https://roles.example/invites/${r!.ok ? r!.token : ''}`);
    } finally {
      await web.stop();
      await workerProc.stop();
      await other.close();
      await base.close();
    }
  });
});
