import type { ServerResponse } from 'node:http';
import { webApi, type AuthorizeResult } from '@slack/bolt';
import { InstallProvider, type Installation, type InstallationQuery, type InstallationStore, type InstallProviderOptions } from '@slack/oauth';

type SlackLogger = NonNullable<InstallProviderOptions['logger']>;
import express, { type Router } from 'express';
import type { Domain } from '../domain/index.js';
import type { Logger } from '../logger.js';
import { CONTENT_SECURITY_POLICY, html, page, type SafeHtml } from '../shared/html.js';
import { botScopes } from './scopes.js';
import { DEAD_TOKEN_ERRORS } from './api-errors.js';
import { basePathOf } from '../shared/url.js';

/** Slack's OAuth paths (Bolt's defaults). */
export const INSTALL_PATH = '/slack/install';
export const REDIRECT_PATH = '/slack/oauth_redirect';

/** The installation store over the domain: sealed at rest, audited, found by workspace or Grid org. */
class NotInstalled extends Error {
  override name = 'NotInstalled';
}

function keyOf(q: InstallationQuery<boolean> | Installation): { enterpriseId?: string; teamId?: string; isEnterpriseInstall: boolean } {
  if ('enterpriseId' in q || 'teamId' in q) {
    const query = q as InstallationQuery<boolean>;
    return { enterpriseId: query.enterpriseId, teamId: query.teamId, isEnterpriseInstall: !!query.isEnterpriseInstall };
  }
  const i = q as Installation;
  return { enterpriseId: i.enterprise?.id, teamId: i.team?.id, isEnterpriseInstall: !!i.isEnterpriseInstall };
}

function installationStore(domain: Domain): InstallationStore {
  return {
    storeInstallation: async (installation) => {
      // Roster works with its bot token only: an installation without one (someone edited the install
      // link to ask for user scopes) must not replace a working one, and a user token is not kept.
      if (!installation.bot?.token) throw new Error('Slack returned no bot token: install Roster with its bot scopes (the Add to Slack button).');
      const { user, ...rest } = installation as Installation;
      const kept = { ...rest, user: { id: user?.id } };
      await domain.slackInstallations.save(keyOf(installation as Installation), kept, user?.id);
    },
    fetchInstallation: async (query) => {
      const found = await domain.slackInstallations.find(keyOf(query));
      if (!found) throw new NotInstalled(`Roster is not installed in ${query.teamId ?? query.enterpriseId ?? 'that workspace'}`);
      return found as Installation<'v2', boolean>;
    },
    deleteInstallation: async (query) => void (await domain.slackInstallations.remove(keyOf(query), 'deleted')),
  };
}

export type Distribution = {
  installer: InstallProvider;
  /** Bolt's authorize: the installation's bot token; a workspace with none gets `notInstalled` (told so, nothing changes). */
  authorize: (source: InstallationQuery<boolean>) => Promise<AuthorizeResult & { notInstalled?: true; unavailable?: true }>;
  /** GET /slack/install and GET /slack/oauth_redirect. */
  router: Router;
  /** Removes the installation serving a workspace or Grid whose token Slack refuses for good (checked again first), audited. */
  removeRefused: (teamId: string, token: string, code: string) => Promise<void>;
};

/**
 * Distribution: Roster installed into many workspaces through Slack's OAuth v2 flow (@slack/oauth's
 * InstallProvider: state verified against a signed cookie, the state secret derived from APP_SECRET).
 */
export function createDistribution(opts: {
  clientId: string;
  clientSecret: string;
  stateSecret: string;
  publicUrl: string;
  apiUrl?: string | undefined;
  domain: Domain;
  log: Logger;
  /** Bolt's logger form of `log`, for the InstallProvider's own lines. */
  logger?: SlackLogger | undefined;
}): Distribution {
  const installUrlOptions = { scopes: [...botScopes], redirectUri: `${opts.publicUrl}${REDIRECT_PATH}` };
  // No retries (the default retries for half an hour) and a timeout: a token refresh runs before a request's ack.
  const installerClientOptions = { ...(opts.apiUrl ? { slackApiUrl: opts.apiUrl } : {}), retryConfig: { retries: 0 }, timeout: 5_000 };
  const providerOptions = {
    clientId: opts.clientId,
    clientSecret: opts.clientSecret,
    stateSecret: opts.stateSecret,
    installationStore: installationStore(opts.domain),
    installUrlOptions,
    renderHtmlForInstallPath: installPage,
    clientOptions: installerClientOptions,
    ...(opts.logger ? { logger: opts.logger } : {}),
  };
  const installer = new InstallProvider(providerOptions);
  /**
   * Installs that start in Slack (an org-wide install an admin approves from Slack's admin pages, the App
   * Directory) come back with no state at all. The state guards against a forged callback binding someone
   * else's session, and Roster keeps no session: a code Slack issued for this app installs the workspace
   * that approved it, whoever's browser brings it. A state that is present must still verify.
   */
  const fromSlack = new InstallProvider({ ...providerOptions, stateVerification: false, logger: quietLogger(opts.logger) });

  const slackClient = new webApi.WebClient(undefined, installerClientOptions);

  /** A bot token (token rotation on) that expires within two hours is refreshed before it is used (Slack's advice). */
  const expiring = (i: Installation) => !!i.bot?.refreshToken && !!i.bot.expiresAt && i.bot.expiresAt - Date.now() / 1000 < 2 * 3600;

  async function refreshed(i: Installation): Promise<Installation> {
    const r = await slackClient.oauth.v2.access({
      client_id: opts.clientId,
      client_secret: opts.clientSecret,
      grant_type: 'refresh_token',
      refresh_token: i.bot!.refreshToken!,
    });
    if (!r.access_token || !r.refresh_token || !r.expires_in) throw new Error('Slack answered a token refresh without a token');
    return { ...i, bot: { ...i.bot!, token: r.access_token, refreshToken: r.refresh_token, expiresAt: Math.floor(Date.now() / 1000) + r.expires_in } };
  }

  /** Per process: when a refresh last failed, by installation (a failing Slack is not asked on every request). */
  const refreshFailedAt = new Map<string, number>();

  /**
   * The installation with a refreshed token — or, while its current token still works, the current one:
   * when another process is refreshing it right now (its row is locked: no waiting), when Slack refused or
   * did not answer the refresh (asked again a minute later), the request goes on with the current token.
   */
  async function refreshedOrCurrent(installation: Installation): Promise<Installation> {
    const k = keyOf(installation);
    const id = JSON.stringify(k);
    const stillWorks = (installation.bot?.expiresAt ?? 0) * 1000 > Date.now() + 10_000;
    if (stillWorks && Date.now() - (refreshFailedAt.get(id) ?? 0) < 60_000) return installation;
    try {
      const next = await opts.domain.slackInstallations.update(
        k,
        async (current) => (expiring(current as Installation) ? refreshed(current as Installation) : undefined),
        { nowait: stillWorks },
      );
      refreshFailedAt.delete(id);
      if (!next) return installation;
      opts.log.info({ team: installation.team?.id, enterprise: installation.enterprise?.id }, 'Slack bot token refreshed');
      return next as Installation;
    } catch (err) {
      if (!stillWorks) throw err;
      refreshFailedAt.set(id, Date.now());
      if (refreshFailedAt.size > 10_000) refreshFailedAt.clear();
      opts.log.warn(
        { err: (err as Error).message, team: installation.team?.id, enterprise: installation.enterprise?.id },
        'Slack bot token refresh failed; the current token is used until it expires',
      );
      return installation;
    }
  }

  /**
   * Bolt's authorize, over the store: the installation serving the request and its bot token. An expiring
   * token is refreshed once across every process (the row is locked while Slack is asked, and whoever
   * waited finds it refreshed); a refresh is no reinstall, so it is not audited as one.
   */
  async function authorize(source: InstallationQuery<boolean>) {
    try {
      let installation = (await opts.domain.slackInstallations.find(keyOf(source))) as Installation | undefined;
      if (!installation) return { notInstalled: true as const };
      if (expiring(installation)) installation = await refreshedOrCurrent(installation);
      const result: AuthorizeResult = {
        botToken: installation.bot?.token,
        botId: installation.bot?.id,
        botUserId: installation.bot?.userId,
        teamId: installation.team?.id ?? source.teamId,
        enterpriseId: installation.enterprise?.id ?? source.enterpriseId,
      };
      return result;
    } catch (err) {
      // The database away, an installation that cannot be opened (APP_SECRET changed), a refresh Slack
      // refused: answered, not silent.
      opts.log.warn({ err: (err as Error).message, team: source.teamId, enterprise: source.enterpriseId }, 'Slack installation could not be read');
      return { unavailable: true as const };
    }
  }

  const router = express.Router();
  router.get(INSTALL_PATH, (req, res) => void installer.handleInstallPath(req, res, undefined, installUrlOptions));
  router.get(
    REDIRECT_PATH,
    (req, res) =>
      void (req.query.state === undefined ? fromSlack : installer).handleCallback(req, res, {
        success: (installation, _o, _req, r) =>
          send(
            r,
            200,
            'Roster is installed',
            html`<p class="ok">Roster is now installed in <strong>${nameOf(installation)}</strong>. Type <code>/org help</code> in Slack to start.</p>`,
          ),
        failure: (error, _o, _req, r) => {
          opts.log.warn({ code: error.code, err: error.message }, 'Slack installation failed');
          send(
            r,
            400,
            'Roster could not be installed',
            html`<p>Slack did not complete the installation, so nothing was installed. <a href="${basePathOf(opts.publicUrl)}${INSTALL_PATH}">Try again</a>.</p>`,
          );
        },
      }),
  );
  /**
   * Slack refused a workspace's token for good while delivering: asked once more (auth.test, so one odd
   * answer removes nothing), the installation goes — only if it still holds that token (a reinstall
   * meanwhile brought a new one).
   */
  async function removeRefused(teamId: string, token: string, code: string) {
    const answer = await slackClient.auth.test({ token }).then(
      () => 'ok',
      (e: { data?: { error?: string } }) => e.data?.error ?? 'unreachable',
    );
    if (!DEAD_TOKEN_ERRORS.has(answer)) return;
    const installation = (await opts.domain.slackInstallations.find(teamKeyOf(teamId))) as Installation | undefined;
    if (!installation) return;
    const removed = await opts.domain.slackInstallations.removeIf(keyOf(installation), (i) => (i as Installation).bot?.token === token, answer);
    if (removed)
      opts.log.warn(
        { team: teamId, slackError: code },
        `Slack refuses the token of workspace ${teamId} (${answer}): its installation was removed; its admins must install Roster again.`,
      );
  }

  return { installer, authorize, router, removeRefused };
}

/** The InstallProvider warns at construction that state verification is off: here that is the point (see fromSlack). */
function quietLogger(logger: SlackLogger | undefined): SlackLogger | undefined {
  return logger ? { ...logger, warn: () => {} } : undefined;
}

/** The installation query for an identity key: a Grid's (E…) or a workspace's (T…). */
export function teamKeyOf(teamId: string): { enterpriseId: string | undefined; teamId: string | undefined; isEnterpriseInstall: false } {
  return teamId.startsWith('E')
    ? { teamId: undefined, enterpriseId: teamId, isEnterpriseInstall: false }
    : { teamId, enterpriseId: undefined, isEnterpriseInstall: false };
}

function nameOf(i: Installation): string {
  return (i.isEnterpriseInstall ? i.enterprise?.name : i.team?.name) ?? 'your workspace';
}

/** GET /slack/install: a small page with the "Add to Slack" button (Slack's own authorize URL, with state). */
function installPage(url: string): string {
  return page(
    'Add Roster to Slack',
    html`<h1>Add Roster to Slack</h1><p>Roster manages organizations, members, roles and invites from Slack.</p><div class="actions"><a class="button primary" href="${url}">Add to Slack</a></div>`,
  );
}

function send(res: ServerResponse, status: number, title: string, body: SafeHtml): void {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
    'content-security-policy': CONTENT_SECURITY_POLICY,
  });
  res.end(page(title, html`<h1>${title}</h1>${body}`));
}
