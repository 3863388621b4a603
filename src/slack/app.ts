import { App, ExpressReceiver, LogLevel } from '@slack/bolt';
import type { Router } from 'express';
import type { Logger } from '../logger.js';
import { registerActions } from './actions/index.js';
import { registerCommands } from './commands/index.js';
import type { SlackDeps } from './context.js';
import { registerEvents } from './events/app-home.js';
import { registerViews } from './views/index.js';


export type SlackSettings = {
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
  const clientOptions = settings.apiUrl ? { slackApiUrl: settings.apiUrl.replace(/\/?$/, '/') } : {};
  const common = {
    token: settings.botToken,
    logger,
    clientOptions,
    // We listen to no message events, and skip the auth.test call at start (Slack may be unreachable then).
    ignoreSelf: false,
    tokenVerificationEnabled: false,
  };

  let app: InstanceType<typeof App>;
  let router: Router | undefined;
  if (settings.appToken) {
    app = new App({ ...common, appToken: settings.appToken, socketMode: true, signingSecret: settings.signingSecret });
  } else {
    const receiver = new ExpressReceiver({
      signingSecret: settings.signingSecret,
      endpoints: '/slack/events',
      logger,
      bodyLimit: '1mb',
    });
    app = new App({ ...common, receiver });
    router = receiver.router as unknown as Router;
  }

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
  return {
    debug: (...m: unknown[]) => child.debug(m.map(String).join(' ')),
    info: (...m: unknown[]) => child.info(m.map(String).join(' ')),
    warn: (...m: unknown[]) => child.warn(m.map(String).join(' ')),
    error: (...m: unknown[]) => child.error(m.map(String).join(' ')),
    setLevel: (l: typeof level) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => {},
  };
}
