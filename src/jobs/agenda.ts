import type { Metrics } from '../metrics.js';
import os from 'node:os';
import { Agenda } from 'agenda';
import { PostgresBackend } from '@agendajs/postgres-backend';
import type pg from 'pg';
import { isDatabaseUnavailable, type Domain } from '../domain/index.js';
import type { Logger } from '../logger.js';
import type { WebhookTransport } from '../domain/webhooks/index.js';
import { type Channels, deliverDueNotifications } from './deliver-notifications.js';
import { deliverDueWebhooks } from './deliver-webhooks.js';

const jobNames = {
  expireInvites: 'expire-invites',
  remindInvitees: 'remind-invitees',
  deliverNotifications: 'deliver-notifications',
  verifyDomains: 'verify-domains',
  pruneEvents: 'prune-events',
  deliverWebhooks: 'deliver-webhooks',
} as const;

/** '5 seconds', '1 minute' → ms (the webhook poll's own timer takes agenda's interval words). */
function intervalMs(every: string): number {
  const m = /^(\d+)\s*(second|minute)s?$/.exec(every.trim());
  if (!m) throw new Error(`not an interval: ${every}`);
  return Number(m[1]) * (m[2] === 'minute' ? 60_000 : 1_000);
}

/** Invites expired per statement (and transaction) by the expire-invites job, and callers at once. */
const EXPIRE_BATCH = 50_000;
const EXPIRE_PARALLEL = 2;

/**
 * How long a job's lock holds without a touch. A running job is touched every third of it, so a long
 * run (a big backlog) keeps its lock; a run cut off by a crash or a database outage (whose unlock
 * could not be saved) frees its job for any process a minute later, instead of blocking it for long.
 */
const LOCK_LIFETIME_MS = 60_000;

function keptAlive(work: () => Promise<unknown>, succeeded: () => void) {
  return async (job: { touch: () => Promise<void> }) => {
    const timer = setInterval(() => void job.touch().catch(() => {}), LOCK_LIFETIME_MS / 3);
    try {
      await work();
      succeeded();
    } finally {
      clearInterval(timer);
    }
  };
}

type WorkerOptions = {
  pool: pg.Pool;
  domain: Domain;
  log: Logger;
  channels: Channels;
  /** Sends webhooks; none: deliveries wait in their queue. */
  webhooks?: WebhookTransport | undefined;
  intervals?: Partial<Record<keyof typeof jobNames, string>>;
  /** How long events are kept (the API's feed and the audit log), at least 30 days; none: for ever. */
  eventRetentionDays?: number | undefined;
  /** Counts and times each job run (/metrics). */
  metrics?: Pick<Metrics, 'jobStarted'> | undefined;
};

/**
 * Roster's jobs on agenda 6 + PostgreSQL. Each job finds due work with one set-based query and is safe
 * on several processes at once (agenda runs an interval job once per interval across processes; the
 * queries themselves use SKIP LOCKED and per-row markers). The agenda table comes from our migrations
 * (ensureSchema: false), so processes starting together cannot race creating it.
 */
export function createWorker(opts: WorkerOptions) {
  const { domain, log, channels } = opts;
  const intervals = {
    expireInvites: '1 minute',
    remindInvitees: '5 minutes',
    deliverNotifications: '15 seconds',
    verifyDomains: '5 minutes',
    pruneEvents: '1 hour',
    deliverWebhooks: '5 seconds',
    ...opts.intervals,
  };

  const run = {
    expireInvites: async () => {
      // A backlog (a worker was down, a bulk import's invites all lapsed) is drained in one run: batches
      // of EXPIRE_BATCH in their own transactions, by EXPIRE_PARALLEL callers at once (SKIP LOCKED gives
      // each a different set). Each caller stops at its first short batch; the next run takes what is left.
      const counts = await Promise.all(
        Array.from({ length: EXPIRE_PARALLEL }, async () => {
          let n = 0;
          for (;;) {
            const k = await domain.invites.expireDue(EXPIRE_BATCH);
            n += k;
            if (k < EXPIRE_BATCH) return n;
          }
        }),
      );
      const n = counts.reduce((a, b) => a + b, 0);
      if (n) log.info({ expired: n }, 'expired invites');
      return n;
    },
    remindInvitees: async () => {
      const n = await domain.invites.remindDue();
      if (n) {
        log.info({ reminded: n }, 'queued invite reminders');
        kick();
      }
      return n;
    },
    deliverNotifications: async () => {
      const stats = await deliverDueNotifications(domain, channels, log);
      if (stats.sent || stats.failed) log.info(stats, 'delivered notifications');
      return stats;
    },
    verifyDomains: async () => {
      const stats = await domain.domains.recheckPending();
      if (stats.verified || stats.failed) log.info(stats, 'rechecked pending domains');
      return stats;
    },
    deliverWebhooks: async () => {
      if (!opts.webhooks) return { sent: 0, failed: 0, endpoints: 0 };
      const stats = await deliverDueWebhooks(domain, opts.webhooks, log);
      if (stats.sent || stats.failed) log.info(stats, 'delivered webhooks');
      return stats;
    },
    pruneEvents: async () => {
      if (opts.eventRetentionDays === undefined) return 0;
      const pruned = await domain.feed.prune(opts.eventRetentionDays);
      if (pruned) log.info({ pruned }, 'pruned events past their retention');
      return pruned;
    },
  };

  // Every run, by agenda, a nudge or a poll, is counted and timed under its job's name.
  for (const name of Object.keys(run) as (keyof typeof run)[]) {
    const work = run[name] as () => Promise<unknown>;
    (run as Record<string, () => Promise<unknown>>)[name] = async () => {
      const end = opts.metrics?.jobStarted(jobNames[name]);
      try {
        const out = await work();
        end?.('ok');
        return out;
      } catch (err) {
        end?.('failed');
        throw err;
      }
    };
  }

  let agenda: Agenda | undefined;

  // In-process nudges: deliver now instead of at the next tick (notifications after a change queued
  // some; webhooks when any process queued deliveries). A nudge during a run starts one more after it.
  const nudger = (name: string, work: () => Promise<unknown>) => {
    let running: Promise<unknown> | undefined;
    let again = false;
    const kick = (): void => {
      if (running) {
        again = true;
        return;
      }
      running = work()
        .catch((err) => outage.report(err, `${name} failed`))
        .finally(() => {
          running = undefined;
          if (again) {
            again = false;
            kick();
          }
        });
    };
    const idle = async () => {
      while (running) await running;
    };
    return { kick, idle };
  };
  const notificationsNudge = nudger('notification delivery', run.deliverNotifications);
  const webhooksNudge = nudger('webhook delivery', run.deliverWebhooks);
  const kick = notificationsNudge.kick;

  // While PostgreSQL is away (a restart, a failover) every poll fails: say so once, not every 5 seconds.
  const outage = databaseOutageLog(log);

  async function start(): Promise<void> {
    const backend = new PostgresBackend({ pool: opts.pool, ensureSchema: false });
    agenda = new Agenda({
      backend,
      name: `roster-${os.hostname()}-${process.pid}`,
      processEvery: '5 seconds',
      defaultLockLifetime: LOCK_LIFETIME_MS,
    });
    agenda.on('error', (err) => outage.report(err, 'job scheduler error'));
    // The LISTEN connection that wakes agenda for new jobs is an EventEmitter: an 'error' with no
    // listener (PostgreSQL's 57P01 at a fast shutdown) would kill the process. It reconnects by itself.
    backend.notificationChannel?.on('error', (err: unknown) => outage.report(err, 'job notification channel error'));
    // Its reconnect delay never grows (each attempt resets the backoff), so during an outage it would
    // retry every 100 ms from every process: once a second is enough, as for our own listener.
    const channelConfig = (backend.notificationChannel as unknown as { config?: { reconnect?: { initialDelayMs: number } } } | undefined)?.config;
    if (channelConfig?.reconnect) channelConfig.reconnect.initialDelayMs = 1_000;
    backend.notificationChannel?.on('stateChange', (state: string) => {
      if (state === 'connected') outage.recovered();
    });
    agenda.on('fail', (err: unknown, job: { attrs?: { name?: string } }) => log.error({ err, job: job?.attrs?.name }, 'job failed'));
    // A job that ran to its end proves the database is back (the pool can time out while the LISTEN
    // channel stays connected, so that alone cannot end an outage).
    agenda.define(jobNames.expireInvites, keptAlive(run.expireInvites, outage.recovered), { concurrency: 1 });
    agenda.define(jobNames.remindInvitees, keptAlive(run.remindInvitees, outage.recovered), { concurrency: 1 });
    agenda.define(jobNames.deliverNotifications, keptAlive(run.deliverNotifications, outage.recovered), { concurrency: 1 });
    agenda.define(jobNames.verifyDomains, keptAlive(run.verifyDomains, outage.recovered), { concurrency: 1 });
    agenda.define(jobNames.pruneEvents, keptAlive(run.pruneEvents, outage.recovered), { concurrency: 1 });
    await agenda.start();
    await agenda.every(intervals.expireInvites, jobNames.expireInvites);
    await agenda.every(intervals.remindInvitees, jobNames.remindInvitees);
    await agenda.every(intervals.deliverNotifications, jobNames.deliverNotifications);
    await agenda.every(intervals.verifyDomains, jobNames.verifyDomains);
    await agenda.every(intervals.pruneEvents, jobNames.pruneEvents);
    // Webhooks: every worker process polls on its own timer (not an agenda job, whose lock a killed
    // process would hold for a minute): leases keep each endpoint to one sender at a time.
    if (opts.webhooks) webhookPoll = setInterval(webhooksNudge.kick, intervalMs(intervals.deliverWebhooks)).unref();
    log.info('job worker started');
  }

  let webhookPoll: NodeJS.Timeout | undefined;

  async function stop(): Promise<void> {
    clearInterval(webhookPoll);
    await agenda?.stop();
    // A nudge that arrived during a run starts another when it ends: wait for that one too.
    await notificationsNudge.idle();
    await webhooksNudge.idle();
  }

  return { start, stop, kick, kickWebhooks: webhooksNudge.kick, run };
}

export type Worker = ReturnType<typeof createWorker>;

/**
 * Logs database trouble seen by the job scheduler: the first error of an outage as a warning, then at
 * most one reminder a minute, and a line when it is over. Other errors are logged each time.
 */
function databaseOutageLog(log: Logger, everyMs = 60_000) {
  let since: number | undefined;
  let lastSaid = 0;
  let suppressed = 0;
  return {
    report(err: unknown, what: string) {
      if (!isDatabaseUnavailable(err)) return void log.error({ err }, what);
      const now = Date.now();
      if (since === undefined) {
        since = lastSaid = now;
        return void log.warn({ err: (err as Error)?.message }, `${what}: the database is unavailable; jobs wait until it is back`);
      }
      if (now - lastSaid < everyMs) return void suppressed++;
      log.warn({ err: (err as Error)?.message, downForSeconds: Math.round((now - since) / 1000), suppressed }, `${what}: the database is still unavailable`);
      lastSaid = now;
      suppressed = 0;
    },
    recovered() {
      if (since === undefined) return;
      log.info({ downForSeconds: Math.round((Date.now() - since) / 1000) }, 'job scheduler: the database is back');
      since = undefined;
      suppressed = 0;
    },
  };
}
