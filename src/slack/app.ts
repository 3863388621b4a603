import { App, ExpressReceiver, LogLevel, webApi } from '@slack/bolt';
import express, { type Router } from 'express';
import { scrubMessage, type Logger } from '../logger.js';
import { workspaceOf } from './actor.js';
import { registerActions } from './actions/index.js';
import { registerCommands } from './commands/index.js';
import type { SlackDeps } from './context.js';
import { slackFetch } from './http.js';
import { createDistribution, teamKeyOf } from './installations.js';
import { registerUninstall } from './events/uninstall.js';
import { registerEvents } from './events/app-home.js';
import { registerViews } from './views/index.js';
import { SLACK_EVENTS_PATH, slackRequestGuard } from './request-guard.js';

type SlackSettings = {
  signingSecret: string;
  /** Single-workspace mode: the bot token. */
  botToken?: string | undefined;
  /** Distribution mode: OAuth installs into many workspaces (HTTP events only). */
  oauth?: { clientId: string; clientSecret: string; stateSecret: string } | undefined;
  /** Socket Mode when set (development); HTTP events at /slack/events otherwise. */
  appToken?: string | undefined;
  /** Web API base URL (GovSlack, tests); Slack's own by default. */
  apiUrl?: string | undefined;
};

export type SlackSurface = {
  mode: 'http' | 'socket';
  /**
   * Distribution: a workspace's bot token for calls outside a request (the outbox's DMs), refreshed
   * first when the app rotates tokens and this one is about to expire. undefined: not installed there.
   */
  tokenFor: ((teamId: string) => Promise<string | undefined>) | undefined;
  /** Distribution: removes the installation serving a workspace whose token Slack refuses for good (the outbox found out). */
  installationRefused: ((teamId: string, token: string, code: string) => Promise<void>) | undefined;
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
  const distribution = settings.oauth
    ? createDistribution({ ...settings.oauth, publicUrl: deps.publicUrl, apiUrl: clientOptions.slackApiUrl, domain: deps.domain, log: deps.log, logger })
    : undefined;
  const common = {
    // Our own authorize instead of `token`: with `token` and tokenVerificationEnabled: false, Bolt 5
    // calls auth.test on *every* request, before any listener (so before ack()): one Slack round trip
    // (and one call against a rate-limited method) per slash command, and a failed auth.test meant no
    // ack at all. Nothing here reads context.botId/botUserId (we listen to no message events, hence
    // ignoreSelf: false), so the token is all a request needs, and Slack is not called at start either.
    authorize: distribution ? distribution.authorize : async () => ({ botToken }),
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
    // Add to Slack and the OAuth redirect: plain GETs from a browser, before the signed-request guard.
    if (distribution) router.use(distribution.router);
    router.use(slackRequestGuard({ signingSecret: settings.signingSecret, domain: deps.domain, log: deps.log }));
    router.use(receiver.router as unknown as Router);
  }

  // With `authorize` instead of `token`, Bolt builds app.client without a token; the notification
  // channel (DMs from the outbox worker) uses app.client outside any request, so it carries the token.
  // Bolt added its logger to clientOptions when it built its own client.
  // (Distribution: no one token; each request's client carries its workspace's.)
  app.client = new webApi.WebClient(botToken, clientOptions);

  // Its own client for auth.test: no retries (the default retries for half an hour) and a short timeout.
  const checkClient = () => new webApi.WebClient(botToken, { ...clientOptions, retryConfig: { retries: 0 }, timeout: 5_000, logger });

  // Single-token mode serves only the token's own workspace (learned from auth.test at start): a
  // request from any other is told Roster is not installed there, and changes nothing.
  // Distribution: a workspace with no installation is told the same.
  let servedTeam: string | undefined;
  app.use(async (args) => {
    const body = args.body as SlackBody;
    const team = workspaceOf(body);
    const context = args.context as { notInstalled?: boolean; unavailable?: boolean; botToken?: string };
    // Single-token mode learns its workspace at start; if Slack could not be asked then, it asks now.
    if (botToken && !servedTeam && team) servedTeam = await checkToken(checkClient(), deps.log);
    const refusal = context.unavailable
      ? ":hourglass: Roster can't read its Slack installation right now (its database may be away). Nothing was changed; please try again in a minute."
      : context.notInstalled || (distribution && !context.botToken) || (botToken && (!servedTeam || (team && team !== servedTeam)))
        ? NOT_INSTALLED
        : undefined;
    // Uninstall events come with no token (Bolt skips authorize for them): they must reach their listener.
    const uninstall = ['app_uninstalled', 'tokens_revoked'].includes(body.event?.type ?? '');
    if (!refusal || uninstall) return args.next();
    deps.log.warn({ team, unavailable: !!context.unavailable }, 'Slack request refused: Roster is not installed there, or cannot read its installation');
    const ack = (args as { ack?: (r?: unknown) => Promise<void> }).ack;
    if (body.command) return void (await ack?.({ response_type: 'ephemeral', text: refusal }));
    await ack?.();
    // A click: said through its response_url (a view submission has none; its modal stays as it was).
    if (body.response_url)
      await fetch(body.response_url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ response_type: 'ephemeral', replace_original: false, text: refusal }),
      }).catch(() => {});
  });

  if (distribution) registerUninstall(app, deps);
  registerCommands(app, deps);
  registerActions(app, deps);
  registerViews(app, deps);
  registerEvents(app, deps);
  app.error(async (err) => {
    deps.log.error({ err }, 'slack error');
  });

  return {
    mode: settings.appToken ? 'socket' : 'http',
    tokenFor: distribution
      ? async (teamId) => {
          // A Grid identity (E…) is reached through the Grid's installation (org-wide, or one of its workspaces').
          const r = await distribution.authorize(teamKeyOf(teamId));
          return r.botToken;
        }
      : undefined,
    installationRefused: distribution ? distribution.removeRefused : undefined,
    router,
    app,
    start: async () => {
      // Its own client: no retries (the default retries for half an hour) and a short timeout, so start never hangs on Slack.
      if (botToken) servedTeam = await checkToken(checkClient(), deps.log);
      if (settings.appToken) await app.start();
    },
    stop: async () => {
      if (settings.appToken) await app.stop();
    },
  };
}

const NOT_INSTALLED = ':warning: Roster is not installed in this workspace, so nothing was done. Ask your Slack admin to install it here.';

type SlackBody = {
  team_id?: string;
  team?: { id?: string } | null;
  user?: { team_id?: string };
  command?: string;
  response_url?: string;
  event?: { type?: string };
};

/**
 * auth.test at start: the bot token's workspace, and a clear log line when the token is revoked, wrong
 * or not a bot token. undefined (serve any workspace, as before) when Slack cannot be asked now.
 */
async function checkToken(client: webApi.WebClient, log: Logger): Promise<string | undefined> {
  try {
    const r = await client.auth.test();
    if (!r.bot_id) {
      log.error("SLACK_BOT_TOKEN is not a bot token (xoxb-…): Roster needs the app's bot token. Slack requests will fail until it is replaced.");
      return undefined;
    }
    log.info({ team: r.team_id, bot: r.bot_id }, 'Slack token checked: serving this workspace only');
    return r.team_id ?? undefined;
  } catch (err) {
    const code = (err as { data?: { error?: string } }).data?.error;
    if (code === 'invalid_auth' || code === 'token_revoked' || code === 'account_inactive' || code === 'not_authed')
      log.error(
        { slackError: code },
        `SLACK_BOT_TOKEN does not work (${code}): reinstall the Slack app and set its new bot token. Slack requests will fail until then.`,
      );
    else log.warn({ err: (err as Error).message }, 'Could not check the Slack token at start (auth.test): serving any workspace that sends signed requests');
    return undefined;
  }
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
