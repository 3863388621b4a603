import type { Metrics } from '../metrics.js';
import { createHash, timingSafeEqual } from 'node:crypto';
import express, { type Express, type Router } from 'express';
import type pg from 'pg';
import type { Logger } from '../logger.js';
import { errorHandler, notFoundHandler } from './error-handler.js';
import { CONTENT_SECURITY_POLICY, html, page } from '../shared/html.js';
import { invitePageRateLimit, type RateLimitSettings } from './rate-limits.js';
import { basePathOf } from '../shared/url.js';

type WebDeps = {
  /** This process's pool, for its connection counts in /metrics. */
  pool: pg.Pool;
  /** Whether PostgreSQL answers now (main.ts: a `select 1` on the pool). */
  databaseUp: () => Promise<boolean>;
  /** Outbox counts by status, for /metrics. */
  outboxStats?: () => Promise<Record<string, number>>;
  webhookStats?: () => Promise<{ pending: number; disabledEndpoints: number }>;
  version: string;
  /** Slack's HTTP receiver (/slack/events); it reads the raw body itself to check signatures. */
  slackRouter?: Router | undefined;
  slackMode: 'http' | 'socket' | 'off';
  /** Distribution: the Slack install page is served (linked from the home page). */
  slackInstall?: boolean | undefined;
  /** PUBLIC_URL: the home page's links keep its path prefix. */
  publicUrl?: string | undefined;
  /** /scim/v2 for identity providers. */
  scimRouter?: Router | undefined;
  /** /invites/<token>: the invite page. */
  inviteRouter?: Router | undefined;
  /** /consent/<token>: where a person answers another org's IdP. */
  consentRouter?: Router | undefined;
  /** /slack-link/<token>: where a Slack user confirms their email (workspaces not trusted for emails). */
  slackLinkRouter?: Router | undefined;
  /** /api/v1 (the host product's API), its OpenAPI document and /api/docs. */
  apiRouter?: Router | undefined;
  /** Where the last error handler logs failures no router handled. */
  log?: Logger | undefined;
  /** Slack delivery's state in this process (an operator problem and its fix, rate limits), when it runs here. */
  slackDelivery?: { health: () => { status: string }; metricLines: () => string[] } | undefined;
  /** When set, /metrics requires `Authorization: Bearer <token>`. */
  metricsToken?: string | undefined;
  /** Request and job counters and timings of this process (prom-client), printed by /metrics. */
  metrics?: Metrics | undefined;
  /** Per-process request limits (README, Security); none when absent. */
  rateLimits?: RateLimitSettings | undefined;
  /** express's `trust proxy`: which proxies' X-Forwarded-For to believe for the client address. */
  trustProxy?: boolean | number | string | undefined;
};

/** One express app for every HTTP surface. */
export function createWebApp(deps: WebDeps): Express {
  const app = express();
  if (deps.metrics) app.use(deps.metrics.http);
  app.disable('x-powered-by');
  // Mounted before any body parser: a parsed body would break Slack's signature check.
  if (deps.slackRouter) app.use(deps.slackRouter);
  if (deps.trustProxy !== undefined) app.set('trust proxy', deps.trustProxy);
  if (deps.scimRouter) app.use('/scim/v2', deps.scimRouter);
  if (deps.inviteRouter) {
    if (deps.rateLimits) app.use('/invites', invitePageRateLimit(deps.rateLimits, tooManyInvitePageRequests));
    app.use('/invites', deps.inviteRouter);
  }
  if (deps.consentRouter) {
    // The same per-address budget as the invite page: both are pages whose URL is the credential.
    if (deps.rateLimits) app.use('/consent', invitePageRateLimit(deps.rateLimits, tooManyInvitePageRequests));
    app.use('/consent', deps.consentRouter);
  }
  if (deps.apiRouter) app.use(deps.apiRouter);
  if (deps.slackLinkRouter) {
    if (deps.rateLimits) app.use('/slack-link', invitePageRateLimit(deps.rateLimits, tooManyInvitePageRequests));
    app.use('/slack-link', deps.slackLinkRouter);
  }
  // What runs here, for whoever opens the address in a browser (instead of "Cannot GET /").
  app.get('/', (_req, res) => {
    const base = basePathOf(deps.publicUrl ?? '');
    const slack =
      deps.slackMode === 'off'
        ? html`<li>Slack: off (see the README to turn it on)</li>`
        : deps.slackInstall
          ? html`<li>Slack: on — <a href="${base}/slack/install">add Roster to a Slack workspace</a></li>`
          : html`<li>Slack: on (${deps.slackMode === 'socket' ? 'Socket Mode' : 'HTTP events at /slack/events'})</li>`;
    res
      .set('Content-Security-Policy', CONTENT_SECURITY_POLICY)
      .type('html')
      .send(
        page(
          'Roster',
          html`<h1>Roster ${deps.version}</h1><p>Organizations, members, roles and invites for your product.</p><ul>${slack}<li>SCIM 2.0 for identity providers: <code>${base}/scim/v2</code></li><li>API: <a href="${base}/api/docs">reference</a> · <a href="${base}/api/v1/openapi.json">OpenAPI document</a></li><li><a href="${base}/healthz">Health</a></li></ul>`,
        ),
      );
  });
  app.get('/healthz', async (_req, res) => {
    const dbUp = await deps.databaseUp();
    res.status(dbUp ? 200 : 503).json({
      status: dbUp ? 'ok' : 'degraded',
      database: dbUp ? 'up' : 'down',
      slack: deps.slackMode === 'off' ? 'off' : 'on',
      // A Slack operator problem (a revoked token, a missing scope) is reported, not a failed check:
      // the process itself is fine, and restarting it would not help.
      // Only ok/failing here (it is public); the code and the fix are in the log and /metrics.
      ...(deps.slackDelivery ? { slackDelivery: deps.slackDelivery.health().status } : {}),
      version: deps.version,
    });
  });
  // Prometheus text format: enough to alert on a stuck outbox, a saturated pool or a growing process.
  app.get('/metrics', async (req, res) => {
    if (deps.metricsToken && !bearerMatches(req.headers.authorization, deps.metricsToken)) {
      return void res
        .status(401)
        .set('WWW-Authenticate', 'Bearer realm="metrics"')
        .type('text/plain')
        .send('Metrics need Authorization: Bearer <METRICS_TOKEN>.\n');
    }
    const dbUp = await deps.databaseUp();
    const outbox = dbUp && deps.outboxStats ? await deps.outboxStats().catch(() => ({}) as Record<string, number>) : {};
    const hooks = dbUp && deps.webhookStats ? await deps.webhookStats().catch(() => undefined) : undefined;
    const mem = process.memoryUsage();
    const lines = [
      '# HELP roster_database_up 1 when PostgreSQL answers.',
      '# TYPE roster_database_up gauge',
      `roster_database_up ${dbUp ? 1 : 0}`,
      "# HELP roster_db_pool_connections Connections in this process's pool.",
      '# TYPE roster_db_pool_connections gauge',
      `roster_db_pool_connections{state="total"} ${deps.pool.totalCount}`,
      `roster_db_pool_connections{state="idle"} ${deps.pool.idleCount}`,
      `roster_db_pool_connections{state="waiting"} ${deps.pool.waitingCount}`,
      '# HELP roster_notifications Outbox notifications by status (all processes).',
      '# TYPE roster_notifications gauge',
      ...['pending', 'sending', 'sent', 'skipped', 'failed'].map((st) => `roster_notifications{status="${st}"} ${outbox[st] ?? 0}`),
      '# HELP roster_webhook_deliveries_pending Webhook deliveries waiting to be sent (all processes).',
      '# TYPE roster_webhook_deliveries_pending gauge',
      `roster_webhook_deliveries_pending ${hooks?.pending ?? 0}`,
      '# HELP roster_webhook_endpoints_disabled Webhook endpoints disabled (by Roster after failures, or by hand).',
      '# TYPE roster_webhook_endpoints_disabled gauge',
      `roster_webhook_endpoints_disabled ${hooks?.disabledEndpoints ?? 0}`,
      '# HELP process_resident_memory_bytes Resident memory.',
      '# TYPE process_resident_memory_bytes gauge',
      `process_resident_memory_bytes ${mem.rss}`,
      '# HELP process_uptime_seconds Seconds since this process started.',
      '# TYPE process_uptime_seconds gauge',
      `process_uptime_seconds ${Math.round(process.uptime())}`,
      ...(deps.slackDelivery?.metricLines() ?? []),
      `roster_info{version="${deps.version}",slack="${deps.slackMode}"} 1`,
    ];
    const counted = deps.metrics ? await deps.metrics.text() : '';
    res.type('text/plain; version=0.0.4').send(lines.join('\n') + '\n' + counted);
  });
  // After every router: what nobody answered gets the surface's own answer, never express's default page.
  app.use(notFoundHandler());
  app.use(errorHandler(deps.log));
  return app;
}

function tooManyInvitePageRequests(res: express.Response, retryAfterSeconds: number) {
  const minutes = Math.max(1, Math.ceil(retryAfterSeconds / 60));
  res
    .status(429)
    .set('Retry-After', String(retryAfterSeconds))
    .set('Content-Security-Policy', CONTENT_SECURITY_POLICY)
    .type('html')
    .send(
      page(
        'Too many requests',
        html`<h1>Too many requests</h1><p>Too many invite pages were opened from your network just now. Nothing was changed. Please try your link again in ${String(minutes)} minute${minutes === 1 ? '' : 's'}.</p>`,
      ),
    );
}

/** Constant-time check of `Bearer <token>` (hashes first, so lengths don't leak either). */
function bearerMatches(header: string | undefined, token: string): boolean {
  const given = /^Bearer (.+)$/i.exec(header ?? '')?.[1] ?? '';
  const digest = (v: string) => createHash('sha256').update(v).digest();
  return timingSafeEqual(digest(given), digest(token));
}
