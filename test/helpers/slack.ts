import { createHmac, randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { expect } from 'vitest';
import { accountActor, type Actor } from '../../src/domain/context.js';
import type { Domain } from '../../src/domain/index.js';
import type { Database } from '../../src/db/client.js';
import type { AccountRow, OrgRow, Role } from '../../src/db/schema.js';
import { ids } from '../../src/slack/ids.js';
import type { TestClock } from './domain.js';
import { countRows as countRowsIn, joinByInvite, uniq } from './fixtures.js';
import { testConfig, useRoster } from './roster.js';
import { waitFor } from './wait.js';

export const SIGNING_SECRET = 'test-signing-secret-0123456789abcdef';
export const TEAM = 'T0TEST';

/**
 * One Web API call the fake got; `token` is the bearer token it carried (which workspace's installation).
 * `reply` is the body the fake answered with, once it has answered (e.g. the view id views.open gave).
 */
export type SlackCall = { method: string; args: Record<string, any>; at: number; token?: string | undefined; reply?: Record<string, any> };
/** A scripted answer: an HTTP status and headers (429 + Retry-After), a body (`{ ok: false, error }`), or none at all. */
export type FakeReply = { status?: number; headers?: Record<string, string>; body?: Record<string, any>; hang?: boolean };
/** What Slack says about a user beyond name and email (defaults: a confirmed email, a full member of this workspace). */
/** A Slack-confirmed email of a full member: Slack vouches for it. */
export const confirmedEmail = { confirmed: true, deleted: false, guest: false, external: false, workspaceTrusted: true };

export type SlackUserFacts = { emailConfirmed?: boolean; deleted?: boolean; restricted?: boolean; ultraRestricted?: boolean; stranger?: boolean };
/** `team`: the workspace the user belongs to (default TEAM); `enterprise`: their Enterprise Grid org, if any. */
export type SlackUser = { id: string; email?: string; name: string; facts?: SlackUserFacts; team?: string; enterprise?: string };

/**
 * A small fake of Slack's Web API on 127.0.0.1: records every call (JSON-decoding `view`, `blocks`
 * and other JSON-string fields) and answers like Slack. response_url posts land here too.
 */
export class FakeSlack {
  calls: SlackCall[] = [];
  responses: { id: string; body: Record<string, any> }[] = [];
  users = new Map<string, SlackUser>();
  /** Bot tokens of installed workspaces (distribution tests): auth.test answers for each. */
  tokens = new Map<string, { team: string; enterprise?: string }>();
  /** OAuth codes the fake's oauth.v2.access exchanges, with the answer Slack gives for each. */
  oauthCodes = new Map<string, Record<string, any>>();
  /** Refresh tokens (token rotation) the fake exchanges, by the workspace they belong to. */
  refreshTokens = new Map<string, string>();
  private server!: http.Server;
  url = '';
  private ts = 1000;
  /**
   * Lets a test answer instead of the fake (Slack's errors, rate limits, a slow or silent Slack): return
   * a reply, or undefined to answer as usual; it may wait before returning. The call is recorded first.
   */
  intercept: ((method: string, args: Record<string, any>, token?: string) => FakeReply | undefined | Promise<FakeReply | undefined>) | undefined;

  async start() {
    this.server = http.createServer((req, res) => {
      let raw = '';
      req.on('data', (c) => (raw += c));
      req.on('end', () => {
        const body = parseBody(req.headers['content-type'] ?? '', raw);
        const path = (req.url ?? '').replace(/^\/+/, '');
        if (path.startsWith('response/')) {
          this.responses.push({ id: path.slice('response/'.length), body });
          this.wakeWaiters();
          res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
          return;
        }
        const method = path.replace(/^api\//, '').split('?')[0]!;
        const bearer = /^Bearer\s+(\S+)/.exec(String(req.headers.authorization ?? ''))?.[1];
        const call: SlackCall = { method, args: body, at: Date.now(), token: bearer ?? (typeof body.token === 'string' ? body.token : undefined) };
        this.calls.push(call);
        this.wakeWaiters();
        void Promise.resolve(this.intercept?.(method, body, bearer ?? (typeof body.token === 'string' ? body.token : undefined))).then((r) => {
          if (r?.hang) return;
          call.reply = r?.body ?? this.answer(method, body, call.token);
          res.writeHead(r?.status ?? 200, { 'content-type': 'application/json', ...r?.headers }).end(JSON.stringify(call.reply));
        });
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/api/`;
  }

  stop() {
    return new Promise<void>((r) => {
      this.server.close(() => r());
      this.server.closeAllConnections();
    });
  }

  addUser(name: string, email?: string, facts?: SlackUserFacts, team?: string, enterprise?: string): SlackUser {
    const u = {
      id: `${enterprise ? 'W' : 'U'}${randomBytes(4).toString('hex').toUpperCase()}`,
      name,
      ...(email ? { email } : {}),
      ...(facts ? { facts } : {}),
      ...(team ? { team } : {}),
      ...(enterprise ? { enterprise } : {}),
    };
    this.users.set(u.id, u);
    return u;
  }

  responseUrl(id = randomBytes(4).toString('hex')) {
    return { id, url: this.url.replace(/api\/$/, `response/${id}`) };
  }

  private answer(method: string, args: Record<string, any>, token?: string): Record<string, any> {
    switch (method) {
      case 'auth.test': {
        const installed = token ? this.tokens.get(token) : undefined;
        if (installed)
          return { ok: true, user_id: `UBOT${installed.team}`, bot_id: `B${installed.team}`, team_id: installed.team, enterprise_id: installed.enterprise };
        return { ok: true, user_id: 'UBOT', bot_id: 'BBOT', team_id: TEAM };
      }
      case 'oauth.v2.access': {
        // Token rotation: a refresh token buys a new bot token (registered for its workspace), and a new refresh token.
        if (args.grant_type === 'refresh_token') {
          const team = this.refreshTokens.get(String(args.refresh_token));
          if (!team) return { ok: false, error: 'invalid_refresh_token' };
          // Each refresh token buys one new token: a second process refreshing with it at once is refused.
          this.refreshTokens.delete(String(args.refresh_token));
          const access = `xoxe.xoxb-${team.toLowerCase()}-${++this.ts}`;
          const refresh = `xoxe-${team.toLowerCase()}-${this.ts}`;
          this.tokens.set(access, { team });
          this.refreshTokens.set(refresh, team);
          return { ok: true, token_type: 'bot', access_token: access, refresh_token: refresh, expires_in: 43_200, team: { id: team } };
        }
        return this.oauthCodes.get(String(args.code)) ?? { ok: false, error: 'invalid_code' };
      }
      case 'users.info': {
        const u = this.users.get(args.user);
        if (!u) return { ok: false, error: 'user_not_found' };
        const f = u.facts ?? {};
        return {
          ok: true,
          user: {
            id: u.id,
            team_id: u.team ?? TEAM,
            ...(u.enterprise ? { enterprise_user: { id: u.id, enterprise_id: u.enterprise, enterprise_name: 'Grid' } } : {}),
            name: u.name,
            real_name: u.name,
            deleted: f.deleted ?? false,
            is_restricted: f.restricted ?? false,
            is_ultra_restricted: f.ultraRestricted ?? false,
            ...(f.stranger ? { is_stranger: true } : {}),
            is_email_confirmed: f.emailConfirmed ?? true,
            profile: { email: u.email, real_name: u.name, display_name: u.name },
          },
        };
      }
      case 'users.lookupByEmail': {
        // Slack answers with the same user object as users.info, for a user of the token's workspace only.
        const installed = token ? this.tokens.get(token) : undefined;
        const team = installed?.team || TEAM;
        const sameEmail = (x: SlackUser) => x.email?.toLowerCase() === String(args.email).toLowerCase();
        // An org-wide (Grid) token finds the Grid's users; a workspace token, that workspace's.
        const u = [...this.users.values()].find(
          (x) => sameEmail(x) && (installed?.enterprise ? x.enterprise === installed.enterprise : (x.team ?? TEAM) === team),
        );
        return u ? this.answer('users.info', { user: u.id }) : { ok: false, error: 'users_not_found' };
      }
      case 'chat.postMessage':
        return { ok: true, channel: args.channel?.startsWith('U') ? `D${args.channel.slice(1)}` : args.channel, ts: `${++this.ts}.000100`, message: {} };
      case 'chat.update':
        return { ok: true, channel: args.channel, ts: args.ts };
      case 'views.open':
      case 'views.push':
      case 'views.update':
      case 'views.publish':
        return { ok: true, view: { id: `V${++this.ts}`, ...(args.view ?? {}) } };
      case 'conversations.open':
        return { ok: true, channel: { id: `D${String(args.users).slice(1)}` } };
      default:
        return { ok: true };
    }
  }

  /** Calls of one method, optionally after a mark (index into calls). */
  of(method: string, since = 0): SlackCall[] {
    return this.calls.slice(since).filter((c) => c.method === method);
  }

  waitFor<T>(find: () => T | undefined | false | Promise<T | undefined | false>, what: string, timeoutMs = 10_000): Promise<T> {
    return waitFor(find, what, {
      timeoutMs,
      describe: () => `Calls: ${this.calls.map((c) => c.method).join(', ')}; responses: ${this.responses.length}`,
      // Woken at once by the next recorded call or response; the timer covers conditions on anything else.
      pause: () =>
        new Promise<void>((r) => {
          this.waiters.push(r);
          setTimeout(r, 15);
        }),
    });
  }

  private waiters: (() => void)[] = [];
  private wakeWaiters() {
    const waiting = this.waiters;
    this.waiters = [];
    for (const wake of waiting) wake();
  }

  waitForCall(method: string, since = 0, match: (c: SlackCall) => boolean = () => true) {
    return this.waitFor(() => this.of(method, since).find(match), `${method}`);
  }

  waitForResponse(id: string) {
    return this.waitFor(() => this.responses.find((r) => r.id === id)?.body, `response_url ${id}`);
  }
}

function parseBody(type: string, raw: string): Record<string, any> {
  const body: Record<string, any> = type.includes('application/json') ? (raw ? JSON.parse(raw) : {}) : Object.fromEntries(new URLSearchParams(raw));
  for (const key of ['view', 'blocks', 'attachments']) {
    if (typeof body[key] === 'string') {
      try {
        body[key] = JSON.parse(body[key]);
      } catch {
        // leave as is
      }
    }
  }
  return body;
}

export function sign(body: string, timestamp = Math.floor(Date.now() / 1000), secret = SIGNING_SECRET) {
  const sig = 'v0=' + createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex');
  return { 'x-slack-signature': sig, 'x-slack-request-timestamp': String(timestamp) };
}

export type SlackHarness = {
  slack: FakeSlack;
  domain: Domain;
  db: Database;
  clock: TestClock;
  baseUrl: string;
  /** Starts another Roster process on the same database and fake Slack (same settings plus env); returns its base URL. */
  another: (env?: Record<string, string>) => Promise<string>;
  /** Posts a signed form body to /slack/events. */
  post: (form: Record<string, string>, headers?: Record<string, string>) => Promise<{ status: number; text: string }>;
  /** Runs `/org <text>` as the user and waits for the reply sent to its response_url. */
  command: (user: SlackUser, text: string) => Promise<Record<string, any>>;
  /** Sends `/org <text>` and returns at once (for commands that open modals). */
  commandNoWait: (user: SlackUser, text: string) => Promise<{ status: number; responseId: string }>;
  /** Sends a block_actions payload; returns the response_url id used. */
  action: (user: SlackUser, action: Record<string, any>, extra?: Record<string, any>) => Promise<{ status: number; responseId: string; text: string }>;
  /** Submits a modal; returns the HTTP response body (response_action …) as JSON, or {} for a plain ack. */
  submit: (user: SlackUser, view: Record<string, any>, values: Record<string, Record<string, any>>) => Promise<Record<string, any>>;
};

/** Slack's form for a `/org <text>` slash command from the user, with its own response_url and trigger_id. */
export function slashCommand(slack: FakeSlack, user: SlackUser, text: string): { form: Record<string, string>; body: string; responseId: string } {
  const r = slack.responseUrl();
  const form = {
    command: '/org',
    text,
    team_id: TEAM,
    team_domain: 'test',
    user_id: user.id,
    user_name: user.name,
    channel_id: 'C0GENERAL',
    response_url: r.url,
    trigger_id: `trig-${r.id}`,
    api_app_id: 'A0ROSTER',
    token: 'legacy',
  };
  return { form, body: new URLSearchParams(form).toString(), responseId: r.id };
}

/** Posts a form body to /slack/events as is (sign it, or not, with `headers`); returns the HTTP status. */
export async function postSlackEvent(baseUrl: string, body: string, headers: Record<string, string>): Promise<number> {
  const res = await fetch(`${baseUrl}/slack/events`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body });
  await res.text();
  return res.status;
}

/**
 * Roster's real server with Slack on (HTTP mode), a fresh database, and a fake Slack API.
 * `h.another()` starts a second process on the same database and fake Slack.
 */
export function useSlackRoster(env: Record<string, string> = {}): () => SlackHarness {
  const slack = new FakeSlack();
  const slackEnv = () => ({ SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_BOT_TOKEN: 'xoxb-test', SLACK_API_URL: slack.url, ...env });
  return useRoster({ env: slackEnv, before: () => slack.start(), after: () => slack.stop() }, ({ baseUrl, domain, db, clock, another }) => {
    const post: SlackHarness['post'] = async (form, headers) => {
      const body = new URLSearchParams(form).toString();
      const res = await fetch(`${baseUrl}/slack/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...sign(body), ...headers },
        body,
      });
      return { status: res.status, text: await res.text() };
    };
    const commandNoWait: SlackHarness['commandNoWait'] = async (user, text) => {
      const { form, responseId } = slashCommand(slack, user, text);
      const res = await post(form);
      return { status: res.status, responseId };
    };
    return {
      slack,
      domain,
      another,
      db,
      clock,
      baseUrl,
      post,
      commandNoWait,
      command: async (user, text) => {
        const { status, responseId } = await commandNoWait(user, text);
        if (status !== 200) throw new Error(`slash command got HTTP ${status}`);
        return slack.waitForResponse(responseId);
      },
      action: async (user, action, extra = {}) => {
        const r = slack.responseUrl();
        const payload = {
          type: 'block_actions',
          team: { id: TEAM, domain: 'test' },
          user: { id: user.id, name: user.name, team_id: TEAM },
          api_app_id: 'A0ROSTER',
          trigger_id: `trig-${r.id}`,
          response_url: r.url,
          container: { type: 'message', message_ts: '1.1', channel_id: 'D1' },
          channel: { id: 'D1' },
          actions: [{ block_id: 'b', action_ts: '1', ...action }],
          ...extra,
        };
        const res = await post({ payload: JSON.stringify(payload) });
        return { status: res.status, responseId: r.id, text: res.text };
      },
      submit: async (user, view, values) => {
        const payload = {
          type: 'view_submission',
          team: { id: TEAM, domain: 'test' },
          user: { id: user.id, name: user.name, team_id: TEAM },
          api_app_id: 'A0ROSTER',
          trigger_id: 'trig-submit',
          view: { id: 'V1', type: 'modal', private_metadata: '', ...view, state: { values } },
        };
        const res = await post({ payload: JSON.stringify(payload) });
        if (res.status !== 200) throw new Error(`view_submission got HTTP ${res.status}: ${res.text}`);
        return res.text ? JSON.parse(res.text) : {};
      },
    };
  });
}

// ---------------------------------------------------------------------------------------------
// Fixtures shared by the Slack tests: people, orgs and members made through the real domain.
// ---------------------------------------------------------------------------------------------

export { uniq };

/** A Slack user the fake Slack knows, with their Roster account already linked. */
export type SlackPerson = { user: SlackUser; account: AccountRow; actor: Actor; email: string };

/** A new Slack user of the workspace (unique `name.<tag>@acme.test` email) who already has a Roster account. */
export async function slackPerson(h: SlackHarness, name: string): Promise<SlackPerson> {
  const email = `${name.toLowerCase()}.${uniq()}@acme.test`;
  const user = h.slack.addUser(name, email);
  const account = await h.domain.accounts.findOrCreateBySlack({ teamId: TEAM, userId: user.id, email, emailFacts: confirmedEmail, displayName: name });
  return { user, account, actor: accountActor(account.id, 'slack'), email };
}

/** A new org (unique name starting with `name`) whose owner is `owner`. */
export async function orgOwnedBy(h: SlackHarness, owner: SlackPerson, name = 'Acme'): Promise<OrgRow> {
  return h.domain.orgs.create(owner.actor, { name: `${name} ${uniq()}` });
}

/** `by` invites `p` (by email) to the org with the role, and `p` accepts: a real invite, start to end. */
export const inviteAndAccept = (h: SlackHarness, org: OrgRow, by: SlackPerson, p: SlackPerson, role: Role): Promise<void> =>
  joinByInvite(h.domain, org, by.actor, p, role);

/** A new Slack person who joined the org with the role through a real invite from `by`. */
export async function addMember(h: SlackHarness, org: OrgRow, by: SlackPerson, role: Role, name: string): Promise<SlackPerson> {
  const p = await slackPerson(h, name);
  await inviteAndAccept(h, org, by, p, role);
  return p;
}

/** An org owned by Olga, with Adam as admin and Mia as member (all three in Slack). */
export async function orgWithTeam(h: SlackHarness): Promise<{ org: OrgRow; olga: SlackPerson; adam: SlackPerson; mia: SlackPerson }> {
  const olga = await slackPerson(h, 'Olga');
  const org = await orgOwnedBy(h, olga);
  const adam = await addMember(h, org, olga, 'admin', 'Adam');
  const mia = await addMember(h, org, olga, 'member', 'Mia');
  return { org, olga, adam, mia };
}

/** How many rows of `table` match the SQL condition `where` (test-written SQL, never user input). */
export const countRows = (h: SlackHarness, table: string, where: string): Promise<number> => countRowsIn(h.db, table, where);

/** How many audit events of that action the org has. */
export const auditCount = (h: SlackHarness, org: OrgRow, action: string): Promise<number> =>
  countRows(h, 'audit_events', `org_id = '${org.id}' and action = '${action}'`);

/** Runs a command and checks its reply is ephemeral (only the person who asked sees it). */
export async function ask(h: SlackHarness, p: SlackPerson, text: string): Promise<Record<string, any>> {
  const reply = await h.command(p.user, text);
  expect(reply.response_type).toBe('ephemeral');
  return reply;
}

/** The text of a view's sections, one per line. */
export function viewText(view: Record<string, any>): string {
  return (view.blocks ?? [])
    .filter((b: any) => b.type === 'section')
    .map((b: any) => b.text?.text ?? '')
    .join('\n');
}

/** Whether a view is the "Loading…" modal a form-showing command opens first with its trigger_id. */
export const isLoadingModal = (view: Record<string, any>): boolean => view.callback_id === ids.views.loading;

/**
 * Runs a command that answers in a modal; returns the view the person ends up seeing. It waits for the
 * views.open of this command's trigger_id; when that is the "Loading…" modal, it waits for the
 * views.update that replaces it (same view id) and returns that view: the form, or the info modal
 * carrying the command's answer instead.
 */
export async function modalFrom(h: SlackHarness, user: SlackUser, text: string): Promise<Record<string, any>> {
  const mark = h.slack.calls.length;
  const { status, responseId } = await h.commandNoWait(user, text);
  expect(status).toBe(200);
  return viewAfterLoading(h, mark, `trig-${responseId}`);
}

/**
 * The view the person ends up seeing for a trigger_id: the one views.open got, or, when that is the
 * "Loading…" modal, the views.update that replaced it (same view id).
 */
async function viewAfterLoading(h: SlackHarness, mark: number, triggerId: string): Promise<Record<string, any>> {
  const opened = await h.slack.waitForCall('views.open', mark, (c) => c.args.trigger_id === triggerId);
  if (!isLoadingModal(opened.args.view)) return opened.args.view;
  const since = h.slack.calls.indexOf(opened);
  // views.update can only name the view id once the fake's answer to views.open has reached Roster.
  const updated = await h.slack.waitForCall('views.update', since, (c) => opened.reply?.view?.id !== undefined && c.args.view_id === opened.reply.view.id);
  return updated.args.view;
}

/**
 * A click (button or menu; `extra` adds to the payload, e.g. HOME for App Home) that answers in a modal;
 * returns the view the person ends up seeing. A click that shows a form opens the "Loading…" modal with
 * its trigger_id first, then fills it (the form, or the info modal with a refusal): that final view.
 */
export async function clickModal(
  h: SlackHarness,
  user: SlackUser,
  action: Record<string, unknown>,
  extra: Record<string, any> = {},
): Promise<Record<string, any>> {
  const mark = h.slack.calls.length;
  const { status, responseId } = await h.action(user, action, extra);
  expect(status).toBe(200);
  return viewAfterLoading(h, mark, `trig-${responseId}`);
}

/** A click that answers in a modal; the text of the view the person ends up seeing (a refusal, say). */
export async function clickModalText(h: SlackHarness, user: SlackUser, action: Record<string, unknown>, extra: Record<string, any> = {}): Promise<string> {
  return viewText(await clickModal(h, user, action, extra));
}

/** Runs a command that answers in a modal; the text of the view the person ends up seeing (a refusal, say). */
export async function modalText(h: SlackHarness, user: SlackUser, text: string): Promise<string> {
  return viewText(await modalFrom(h, user, text));
}

/** callback_ids of the forms shown (views opened, pushed or updated) since a mark: every view but the info modal. */
export function formsShown(h: SlackHarness, since: number): string[] {
  return h.slack.calls
    .slice(since)
    .filter((c) => ['views.open', 'views.push', 'views.update'].includes(c.method) && ![ids.views.info, ids.views.loading].includes(c.args.view?.callback_id))
    .map((c) => String(c.args.view?.callback_id));
}

// App Home, as Slack drives it.

/** Where an event comes from: a workspace (default TEAM), and for Enterprise Grid its org and whether Roster is installed org-wide. */
export type EventSource = { team?: string; enterprise?: string; orgWide?: boolean };

/**
 * Slack's app_home_opened event, as Slack sends it: a signed JSON event_callback with its
 * authorizations. Resolves with the views.publish call it caused (its `token` tells which installation).
 */
export async function openHomeCall(h: SlackHarness, user: SlackUser, from: EventSource = {}): Promise<SlackCall> {
  const team = from.team ?? TEAM;
  const mark = h.slack.calls.length;
  const body = JSON.stringify({
    token: 'legacy',
    team_id: team,
    ...(from.enterprise ? { enterprise_id: from.enterprise } : {}),
    api_app_id: 'A0ROSTER',
    type: 'event_callback',
    event_id: `Ev${uniq()}`,
    event_time: Math.floor(Date.now() / 1000),
    authorizations: [
      from.orgWide
        ? { enterprise_id: from.enterprise, team_id: null, user_id: `UBOT${from.enterprise}`, is_bot: true, is_enterprise_install: true }
        : { team_id: team, user_id: `UBOT${team}`, is_bot: true, is_enterprise_install: false },
    ],
    event: { type: 'app_home_opened', user: user.id, channel: `D${user.id.slice(1)}`, tab: 'home', event_ts: `${Date.now() / 1000}` },
  });
  const res = await fetch(`${h.baseUrl}/slack/events`, { method: 'POST', headers: { 'content-type': 'application/json', ...sign(body) }, body });
  expect(res.status).toBe(200);
  return h.slack.waitForCall('views.publish', mark, (c) => c.args.user_id === user.id);
}

/** App Home opened by the user; resolves with the view published. */
export async function openHome(h: SlackHarness, user: SlackUser, from: EventSource = {}): Promise<any> {
  return (await openHomeCall(h, user, from)).args.view;
}

export const HOME = { container: { type: 'view', view_id: 'VHOME' }, view: { id: 'VHOME', type: 'home', blocks: [], state: { values: {} } } };

/** A click in App Home; resolves with the next App Home published for that user. */
export async function homeClick(h: SlackHarness, user: SlackUser, action: Record<string, unknown>): Promise<any> {
  const mark = h.slack.calls.length;
  await h.action(user, action, HOME);
  return (await h.slack.waitForCall('views.publish', mark, (c) => c.args.user_id === user.id)).args.view;
}

/** The link of the newest Slack-link email Roster sent to `email` (development email: .eml files in the test outbox folder). */
export async function slackLinkFromEmail(email: string): Promise<string> {
  return (await slackLinkEmail(email)).link;
}

/** The newest Slack-link email to `email`: its link path, and its text (quoted-printable decoded). */
export async function slackLinkEmail(email: string): Promise<{ link: string; text: string }> {
  return waitFor(async () => {
    const dir = testConfig().email.outboxDir;
    const files = await readdir(dir).catch(() => [] as string[]);
    for (const f of files.sort().reverse()) {
      const raw = await readFile(path.join(dir, f), 'utf8');
      // Quoted-printable: soft line breaks and =XX escapes.
      const bytes = raw.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
      const text = Buffer.from(bytes, 'latin1').toString('utf8');
      if (!text.toLowerCase().includes(`to: ${email.toLowerCase()}`)) continue;
      const m = /https:\/\/roster\.test(\/slack-link\/[A-Za-z0-9_.-]+)/.exec(text);
      if (m) return { link: m[1]!, text };
    }
    return undefined;
  }, `a Slack-link email to ${email}`);
}

/**
 * The Slack-link email Roster sent to `email`, opened and confirmed the way a browser does: the page,
 * then its form with the CSRF value it carries. Returns what the confirmation answered (or, when the page
 * is not the expected 200, the page).
 */
export async function confirmSlackEmail(
  h: Pick<SlackHarness, 'baseUrl'>,
  email: string,
  opts: { expectPage?: number } = {},
): Promise<{ status: number; text: string }> {
  const link = await slackLinkFromEmail(email);
  const page = await fetch(`${h.baseUrl}${link}`);
  const html = await page.text();
  expect(page.status, `${link}: ${html.slice(-400)}`).toBe(opts.expectPage ?? 200);
  if (page.status !== 200) return { status: page.status, text: html };
  const csrf = /name="csrf" value="([^"]+)"/.exec(html)?.[1];
  expect(csrf, html).toBeTruthy();
  const done = await fetch(`${h.baseUrl}${link}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ csrf: csrf! }).toString(),
  });
  return { status: done.status, text: await done.text() };
}
