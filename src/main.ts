import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Express } from 'express';
import proxyaddr from 'proxy-addr';
import type { DirectRoute } from './api/direct.js';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { ConfigError, loadConfig, type Config } from './config.js';
import { ping, type Database } from './db/client.js';
import { openDatabase } from './db/open.js';
import { listenTo } from './db/notify.js';
import { systemClock, type Clock } from './domain/context.js';
import { createLogger, type Logger } from './logger.js';
import { appSecret, deriveKey } from './secrets.js';
import { createEmailChannel } from './delivery/email-channel.js';
import { createMailer, type Mailer } from './delivery/email.js';
import { createWebhookSender } from './delivery/webhook-http.js';
import { createWorker, type Worker } from './jobs/agenda.js';
import { createScimRouter } from './scim/router.js';
import { createMetrics, type Metrics } from './metrics.js';
import { createSlackChannel } from './slack/notifications.js';
import { createSlack, type SlackSurface } from './slack/app.js';
import { version } from './version.js';
import { createConsentPages } from './web/consent-page.js';
import { createSlackLinkPages } from './web/slack-link-page.js';
import { createApi } from './api/router.js';
import { createInvitePages } from './web/invite-page.js';
import { createWebApp } from './web/server.js';
import { slackOffMessage } from './slack/off.js';
import { createRosterDomain } from './wiring.js';

export type StartOptions = {
  /** An already open database (tests); otherwise DATABASE_URL or the embedded PostgreSQL. */
  database?: Database;
  clock?: Clock;
  log?: Logger;
  /** Tests pass their own mailer (e.g. pointed at a test SMTP server). */
  mailer?: Mailer;
  /** false: the worker exists (its jobs can be run by hand) but agenda does not schedule them. */
  startJobs?: boolean;
  jobIntervals?: Partial<Record<'expireInvites' | 'remindInvitees' | 'deliverNotifications' | 'verifyDomains' | 'deliverWebhooks', string>>;
};

/** Wiring: the only module that knows every part. Returns a handle to stop it all. */
export async function start(config: Config, opts: StartOptions = {}) {
  const log = opts.log ?? createLogger(config.logLevel);
  const database = opts.database
    ? { ...opts.database, description: 'given database', shutdown: async () => {} }
    : await openDatabase(config, log, {
        supervise: {
          onFatal: (message) => {
            log.fatal(message);
            console.error(message);
            process.exit(1);
          },
        },
      });
  log.info({ database: database.description }, 'database ready');

  const clock = opts.clock ?? systemClock;
  // A process serving SCIM hears token changes from every process, and caches token lookups meanwhile.
  const scimTokenChanges = config.role !== 'worker' ? listenTo(database.pool, 'roster_scim_tokens') : undefined;
  // Distribution: every process caches Slack installations and hears when any process changes one.
  const slackInstallationChanges = config.slack.clientId ? listenTo(database.pool, 'roster_slack_installations') : undefined;
  // A process serving the API keeps the memberships authorize found while it hears every change to them.
  const accessChanges = config.role !== 'worker' ? listenTo(database.pool, 'roster_access') : undefined;
  const domain = createRosterDomain(config, {
    db: database.db,
    clock,
    scimTokenChanges,
    slackInstallationChanges,
    accessChanges,
    onBackgroundError: (err, what) => log.warn({ err }, what),
  });

  // Notifications queued by a change go out at once from this process when it runs the worker.
  let worker: Worker | undefined;
  const kickOutbox = () => worker?.kick();
  // SCIM creates users by the thousand: their notices go out at most once a second, not one run per request.
  let soon: NodeJS.Timeout | undefined;
  const kickOutboxSoon = () => {
    soon ??= setTimeout(() => {
      soon = undefined;
      kickOutbox();
    }, 1_000);
    soon.unref();
  };

  let slack: SlackSurface | undefined;
  const { signingSecret, botToken, appToken, apiUrl, clientId, clientSecret } = config.slack;
  const secret = appSecret(config);
  // Distribution (OAuth installs into many workspaces) when the app's client id and secret are set.
  const oauth = clientId && clientSecret ? { clientId, clientSecret, stateSecret: deriveKey(secret, 'slack-oauth-state').toString('hex') } : undefined;
  if (signingSecret && (botToken || oauth)) {
    slack = createSlack(
      { signingSecret, botToken: oauth ? undefined : botToken, appToken, apiUrl, oauth },
      {
        domain,
        clock,
        log,
        publicUrl: config.publicUrl,
        kickOutbox,
      },
    );
    log.info(
      { mode: slack.mode },
      oauth
        ? `Slack on: distribution (install at ${config.publicUrl}/slack/install), HTTP events at /slack/events`
        : slack.mode === 'socket'
          ? 'Slack on: Socket Mode'
          : 'Slack on: HTTP events at /slack/events',
    );
  } else {
    log.info(slackOffMessage({ signingSecret, botToken, clientId, clientSecret }));
  }

  const metrics = createMetrics();
  const mailer = opts.mailer ?? createMailer({ ...config.email, log, production: config.env === 'production' });
  if (mailer.mode === 'outbox') log.info({ outbox: config.email.outboxDir }, 'Email goes to the outbox folder as .eml files (set SMTP_URL to send it).');

  const web = config.role !== 'worker';
  const slackDelivery =
    slack && config.role !== 'web'
      ? createSlackChannel({ domain, clock, log, publicUrl: config.publicUrl, kickOutbox }, slack.app.client, {
          tokenFor: slack.tokenFor,
          installationRefused: slack.installationRefused,
        })
      : undefined;
  const webhookSender =
    config.role !== 'web'
      ? createWebhookSender({
          allowPrivate: config.webhooksAllowPrivate,
          dnsServers: config.dnsServers,
          attemptMs: config.webhookTimeoutMs,
          userAgent: `Roster/${version}`,
        })
      : undefined;
  let webhooksQueued: ReturnType<typeof listenTo> | undefined;
  if (config.role !== 'web') {
    worker = createWorker({
      webhooks: webhookSender,
      pool: database.pool,
      domain,
      log,
      channels: {
        email: createEmailChannel(mailer, config.publicUrl),
        slack: slackDelivery,
      },
      intervals: opts.jobIntervals,
      eventRetentionDays: config.eventRetentionDays,
      metrics,
    });
    if (opts.startJobs !== false) {
      await worker.start();
      // Deliveries queued by any process (at its commit) are sent at once by whichever worker leases them.
      webhooksQueued = listenTo(database.pool, 'roster_webhooks');
      const w = worker;
      webhooksQueued.onChange(() => w.kickWebhooks());
    }
  }
  if (slack && web) await slack.start();

  const api = web
    ? createApi({
        domain,
        log,
        publicUrl: config.publicUrl,
        version,
        kickOutbox: kickOutboxSoon,
        limits: { perKeyPerMinute: config.rateLimits.apiPerKeyPerMinute, authFailuresPerMinute: config.rateLimits.authFailuresPerMinute },
      })
    : undefined;
  const app = createWebApp({
    pool: database.pool,
    databaseUp: () => ping(database.pool),
    outboxStats: domain.outbox.stats,
    webhookStats: domain.webhooks.delivery.stats,
    version,
    slackMode: slack?.mode ?? 'off',
    slackInstall: !!oauth && !!slack,
    publicUrl: config.publicUrl,
    log,
    slackDelivery,
    metricsToken: config.metricsToken,
    metrics,
    rateLimits: config.rateLimits,
    trustProxy: config.trustProxy,
    ...(web
      ? {
          slackRouter: slack?.router,
          scimRouter: createScimRouter({ domain, log, publicUrl: config.publicUrl, limits: config.rateLimits, kickOutbox: kickOutboxSoon }),
          inviteRouter: createInvitePages({ domain, log, clock, csrfKey: deriveKey(secret, 'csrf'), publicUrl: config.publicUrl }),
          consentRouter: createConsentPages({ domain, log, csrfKey: deriveKey(secret, 'csrf'), publicUrl: config.publicUrl }),
          slackLinkRouter: createSlackLinkPages({ domain, log, csrfKey: deriveKey(secret, 'csrf'), publicUrl: config.publicUrl }),
          apiRouter: api?.router,
        }
      : {}),
  });
  const server = createServer(
    {
      headersTimeout: config.http.headersTimeoutMs,
      requestTimeout: config.http.requestTimeoutMs,
      keepAliveTimeout: config.http.keepAliveTimeoutMs,
      // How often Node looks for connections past those timeouts (its default, 30 s, lets slow
      // clients pile up for that long).
      connectionsCheckingInterval: Math.min(1_000, config.http.headersTimeoutMs / 2),
    },
    requestListener(app, api?.direct, metrics),
  );
  server.maxConnections = config.http.maxConnections;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      // Later errors (e.g. out of file descriptors while accepting) are logged, never fatal.
      server.on('error', (err) => log.error({ err }, 'HTTP server error'));
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  log.info({ port, url: config.publicUrl }, `Roster ${version} listening on port ${port}`);
  // One line per surface, so whoever starts Roster sees what runs where.
  if (web) {
    log.info(`SCIM 2.0 for identity providers at ${config.publicUrl}/scim/v2 (tokens: roster scim token create <org>)`);
    log.info(`API at ${config.publicUrl}/api/v1, reference at ${config.publicUrl}/api/docs (keys: roster api-key create <org>)`);
    log.info(`Invite pages at ${config.publicUrl}/invites/…`);
  }
  if (mailer.mode === 'smtp') log.info({ from: config.email.from }, 'Email goes out through SMTP_URL.');
  if (config.role === 'web') log.info('Jobs: off in this process (ROSTER_ROLE=web: run a worker too)');
  else if (opts.startJobs !== false) log.info('Jobs: on (invite expiry and reminders, notification and webhook delivery)');

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      clearTimeout(soon);
      await slack?.stop();
      await webhooksQueued?.close();
      await worker?.stop();
      webhookSender?.close();
      await scimTokenChanges?.close();
      await accessChanges?.close();
      await slackInstallationChanges?.close();
      mailer.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections?.();
      });
      // Events committed by the last requests get their numbers before the pool closes.
      await domain.feed.idle().catch(() => {});
      await database.shutdown();
      log.info('stopped');
    })());

  return { port, domain, stop, log, worker };
}

async function main() {
  let config: Config;
  try {
    config = loadConfig(process.env, { dotenv: true });
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
  const roster = await start(config);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      roster.log.info({ signal }, 'shutting down');
      roster.stop().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((err) => {
    console.error(`Roster could not start: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}

/**
 * What Node's server calls for each request: the API's direct authorize path when the request is one it
 * takes (src/api/direct.ts), else the express app. The client address is express's own reading of it
 * (its compiled `trust proxy`), so limits per address are the same on both paths.
 */
function requestListener(app: Express, direct?: DirectRoute, metrics?: Metrics) {
  const trust = app.get('trust proxy fn') as Parameters<typeof proxyaddr>[1];
  return (req: IncomingMessage, res: ServerResponse) => {
    const org = direct?.match(req);
    if (org === undefined) return void app(req, res);
    metrics?.track('api', res);
    void direct!.serve(req, res, org, proxyaddr(req, trust) ?? 'unknown');
  };
}
