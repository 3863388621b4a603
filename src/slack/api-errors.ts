import { webApi } from '@slack/bolt';

/**
 * What a Slack Web API error means for a notification:
 * - unreachable: this person cannot get this DM (not in the workspace, a bot, deactivated, a message
 *   Slack refuses). Retrying never helps; the email goes instead when either way will do.
 * - operator: Slack refuses Roster's app itself (token, scopes, workspace policy). Nothing a retry
 *   fixes until someone changes the app or the settings: `fix` says what to do.
 * - rate_limited: Slack asked us to wait `retryAfterMs`.
 * - transient: anything else (Slack down, a network error, a 5xx): retried with backoff.
 */
export type SlackFailure =
  | { kind: 'unreachable'; code: string }
  | { kind: 'operator'; code: string; fix: string; tokenWide: boolean }
  | { kind: 'rate_limited'; code: string; retryAfterMs: number }
  | { kind: 'transient'; code: string };

/** Slack's answers meaning a bot token will never work again (for a distributed app: that workspace's installation is gone). */
export const DEAD_TOKEN_ERRORS: ReadonlySet<string> = new Set(['invalid_auth', 'token_revoked', 'account_inactive', 'team_disabled']);

/** Slack's answers about the recipient or the message: this DM can never be delivered. */
const unreachable = new Set([
  'channel_not_found',
  'cannot_dm_bot',
  'user_not_found',
  'users_not_found',
  'user_disabled',
  'user_not_visible',
  'is_archived',
  'not_in_channel',
  'messages_tab_disabled',
  'restricted_action',
  'restricted_action_read_only_channel',
  'restricted_action_thread_only_channel',
  'restricted_action_non_threadable_channel',
  'invalid_blocks',
  'invalid_blocks_format',
  'invalid_attachments',
  'msg_too_long',
  'no_text',
  'too_many_attachments',
  'too_many_blocks',
]);

const reinstall =
  'reinstall the Slack app to the workspace (api.slack.com/apps → your app → OAuth & Permissions → Reinstall), put its Bot User OAuth Token (xoxb-…) into SLACK_BOT_TOKEN and restart Roster';

/**
 * Slack refusing the app itself, with what the operator does about it. `account_inactive` belongs here:
 * for a bot token Slack means the token's app or workspace was deleted, not that the recipient left.
 */
const operatorFixes: Record<string, (data: Record<string, unknown>) => string> = {
  invalid_auth: () =>
    `Slack does not accept SLACK_BOT_TOKEN: copy the Bot User OAuth Token (xoxb-…) of the installed app into SLACK_BOT_TOKEN and restart Roster (or ${reinstall}).`,
  not_authed: () => `No token reached Slack: set SLACK_BOT_TOKEN to the app's Bot User OAuth Token (xoxb-…) and restart Roster.`,
  token_revoked: () => `The bot token was revoked (the app was uninstalled, or its token regenerated): ${reinstall}.`,
  token_expired: () => `The bot token expired (token rotation is on for this app): turn token rotation off, or ${reinstall}.`,
  account_inactive: () => `The bot token belongs to a deleted app, bot or workspace: ${reinstall}.`,
  team_disabled: () => `The Slack workspace is disabled: point Roster at an active workspace (${reinstall}).`,
  not_allowed_token_type: () =>
    'SLACK_BOT_TOKEN is not a bot token: use the Bot User OAuth Token (xoxb-…), not a user (xoxp-) or app-level (xapp-) token, and restart Roster.',
  missing_scope: (data) =>
    `The bot token lacks the scope ${typeof data.needed === 'string' ? data.needed : 'this call needs'}: add it under OAuth & Permissions → Bot Token Scopes (manifest.yml lists every scope Roster uses), then reinstall the app to the workspace.`,
  no_permission: () =>
    'A workspace setting does not let the Roster app do this: ask a workspace admin to allow the app (and check its scopes in manifest.yml).',
  access_denied: () => 'A workspace setting does not let the Roster app do this: ask a workspace admin to allow the app.',
  team_access_not_granted: () => 'The Roster app was not granted access to this workspace (Enterprise Grid): ask an org admin to add the app to the workspace.',
  ekm_access_denied: () => 'Workspace administrators have suspended posting messages (Slack EKM): ask them to restore it.',
  enterprise_is_restricted: () => 'The app is installed on an Enterprise Grid org instead of a workspace: install it to the workspace Roster serves.',
};

/** Scopes belong to a method: one that lacks a scope can still make other calls. Every other operator error blocks the token. */
const methodScoped = new Set(['missing_scope', 'no_permission', 'access_denied', 'ekm_access_denied']);

/** Slack's `ratelimited` answer in a 200 body (rare) carries no header: wait this long. */
const BODY_RATE_LIMIT_MS = 60_000;

export function classifySlackError(err: unknown): SlackFailure {
  const e = err as {
    code?: string;
    data?: Record<string, unknown> & { error?: string; response_metadata?: { retryAfter?: number } };
    retryAfter?: number;
    statusCode?: number;
  };
  if (e?.code === webApi.ErrorCode.RateLimitedError && typeof e.retryAfter === 'number') {
    return { kind: 'rate_limited', code: 'ratelimited', retryAfterMs: Math.max(1, e.retryAfter) * 1000 };
  }
  if (e?.code === webApi.ErrorCode.PlatformError && e.data?.error) {
    const code = e.data.error;
    if (unreachable.has(code)) return { kind: 'unreachable', code };
    const fix = operatorFixes[code];
    if (fix) return { kind: 'operator', code, fix: fix(e.data), tokenWide: !methodScoped.has(code) };
    if (code === 'ratelimited' || code === 'rate_limited') {
      const after = e.data.response_metadata?.retryAfter;
      return { kind: 'rate_limited', code, retryAfterMs: typeof after === 'number' ? after * 1000 : BODY_RATE_LIMIT_MS };
    }
    return { kind: 'transient', code };
  }
  if (e?.code === webApi.ErrorCode.HTTPError && e.statusCode === 404) {
    // Slack answers every method with 200 (or 429): a 404 means the address is not Slack's Web API.
    return {
      kind: 'operator',
      code: 'http_404',
      fix: "Slack's Web API is not at the configured address: check SLACK_API_URL (empty for Slack's own, https://slack-gov.com/api/ for GovSlack).",
      tokenWide: true,
    };
  }
  return { kind: 'transient', code: e?.code ?? 'unknown' };
}

/** What /healthz and /metrics show about Slack delivery from this process. */
type SlackDeliveryHealth = {
  status: 'ok' | 'failing';
  /** The last error only the operator can fix, while it lasts (cleared by a call that then works). */
  operatorError: { code: string; method: string; fix: string; since: string; lastSeen: string; occurrences: number } | null;
  /** Slack methods waiting out a rate limit, and until when. */
  rateLimitedUntil: Record<string, string>;
};

/**
 * This process's view of Slack delivery: the operator problem it last met (in memory: a restart, e.g.
 * after changing the token, starts clean), how often Slack refused or rate-limited us, and until when
 * a method must not be called (Retry-After, or a pause before probing an operator problem again).
 */
export function createSlackDeliveryState(now: () => Date) {
  let problem: (NonNullable<SlackDeliveryHealth['operatorError']> & { tokenWide: boolean; at: number }) | undefined;
  const operatorErrors = new Map<string, number>();
  let rateLimited = 0;
  /** method (or '*' for every method) → when calls may start again, and the failure to report meanwhile. */
  const blocked = new Map<string, { until: number; failure: SlackFailure }>();

  function health(): SlackDeliveryHealth {
    const t = now().getTime();
    const rateLimitedUntil: Record<string, string> = {};
    for (const [method, b] of blocked) if (b.failure.kind === 'rate_limited' && b.until > t) rateLimitedUntil[method] = new Date(b.until).toISOString();
    const operatorError = problem ? (({ tokenWide: _t, at: _a, ...p }) => p)(problem) : null;
    return { status: problem ? 'failing' : 'ok', operatorError, rateLimitedUntil };
  }

  return {
    /** Why this method must not be called now and until when, or undefined to go ahead. */
    blockedNow(method: string): { until: number; failure: SlackFailure } | undefined {
      const t = now().getTime();
      for (const key of [method, '*']) {
        const b = blocked.get(key);
        if (b && b.until > t) return b;
      }
      return undefined;
    },
    block(method: string, untilMs: number, failure: SlackFailure) {
      blocked.set(method, { until: untilMs, failure });
    },
    /** Returns true when this is news worth a log line (a new problem, or a reminder after remindMs). */
    operatorError(method: string, f: Extract<SlackFailure, { kind: 'operator' }>, remindMs: number): boolean {
      const at = now();
      operatorErrors.set(f.code, (operatorErrors.get(f.code) ?? 0) + 1);
      if (problem && problem.code === f.code && problem.method === method) {
        problem.lastSeen = at.toISOString();
        problem.occurrences++;
        if (at.getTime() - problem.at < remindMs) return false;
        problem.at = at.getTime();
        return true;
      }
      problem = {
        code: f.code,
        method,
        fix: f.fix,
        tokenWide: f.tokenWide,
        since: at.toISOString(),
        lastSeen: at.toISOString(),
        occurrences: 1,
        at: at.getTime(),
      };
      return true;
    },
    rateLimited() {
      rateLimited++;
    },
    /** A call worked: a token-wide problem is over, and so is a method's own (a scope since added). */
    succeeded(method: string): NonNullable<SlackDeliveryHealth['operatorError']> | undefined {
      if (!problem || (!problem.tokenWide && problem.method !== method)) return undefined;
      const { tokenWide: _t, at: _a, ...over } = problem;
      problem = undefined;
      blocked.delete('*');
      return over;
    },
    health,
    /** Prometheus lines, for /metrics. */
    metricLines(): string[] {
      const h = health();
      return [
        "# HELP roster_slack_delivery_ok 0 while Slack refuses Roster's app for a reason only the operator can fix (see /healthz for the fix).",
        '# TYPE roster_slack_delivery_ok gauge',
        `roster_slack_delivery_ok ${h.status === 'ok' ? 1 : 0}`,
        '# HELP roster_slack_operator_errors_total Slack answers that need the operator (token, scopes, workspace policy), by error code.',
        '# TYPE roster_slack_operator_errors_total counter',
        ...[...operatorErrors].map(([code, n]) => `roster_slack_operator_errors_total{code="${code}"} ${n}`),
        '# HELP roster_slack_rate_limited_total Slack rate-limit answers to notification delivery.',
        '# TYPE roster_slack_rate_limited_total counter',
        `roster_slack_rate_limited_total ${rateLimited}`,
      ];
    },
  };
}
