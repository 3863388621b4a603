import { webApi } from '@slack/bolt';
import { describeStoredRole, joinApprovalRoles, mayDecideJoinRequests } from '../domain/access.js';
import { mayLinkByEmail } from '../domain/accounts.js';
import { consentUrl } from '../domain/consents.js';
import { DeliveryDeferred, RecipientUnreachable, type NotificationContent } from '../domain/notifications.js';
import type { Logger } from '../logger.js';
import { classifySlackError, createSlackDeliveryState, DEAD_TOKEN_ERRORS, type SlackFailure } from './api-errors.js';
import { emailFactsOf, type SlackUserInfo } from './actor.js';
import type { SlackDeps, WebClient } from './context.js';
import { esc } from './blocks/kit.js';
import { consentDm, inviteDm, joinRequestDm } from './blocks/messages.js';
import { inviteLink } from './dm.js';
import { ids } from './ids.js';

/**
 * One Web API request of a delivery gives up after this. Not longer: the outbox's claim on the
 * notification has to outlast the whole attempt. Not much shorter either: a slow chat.postMessage that
 * did post, given up on, is posted again at the next attempt.
 */
export const SLACK_REQUEST_TIMEOUT_MS = 20_000;
/** Web API requests one delivery makes at most: users.lookupByEmail, then chat.postMessage. */
const REQUESTS_PER_DELIVERY = 2;
/** While Slack refuses the app, a Slack-only notification waits this long between tries (not counted as attempts). */
const OPERATOR_PARK_MS = 5 * 60_000;
/** After Slack refused the app, no call for this long: one probe a minute, not one per waiting notification. */
const OPERATOR_PROBE_MS = 60_000;
/** The same operator problem is logged again at most this often, while it lasts. */
const OPERATOR_REMIND_MS = 60 * 60_000;

/**
 * The Web client deliveries use: the app's token and address, but no retries of its own (the outbox
 * retries with backoff; the client's default, 10 retries over 30 minutes, would outlast any claim),
 * a timeout per request, and a rate limit answered at once (the outbox waits Slack's Retry-After
 * instead of the client holding the attempt open).
 */
function deliveryClient(from: WebClient, log: Logger, timeoutMs = SLACK_REQUEST_TIMEOUT_MS, token = from.token): WebClient {
  return new webApi.WebClient(token, {
    slackApiUrl: from.slackApiUrl,
    retryConfig: { retries: 0 },
    timeout: timeoutMs,
    rejectRateLimitedCalls: true,
    logger: quietLogger(log),
  });
}

/**
 * The Slack side of notification delivery: a DM from Roster's bot. 'skipped' when the person isn't
 * in this workspace (the email channel covers them). Slack's errors are sorted (see api-errors.ts): a
 * person Slack cannot reach → RecipientUnreachable (never retried); a rate limit → DeliveryDeferred
 * until Slack's Retry-After; an app problem only the operator can fix → one error log line naming the
 * fix, health() reports it, and DeliveryDeferred (email instead where either way will do, otherwise a
 * wait of OPERATOR_PARK_MS that uses up no retries); anything else throws, so the outbox retries.
 */
export function createSlackChannel(
  deps: SlackDeps,
  appClient: WebClient,
  opts: {
    requestTimeoutMs?: number;
    /** Distribution: the bot token of a workspace's installation (undefined: Roster is not installed there). */
    tokenFor?: ((teamId: string) => Promise<string | undefined>) | undefined;
    /**
     * Distribution: Slack refused a workspace's token for good (invalid_auth, token_revoked, …): the
     * installation is dead, as if uninstalled (a missed tokens_revoked event). Removes it.
     */
    installationRefused?: ((teamId: string, token: string, code: string) => Promise<void>) | undefined;
  } = {},
) {
  const timeoutMs = opts.requestTimeoutMs ?? SLACK_REQUEST_TIMEOUT_MS;
  const client = deliveryClient(appClient, deps.log, timeoutMs);
  // One client per workspace token (distribution), made once.
  const clients = new Map<string, WebClient>();
  const clientOf = (token: string) => {
    let c = clients.get(token);
    if (!c) clients.set(token, (c = deliveryClient(appClient, deps.log, timeoutMs, token)));
    return c;
  };
  /** Which workspace (or Grid) a workspace token's client serves: named in logs, and removed when Slack refuses it. */
  const teamOfToken = new Map<string, string>();
  /** The workspaces to reach a person in, with the client for each: the one token, or each installed workspace asked. */
  async function workspaces(teamIds: string[]): Promise<{ teamId: string | undefined; client: WebClient }[]> {
    if (!opts.tokenFor) return [{ teamId: undefined, client }];
    const found: { teamId: string; client: WebClient }[] = [];
    for (const teamId of teamIds) {
      const token = await opts.tokenFor(teamId);
      if (!token) continue;
      // Rotated tokens leave old entries behind: a bound, not a leak.
      if (teamOfToken.size > 10_000) teamOfToken.clear();
      teamOfToken.set(token, teamId);
      found.push({ teamId, client: clientOf(token) });
    }
    return found;
  }
  const state = createSlackDeliveryState(() => deps.clock.now());
  // Distribution: each workspace's token has its own state — one tenant's revoked token or rate limit
  // (Slack's limits are per workspace) must not hold up every other tenant's DMs.
  const states = new Map<string, typeof state>();
  const stateOf = (c: WebClient) => {
    if (!opts.tokenFor || c === client || !c.token) return state;
    let s = states.get(c.token);
    if (!s) states.set(c.token, (s = createSlackDeliveryState(() => deps.clock.now())));
    return s;
  };

  /** One Web API call, its failure sorted into what the outbox should do. */
  async function call<T>(method: string, request: () => Promise<T>, via: WebClient = client): Promise<T> {
    const state = stateOf(via);
    const blocked = state.blockedNow(method);
    if (blocked) throw deferral(method, blocked.failure, blocked.until);
    let result: T;
    try {
      result = await request();
    } catch (err) {
      throw failureOf(method, classifySlackError(err), err, state, via);
    }
    const over = state.succeeded(method);
    if (over) deps.log.info({ slackError: over.code, method }, `Slack delivery works again: ${over.code} is over.`);
    return result;
  }

  function failureOf(method: string, f: SlackFailure, err: unknown, state: ReturnType<typeof createSlackDeliveryState>, via: WebClient): Error {
    const now = deps.clock.now().getTime();
    switch (f.kind) {
      case 'unreachable':
        return new RecipientUnreachable(`Slack ${method}: ${f.code}`);
      case 'rate_limited':
        state.rateLimited();
        state.block(method, now + f.retryAfterMs, f);
        return deferral(method, f, now + f.retryAfterMs);
      case 'operator': {
        const team = opts.tokenFor && via.token ? teamOfToken.get(via.token) : undefined;
        if (team && opts.installationRefused && DEAD_TOKEN_ERRORS.has(f.code)) {
          // One tenant's installation, not the operator's app: it goes (audited), its admins reinstall.
          deps.log.warn({ slackError: f.code, method, team }, `Slack refuses the token of workspace ${team} (${f.code}); checking it once more.`);
          const token = via.token!;
          clients.delete(via.token!);
          states.delete(via.token!);
          teamOfToken.delete(via.token!);
          void opts
            .installationRefused(team, token, f.code)
            .catch((e: unknown) => deps.log.error({ err: e, team }, 'could not remove a refused Slack installation'));
          return new RecipientUnreachable(`Slack ${method}: ${f.code} (workspace ${team} uninstalled)`);
        }
        if (state.operatorError(method, f, OPERATOR_REMIND_MS)) {
          deps.log.error(
            { slackError: f.code, method, fix: f.fix },
            `Slack refuses Roster's app (${f.code} on ${method}). To fix: ${f.fix} Meanwhile notifications that may go by email go by email, and Slack-only ones wait.`,
          );
        }
        state.block(f.tokenWide ? '*' : method, now + OPERATOR_PROBE_MS, f);
        return deferral(method, f, now);
      }
      case 'transient':
        return err as Error;
    }
  }

  function deferral(method: string, f: SlackFailure, until: number): Error {
    if (f.kind === 'rate_limited') return new DeliveryDeferred(`Slack ${method}: rate limited until ${new Date(until).toISOString()}`, new Date(until), false);
    if (f.kind === 'operator') {
      return new DeliveryDeferred(
        `Slack ${method}: ${f.code}, which the operator must fix: ${f.fix}`,
        new Date(deps.clock.now().getTime() + OPERATOR_PARK_MS),
        true,
      );
    }
    return new Error(`Slack ${method}: ${f.code}`);
  }

  /**
   * Where to DM the person: a Slack identity Roster knows (in a workspace it is installed in), else the
   * person found by email — in distribution mode, in the workspaces where the org's people are, most
   * of them first.
   */
  async function slackUserOf(c: NotificationContent): Promise<{ user: string; client: WebClient } | undefined> {
    // Distribution: the workspaces where the org's people are, most of them first. A message about an org
    // goes through one of them when the person is there too, not through another tenant's workspace.
    const teams = opts.tokenFor && c.notification.orgId ? await deps.domain.accounts.slackTeamsOfOrg(c.notification.orgId) : [];
    // An invite names an address: its account's Slack identities, when it has one (every identity was
    // linked by an email Slack vouched for in a trusted workspace, or confirmed by a link to it).
    const accountId = c.recipient.accountId ?? (c.recipient.email ? (await deps.domain.accounts.findByEmail(c.recipient.email))?.id : undefined);
    if (accountId) {
      const rank = (teamId: string) => (teams.includes(teamId) ? teams.indexOf(teamId) : teams.length);
      const known = (await deps.domain.accounts.slackUserIds(accountId)).sort((a, b) => rank(a.teamId) - rank(b.teamId));
      for (const k of known) {
        const [w] = await workspaces([k.teamId]);
        if (w) return { user: k.userId, client: w.client };
      }
    }
    if (!c.recipient.email) return undefined;
    const email = c.recipient.email;
    // Found by email only where Slack's word on emails is taken: elsewhere (distribution) a workspace's
    // admins could give anyone's address to a user of theirs, who would get messages meant for its owner.
    const places = (await workspaces(teams)).filter((w) => w.teamId === undefined || deps.domain.slackLinks.trusts(w.teamId));
    let unreachable: unknown;
    for (const w of places) {
      try {
        // users_not_found (not in this workspace) is a RecipientUnreachable like any other.
        const found = (await call('users.lookupByEmail', () => w.client.users.lookupByEmail({ email }), w.client)).user;
        // Only a Slack user Slack vouches has that email (confirmed, a full member of this workspace) gets a
        // message meant for its owner: it can carry a link that acts for them. Anyone else: the email covers it.
        // Their home is the workspace asked (a Grid's users: the Grid), so only is_stranger marks an outsider here.
        const home = (found as SlackUserInfo | undefined)?.enterprise_user?.enterprise_id || found?.team_id || '';
        if (!found?.id || !mayLinkByEmail(emailFactsOf(found as SlackUserInfo, home)))
          throw new RecipientUnreachable('Slack users.lookupByEmail: email not vouched for by Slack');
        return { user: found.id, client: w.client };
      } catch (err) {
        if (!(err instanceof RecipientUnreachable)) throw err;
        unreachable = err;
      }
    }
    if (unreachable) throw unreachable;
    return undefined;
  }

  async function post(to: { user: string; client: WebClient }, msg: { text: string; blocks?: unknown[] }) {
    return call(
      'chat.postMessage',
      () => to.client.chat.postMessage({ channel: to.user, text: msg.text, ...(msg.blocks ? { blocks: msg.blocks as never[] } : {}) }),
      to.client,
    );
  }

  return {
    /** Every request of a delivery timing out, with no retries: the outbox's claim outlasts it. */
    maxAttemptMs: REQUESTS_PER_DELIVERY * timeoutMs,
    /** For /healthz: the operator problem Slack delivery has now (with its fix), and rate limits (single-token mode; per workspace in distribution). */
    health: state.health,
    /** For /metrics: this process's delivery, and (distribution) how many workspaces' tokens Slack refuses now. */
    metricLines: () => [
      ...state.metricLines(),
      ...(opts.tokenFor
        ? [
            '# HELP roster_slack_workspaces_failing Installed workspaces whose Slack delivery meets a problem only their admins can fix (scopes, policy).',
            '# TYPE roster_slack_workspaces_failing gauge',
            `roster_slack_workspaces_failing ${[...states.values()].filter((s) => s.health().status === 'failing').length}`,
          ]
        : []),
    ],
    async deliver(c: NotificationContent): Promise<'sent' | 'skipped'> {
      const user = await slackUserOf(c);
      if (!user) return 'skipped';
      const org = c.orgName ?? 'your organization';
      const p = (c.notification.payload ?? {}) as Record<string, unknown>;
      switch (c.notification.kind) {
        case 'invite.sent':
        case 'invite.reminder': {
          if (!c.invite) return 'skipped';
          const msg = inviteDm({
            inviteId: c.invite.id,
            orgName: org,
            inviterName: c.invite.inviterName,
            role: c.invite.role,
            expiresAt: c.invite.expiresAt,
            link: inviteLink(deps.publicUrl, c.invite.token),
          });
          if (c.notification.kind === 'invite.reminder') msg.text = `Reminder: ${msg.text}`;
          await post(user, msg);
          return 'sent';
        }
        case 'join_request.created': {
          const system = { type: 'system' as const, job: 'deliver-notifications' };
          const req = await deps.domain.joinRequests.get(system, String(p.requestId));
          if (req.status !== 'pending') return 'skipped';
          const approver = await deps.domain.members.find(system, req.orgId, { accountId: c.recipient.accountId ?? '' }).catch(() => undefined);
          // Someone who can no longer decide join requests (demoted since) gets no buttons they can't use.
          if (!approver || !mayDecideJoinRequests(approver.role)) return 'skipped';
          const msg = joinRequestDm({
            requestId: req.id,
            orgName: org,
            requesterName: req.requesterName,
            requesterEmail: req.requesterEmail,
            message: req.message,
            roles: joinApprovalRoles(approver.role),
          });
          const posted = await post(user, msg);
          // The DM is out: failing now would send it again at the next attempt. Without the reference,
          // this copy only misses the update to the decision.
          if (posted.channel && posted.ts) {
            await deps.domain.messageRefs.remember(ids.messageRefs.joinRequest, req.id, posted.channel, posted.ts).catch((err) => {
              deps.log.warn({ err: (err as Error).message, request: req.id }, 'join request DM sent, but its reference could not be saved');
            });
          }
          return 'sent';
        }
        case 'join_request.decided':
          await post(user, {
            text: p.approved
              ? `:white_check_mark: Your request to join *${esc(org)}* was approved. You're in as ${describeStoredRole(p.role)}.`
              : `:no_entry_sign: Your request to join *${esc(org)}* was declined.${p.reason ? ` Reason: ${esc(String(p.reason))}` : ''}`,
          });
          return 'sent';
        case 'invite.accepted':
          await post(user, { text: `:tada: ${esc(String(p.email))} accepted your invite to *${esc(org)}*.` });
          return 'sent';
        case 'invite.declined':
          await post(user, { text: `${esc(String(p.email))} declined your invite to *${esc(org)}*.` });
          return 'sent';
        case 'member.role_changed':
          await post(user, { text: `Your role in *${esc(org)}* is now ${describeStoredRole(p.to)}.` });
          return 'sent';
        case 'member.removed':
          await post(user, { text: `You were removed from *${esc(org)}* and no longer have access to it.` });
          return 'sent';
        case 'webhook.disabled':
          await post(user, {
            text: `:warning: Roster stopped sending webhooks for *${esc(org)}* to ${esc(String(p.url))}: ${esc(String(p.reason))}. Events are still queued for it: fix the receiver, then enable the endpoint again (API: PATCH \`/api/v1/orgs/{org}/webhooks/${esc(String(p.endpointId))}\` with \`{"enabled": true}\`) and replay what failed (\`POST …/replay?since=…\`).`,
          });
          return 'sent';
        case 'member.consent_requested': {
          if (!c.consent || !c.notification.orgId) return 'skipped';
          await post(
            user,
            consentDm({
              orgId: c.notification.orgId,
              orgName: org,
              idp: typeof p.idp === 'string' ? p.idp : null,
              email: c.consent.email,
              role: c.consent.role,
              link: consentUrl(deps.publicUrl, c.consent.token),
            }),
          );
          return 'sent';
        }
        default:
          return 'skipped';
      }
    },
  };
}

/** The delivery client's own log lines (a failed request, a rate limit) go to debug: the outbox logs the outcome. */
function quietLogger(log: Logger): webApi.Logger {
  const child = log.child({ component: 'slack-delivery' });
  let level = webApi.LogLevel.INFO;
  const debug = (...m: unknown[]) => void (child.isLevelEnabled('debug') && child.debug(m.map(String).join(' ')));
  return {
    debug,
    info: debug,
    warn: debug,
    error: debug,
    setLevel: (l) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => {},
  };
}
