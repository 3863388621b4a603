import { App, ExpressReceiver, LogLevel, webApi } from '@slack/bolt';
import express, { type Router } from 'express';
import { scrubMessage, type Logger } from '../logger.js';
import { registerActions } from './actions/index.js';
import { registerCommands } from './commands/index.js';
import type { SlackDeps } from './context.js';
import { slackFetch } from './http.js';
import { registerEvents } from './events/app-home.js';
import { registerViews } from './views/index.js';
import { SLACK_EVENTS_PATH, slackRequestGuard } from './request-guard.js';

type SlackSettings = {
  signingSecret: string;
  botToken: string;
  /** Socket Mode when set (development); HTTP events at /slack/events otherwise. */
  appToken?: string | undefined;
  /** Web API base URL (GovSlack, tests); Slack's own by default. */
  apiUrl?: string | undefined;
};

export type SlackSurface = {
  mode: 'http' | 'socket';
  /** HTTP mode: mount on the web server before any body parser. */
  router: Router | undefined;
  app: InstanceType<typeof App>;
  start: () => Promise<void>;
  stop: () => Promise<void>;
};

export function createSlack(settings: SlackSettings, deps: SlackDeps): SlackSurface {
  const logger = boltLogger(deps.log);
  const clientOptions = { ...(settings.apiUrl ? { slackApiUrl: settings.apiUrl.replace(/\/?$/, '/') } : {}), fetch: slackFetch };
  const botToken = settings.botToken;
  const common = {
    // Our own authorize instead of `token`: with `token` and tokenVerificationEnabled: false, Bolt 5
    // calls auth.test on *every* request, before any listener (so before ack()): one Slack round trip
    // (and one call against a rate-limited method) per slash command, and a failed auth.test meant no
    // ack at all. Nothing here reads context.botId/botUserId (we listen to no message events, hence
    // ignoreSelf: false), so the token is all a request needs, and Slack is not called at start either.
    authorize: async () => ({ botToken }),
    logger,
    clientOptions,
    ignoreSelf: false,
    // No listener reads context.conversation: skip Bolt's per-request conversation-store lookup.
    convoStore: false as const,
  };

  let app: InstanceType<typeof App>;
  let router: Router | undefined;
  if (settings.appToken) {
    app = new App({ ...common, appToken: settings.appToken, socketMode: true, signingSecret: settings.signingSecret });
  } else {
    const receiver = new ExpressReceiver({
      signingSecret: settings.signingSecret,
      endpoints: SLACK_EVENTS_PATH,
      logger,
      bodyLimit: '1mb',
    });
    app = new App({ ...common, receiver });
    router = express.Router();
    router.use(slackRequestGuard({ signingSecret: settings.signingSecret, domain: deps.domain, log: deps.log }));
    router.use(receiver.router as unknown as Router);
  }

  // With `authorize` instead of `token`, Bolt builds app.client without a token; the notification
  // channel (DMs from the outbox worker) uses app.client outside any request, so it carries the token.
  // Bolt added its logger to clientOptions when it built its own client.
  app.client = new webApi.WebClient(botToken, clientOptions);

  registerCommands(app, deps);
  registerActions(app, deps);
  registerViews(app, deps);
  registerEvents(app, deps);
  app.error(async (err) => {
    deps.log.error({ err }, 'slack error');
  });

  return {
    mode: settings.appToken ? 'socket' : 'http',
    router,
    app,
    start: async () => {
      if (settings.appToken) await app.start();
    },
    stop: async () => {
      if (settings.appToken) await app.stop();
    },
  };
}

function boltLogger(log: Logger) {
  const child = log.child({ component: 'slack' });
  let level = LogLevel.INFO;
  // Bolt and its WebClient log at debug several times per request: build no string for a level that is off.
  // Bolt writes errors into its text (String(err)): a failed query's parameters must not come along.
  const text = (m: unknown[]) => scrubMessage(m.map(String).join(' '));
  return {
    debug: (...m: unknown[]) => child.isLevelEnabled('debug') && child.debug(text(m)),
    info: (...m: unknown[]) => child.isLevelEnabled('info') && child.info(text(m)),
    warn: (...m: unknown[]) => child.warn(text(m)),
    error: (...m: unknown[]) => child.error(text(m)),
    setLevel: (l: typeof level) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => {},
  };
}
