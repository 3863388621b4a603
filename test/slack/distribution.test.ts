import { describe, expect, it } from 'vitest';
import { accountActor } from '../../src/domain/context.js';
import { joinByInvite } from '../helpers/fixtures.js';
import {
  SIGNING_SECRET,
  confirmSlackEmail,
  countRows,
  slackLinkEmail,
  slackLinkFromEmail,
  openHomeCall,
  sign,
  slashCommand,
  uniq,
  useSlackRoster,
  type SlackHarness,
  type SlackUser,
} from '../helpers/slack.js';

/**
 * Distribution (issue 13 §1): Roster installed into many workspaces through Slack's OAuth v2 flow, the real
 * routes with their state cookie; each workspace served with its own installation's token; a workspace
 * with none is told so; uninstalling ends service.
 */
const harness = useSlackRoster({ SLACK_CLIENT_ID: '111.222', SLACK_CLIENT_SECRET: 'client-secret-for-tests' });

/** Installs Roster into a workspace the way a browser does: the install page, Slack's redirect with code and state. */
async function install(h: SlackHarness, team: string, name = `Team ${team}`, rotation?: { expiresIn: number }) {
  const token = `xoxb-${team.toLowerCase()}-${uniq()}`;
  const code = `code-${uniq()}`;
  h.slack.tokens.set(token, { team });
  const refresh = `xoxe-${team.toLowerCase()}-${uniq()}`;
  if (rotation) h.slack.refreshTokens.set(refresh, team);
  h.slack.oauthCodes.set(code, {
    ...(rotation ? { refresh_token: refresh, expires_in: rotation.expiresIn } : {}),
    ok: true,
    app_id: 'A0ROSTER',
    authed_user: { id: `UINSTALL${team}` },
    scope: 'commands,chat:write,users:read,users:read.email',
    token_type: 'bot',
    access_token: token,
    bot_user_id: `UBOT${team}`,
    team: { id: team, name },
    enterprise: null,
    is_enterprise_install: false,
  });
  return { token, ...(await installInBrowser(h, code)) };
}

/**
 * What a browser does: the install page (its Add to Slack link carries a state, and a cookie is set),
 * then Slack's redirect back with the code the fake Slack will exchange.
 */
async function installInBrowser(h: SlackHarness, code: string) {
  const page = await fetch(`${h.baseUrl}/slack/install`);
  expect(page.status).toBe(200);
  const link = /href="([^"]+)"/.exec(await page.text())![1]!.replaceAll('&amp;', '&');
  expect(link).toMatch(/^https:\/\/slack\.com\/oauth\/v2\/authorize\?/);
  const state = new URL(link).searchParams.get('state')!;
  const cookie = page.headers.get('set-cookie')!.split(';')[0]!;
  const done = await fetch(`${h.baseUrl}/slack/oauth_redirect?code=${code}&state=${encodeURIComponent(state)}`, { headers: { cookie } });
  return { status: done.status, text: await done.text(), link };
}

async function commandIn(h: SlackHarness, team: string, user: SlackUser, text: string) {
  const { form, responseId } = slashCommand(h.slack, user, text);
  const res = await h.post({ ...form, team_id: team });
  return { res, responseId };
}

/** An org-wide install into an Enterprise Grid org, through the same OAuth routes. */
async function installGrid(h: SlackHarness, enterprise: string) {
  const token = `xoxb-${enterprise.toLowerCase()}-${uniq()}`;
  const code = `code-${uniq()}`;
  h.slack.tokens.set(token, { team: '', enterprise });
  h.slack.oauthCodes.set(code, {
    ok: true,
    app_id: 'A0ROSTER',
    authed_user: { id: `WINSTALL${enterprise}` },
    scope: 'commands,chat:write,users:read,users:read.email',
    token_type: 'bot',
    access_token: token,
    bot_user_id: `UBOT${enterprise}`,
    team: null,
    enterprise: { id: enterprise, name: 'Grid Co' },
    is_enterprise_install: true,
  });
  return { token, ...(await installInBrowser(h, code)) };
}

describe('installing Roster into many workspaces', () => {
  it('the install page links to Slack with Roster’s scopes and a state; the redirect stores the installation sealed and says so', async () => {
    const h = harness();
    const team = `T${uniq().toUpperCase()}`;
    const r = await install(h, team, 'Acme Workspace');
    expect(r.status, r.text).toBe(200);
    expect(r.text).toContain('Roster is now installed in <strong>Acme Workspace</strong>');
    const scopes = new URL(r.link).searchParams.get('scope');
    expect(scopes?.split(',').sort()).toEqual(['chat:write', 'commands', 'users:read', 'users:read.email']);
    const rows = await h.db.pool.query(`select sealed from slack_installations where team_id = $1`, [team]);
    expect(rows.rows).toHaveLength(1);
    // The bot token is not readable in the database.
    expect(rows.rows[0].sealed).not.toContain(r.token);
    expect(await countRows(h, 'audit_events', `action = 'slack.installed' and after->>'teamId' = '${team}'`)).toBe(1);
  });

  it('a redirect without the state cookie (another browser, a forged link) installs nothing', async () => {
    const h = harness();
    const team = `T${uniq().toUpperCase()}`;
    const code = `code-${uniq()}`;
    h.slack.oauthCodes.set(code, { ok: true, access_token: 'xoxb-forged', token_type: 'bot', team: { id: team, name: 'X' } });
    const res = await fetch(`${h.baseUrl}/slack/oauth_redirect?code=${code}&state=forged`);
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('Roster could not be installed');
    expect(await countRows(h, 'slack_installations', `team_id = '${team}'`)).toBe(0);
  });

  it("an org-wide install approved from Slack's admin pages (a callback with no state at all) is installed; a state that does not verify is still refused", async () => {
    const h = harness();
    const grid = `E${uniq().toUpperCase()}`;
    const code = `code-${uniq()}`;
    const token = `xoxb-${grid.toLowerCase()}`;
    h.slack.tokens.set(token, { team: '', enterprise: grid });
    h.slack.oauthCodes.set(code, {
      ok: true,
      app_id: 'A0ROSTER',
      authed_user: { id: 'WADMIN' },
      scope: 'commands,chat:write,users:read,users:read.email',
      token_type: 'bot',
      access_token: token,
      bot_user_id: 'UBOTG',
      team: null,
      enterprise: { id: grid, name: 'Approved Grid' },
      is_enterprise_install: true,
    });
    const res = await fetch(`${h.baseUrl}/slack/oauth_redirect?code=${code}`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('Roster is now installed in <strong>Approved Grid</strong>');
    expect(await countRows(h, 'slack_installations', `enterprise_id = '${grid}' and is_enterprise_install`)).toBe(1);
  });

  it("each workspace is served with its own installation's token", async () => {
    const h = harness();
    const [one, two] = [`T${uniq().toUpperCase()}`, `T${uniq().toUpperCase()}`];
    const a = await install(h, one);
    const b = await install(h, two);
    const ana = h.slack.addUser('Ana', `ana.${uniq()}@one.test`, undefined, one);
    const bob = h.slack.addUser('Bob', `bob.${uniq()}@two.test`, undefined, two);
    expect((await openHomeCall(h, ana, { team: one })).token).toBe(a.token);
    expect((await openHomeCall(h, bob, { team: two })).token).toBe(b.token);
  });

  it('a workspace Roster is not installed in is told so, and nothing changes', async () => {
    const h = harness();
    const stranger = h.slack.addUser('Stranger', `s.${uniq()}@none.test`, undefined, 'T0NOWHERE');
    const before = await countRows(h, 'orgs', 'true');
    const { res } = await commandIn(h, 'T0NOWHERE', stranger, 'create Nowhere Inc');
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toMatchObject({ response_type: 'ephemeral', text: expect.stringMatching(/Roster is not installed in this workspace/) });
    expect(await countRows(h, 'orgs', 'true')).toBe(before);
  });

  it('app_uninstalled removes the installation (audited), and the workspace is not served any more', async () => {
    const h = harness();
    const team = `T${uniq().toUpperCase()}`;
    await install(h, team);
    const body = JSON.stringify({
      token: 'legacy',
      team_id: team,
      api_app_id: 'A0ROSTER',
      type: 'event_callback',
      event_id: `Ev${uniq()}`,
      event_time: Math.floor(Date.now() / 1000),
      event: { type: 'app_uninstalled' },
    });
    const res = await fetch(`${h.baseUrl}/slack/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...sign(body, undefined, SIGNING_SECRET) },
      body,
    });
    expect(res.status).toBe(200);
    await expect.poll(() => countRows(h, 'slack_installations', `team_id = '${team}'`)).toBe(0);
    expect(await countRows(h, 'audit_events', `action = 'slack.uninstalled'`)).toBeGreaterThan(0);
    const user = h.slack.addUser('Late', `late.${uniq()}@gone.test`, undefined, team);
    const { res: after } = await commandIn(h, team, user, 'help');
    expect(JSON.parse(after.text).text).toMatch(/Roster is not installed in this workspace/);
  });

  it('an uninstall through one process is seen by every other at once (installation lookups are cached, and invalidated)', async () => {
    const h = harness();
    const team = `T${uniq().toUpperCase()}`;
    await install(h, team);
    const second = await h.another();
    const user = h.slack.addUser('Pia', `pia.${uniq()}@multi.test`, undefined, team);
    const askSecond = async () => {
      const { form } = slashCommand(h.slack, user, 'help');
      const body = new URLSearchParams({ ...form, team_id: team }).toString();
      const res = await fetch(`${second}/slack/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...sign(body) },
        body,
      });
      return res.text();
    };
    // The second process serves the workspace (and now holds its installation in its cache)…
    expect(await askSecond()).not.toMatch(/not installed/);
    expect(await askSecond()).not.toMatch(/not installed/);
    await h.domain.slackInstallations.remove({ teamId: team }, 'app_uninstalled');
    // …and stops as soon as the change is heard.
    await expect.poll(askSecond, { timeout: 5_000 }).toMatch(/Roster is not installed in this workspace/);
  });

  it('with token rotation on, a bot token about to expire is refreshed, and requests and DMs use the new one', async () => {
    const h = harness();
    const team = `T${uniq().toUpperCase()}`;
    const { token } = await install(h, team, undefined, { expiresIn: 600 });
    const owner = h.slack.addUser('Rita', `rita.${uniq()}@rot.test`, undefined, team);
    await openHomeCall(h, owner, { team: team });
    await confirmSlackEmail(h, owner.email!);
    const { responseId } = await commandIn(h, team, owner, `create Rot ${uniq()}`);
    await h.slack.waitForResponse(responseId);
    const email = `new.${uniq()}@rot.test`;
    const invitee = h.slack.addUser('Nev', email, undefined, team);
    // Known to Roster (confirmed): only such a person is DMed in a workspace not trusted for emails.
    await openHomeCall(h, invitee, { team });
    await confirmSlackEmail(h, email);
    const mark = h.slack.calls.length;
    await h.slack.waitForResponse((await commandIn(h, team, owner, `invite ${email}`)).responseId);
    const dm = await h.slack.waitForCall('chat.postMessage', mark, (c) => c.args.channel === invitee.id);
    expect(dm.token).not.toBe(token);
    expect(dm.token).toMatch(/^xoxe\.xoxb-/);
  });

  it('an expiring token is refreshed once however many processes need it at once, and a refresh is not audited as a reinstall', async () => {
    const h = harness();
    const other = await h.another();
    const team = `T${uniq().toUpperCase()}`;
    await install(h, team, undefined, { expiresIn: 600 });
    const people = Array.from({ length: 6 }, (_, i) => h.slack.addUser(`P${i}`, undefined, undefined, team));
    const mark = h.slack.calls.length;
    // Six first requests at once, through two processes: every one is answered with a working token.
    const sent = people.map((p, i) => {
      const { form, responseId } = slashCommand(h.slack, p, 'help');
      const body = new URLSearchParams({ ...form, team_id: team }).toString();
      const base = i % 2 ? other : h.baseUrl;
      return fetch(`${base}/slack/events`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...sign(body) }, body }).then(
        () => responseId,
      );
    });
    for (const id of await Promise.all(sent)) expect((await h.slack.waitForResponse(id)).text).not.toMatch(/try again|not installed/i);
    const refreshes = h.slack.calls.slice(mark).filter((c) => c.method === 'oauth.v2.access' && c.args.grant_type === 'refresh_token');
    expect(refreshes).toHaveLength(1);
    expect(await countRows(h, 'audit_events', `action = 'slack.installed' and after->>'teamId' = '${team}'`)).toBe(1);
  });

  it('Enterprise Grid: one org-wide install serves every workspace of the Grid, and a Grid user is one person across them', async () => {
    const h = harness();
    const grid = `E${uniq().toUpperCase()}`;
    const [ta, tb] = [`T${uniq().toUpperCase()}`, `T${uniq().toUpperCase()}`];
    const r = await installGrid(h, grid);
    expect(r.status, r.text).toBe(200);
    expect(r.text).toContain('Roster is now installed in <strong>Grid Co</strong>');
    const wes = h.slack.addUser('Wes', `wes.${uniq()}@grid.test`, undefined, ta, grid);
    // First sight: Wes confirms his address (the Grid is not one the operator trusts for emails).
    const first = slashCommand(h.slack, wes, 'list');
    await h.post({ ...first.form, team_id: ta, enterprise_id: grid, is_enterprise_install: 'true' });
    expect((await h.slack.waitForResponse(first.responseId)).text).toMatch(/confirm your email address/);
    await confirmSlackEmail(h, wes.email!);
    // A command in workspace A of the Grid…
    const { form } = slashCommand(h.slack, wes, `create Grid Org ${uniq()}`);
    const res = await h.post({ ...form, team_id: ta, enterprise_id: grid, is_enterprise_install: 'true' });
    expect(res.status).toBe(200);
    const created = await h.slack.waitForResponse(form.response_url!.split('/').at(-1)!);
    expect(created.text).toMatch(/Created/);
    // …and App Home in workspace B: the same person, with the org they made there, through the Grid's token.
    const publish = await openHomeCall(h, wes, { team: tb, enterprise: grid, orgWide: true });
    expect(publish.token).toBe(r.token);
    expect(JSON.stringify(publish.args.view)).toContain('Grid Org');
    expect(await countRows(h, 'slack_identities', `team_id = '${grid}'`)).toBe(1);
  });

  it('an installation without a bot token (an edited install link) is refused and does not replace the working one', async () => {
    const h = harness();
    const team = `T${uniq().toUpperCase()}`;
    const good = await install(h, team);
    const code = `code-${uniq()}`;
    h.slack.oauthCodes.set(code, {
      ok: true,
      app_id: 'A0ROSTER',
      authed_user: { id: 'UX', access_token: 'xoxp-user', token_type: 'user' },
      team: { id: team, name: 'T' },
    });
    const bad = await installInBrowser(h, code);
    expect(bad.status).toBe(400);
    const ana = h.slack.addUser('Ana', `ana.${uniq()}@keep.test`, undefined, team);
    expect((await openHomeCall(h, ana, { team: team })).token).toBe(good.token);
  });

  it('a click from a workspace Roster is not installed in is told so through its response_url', async () => {
    const h = harness();
    const stranger = h.slack.addUser('Stranger', `s.${uniq()}@none.test`, undefined, 'T0NOWHERE');
    const { responseId } = await h.action(stranger, { action_id: 'home_create_org', value: 'create', type: 'button' }, { team: { id: 'T0NOWHERE' } });
    expect((await h.slack.waitForResponse(responseId)).text).toMatch(/Roster is not installed in this workspace/);
  });

  it('a Grid user Roster met under their workspace before is the same person when the request names the Grid', async () => {
    const h = harness();
    const grid = `E${uniq().toUpperCase()}`;
    const ta = `T${uniq().toUpperCase()}`;
    await installGrid(h, grid);
    const wes = h.slack.addUser('Wes', `wes.${uniq()}@grid.test`, undefined, ta, grid);
    const before = await h.domain.accounts.findOrCreateBySlack({ teamId: ta, userId: wes.id, email: wes.email, displayName: 'Wes' });
    const { form } = slashCommand(h.slack, wes, 'list');
    await h.post({ ...form, team_id: ta, enterprise_id: grid, is_enterprise_install: 'true' });
    await h.slack.waitForResponse(form.response_url!.split('/').at(-1)!);
    expect(await countRows(h, 'slack_identities', `user_id = '${wes.id}'`)).toBe(1);
    expect((await h.domain.accounts.bySlack(ta, wes.id))?.id).toBe(before.id);
  });

  it("one workspace's broken token does not hold up another workspace's DMs, and a token Slack refuses for good removes that installation", async () => {
    const h = harness();
    const [ta, tb] = [`T${uniq().toUpperCase()}`, `T${uniq().toUpperCase()}`];
    const a = await install(h, ta);
    const b = await install(h, tb);
    // Workspace A's token stops working (Slack says so again when asked: auth.test).
    h.slack.intercept = (method, _args, token) =>
      (method === 'chat.postMessage' || method === 'auth.test') && token === a.token ? { body: { ok: false, error: 'invalid_auth' } } : undefined;
    try {
      for (const [team, who] of [
        [ta, 'Ann'],
        [tb, 'Ben'],
      ] as const) {
        const owner = h.slack.addUser(who, `${who.toLowerCase()}.${uniq()}@ws.test`, undefined, team);
        await openHomeCall(h, owner, { team: team });
        await confirmSlackEmail(h, owner.email!);
        await h.slack.waitForResponse((await commandIn(h, team, owner, `create ${who} Org ${uniq()}`)).responseId);
        const email = `to.${uniq()}@ws.test`;
        const invitee = h.slack.addUser('To', email, undefined, team);
        await openHomeCall(h, invitee, { team });
        await confirmSlackEmail(h, email);
        const mark = h.slack.calls.length;
        await h.slack.waitForResponse((await commandIn(h, team, owner, `invite ${email}`)).responseId);
        if (team === tb) {
          const dm = await h.slack.waitForCall('chat.postMessage', mark, (c) => c.args.channel === invitee.id);
          expect(dm.token).toBe(b.token);
        }
      }
      // Slack refused workspace A's token for good: its installation is gone (audited), as if uninstalled.
      await expect.poll(() => countRows(h, 'slack_installations', `team_id = '${ta}'`), { timeout: 5_000 }).toBe(0);
      expect(await countRows(h, 'audit_events', `action = 'slack.uninstalled' and after->>'reason' = 'invalid_auth' and before->>'teamId' = '${ta}'`)).toBe(1);
      expect(await countRows(h, 'slack_installations', `team_id = '${tb}'`)).toBe(1);
    } finally {
      h.slack.intercept = undefined;
    }
  });

  it("a DM about an org goes through that org's workspace when the person is known in several, not through another tenant's", async () => {
    const h = harness();
    const [elsewhere, home] = [`T${uniq().toUpperCase()}`, `T${uniq().toUpperCase()}`];
    await install(h, elsewhere);
    const { token } = await install(h, home);
    const trusted = { confirmed: true, deleted: false, guest: false, external: false, workspaceTrusted: true };
    const meet = (team: string, name: string, email: string) => {
      const u = h.slack.addUser(name, email, undefined, team);
      return h.domain.accounts.findOrCreateBySlack({ teamId: team, userId: u.id, email, emailFacts: trusted, displayName: name }).then((a) => ({ u, a }));
    };
    const email = `pat.${uniq()}@both.test`;
    // Pat was met first in another tenant's workspace, then in the org's.
    const first = await meet(elsewhere, 'Pat', email);
    const second = await meet(home, 'Pat', email);
    expect(second.a.id).toBe(first.a.id);
    const owner = await meet(home, 'Oda', `oda.${uniq()}@both.test`);
    const org = await h.domain.orgs.create(accountActor(owner.a.id, 'slack'), { name: `Home Org ${uniq()}` });
    await joinByInvite(h.domain, org, accountActor(owner.a.id, 'slack'), { actor: accountActor(first.a.id, 'slack'), email }, 'member');
    const mark = h.slack.calls.length;
    await h.slack.waitForResponse((await commandIn(h, home, owner.u, `role ${email} admin`)).responseId);
    const dm = await h.slack.waitForCall('chat.postMessage', mark, (c) => c.args.channel === second.u.id || c.args.channel === first.u.id);
    expect(dm.args.channel).toBe(second.u.id);
    expect(dm.token).toBe(token);
  });

  it('one odd refusal of a token removes nothing: Slack is asked again (auth.test) first', async () => {
    const h = harness();
    const team = `T${uniq().toUpperCase()}`;
    const a = await install(h, team);
    const owner = h.slack.addUser('Odd', `odd.${uniq()}@odd.test`, undefined, team);
    await openHomeCall(h, owner, { team });
    await confirmSlackEmail(h, owner.email!);
    await h.slack.waitForResponse((await commandIn(h, team, owner, `create Odd ${uniq()}`)).responseId);
    const email = `once.${uniq()}@odd.test`;
    const invitee = h.slack.addUser('Once', email, undefined, team);
    await openHomeCall(h, invitee, { team });
    await confirmSlackEmail(h, email);
    h.slack.intercept = (method, _args, token) =>
      method === 'chat.postMessage' && token === a.token ? { body: { ok: false, error: 'invalid_auth' } } : undefined;
    try {
      const mark = h.slack.calls.length;
      await h.slack.waitForResponse((await commandIn(h, team, owner, `invite ${email}`)).responseId);
      await h.slack.waitForCall('auth.test', mark, (c) => c.token === a.token);
      await new Promise((r) => setTimeout(r, 300));
      expect(await countRows(h, 'slack_installations', `team_id = '${team}'`)).toBe(1);
    } finally {
      h.slack.intercept = undefined;
    }
  });

  it('a token refresh Slack does not answer leaves the current token in use while it still works', async () => {
    const h = harness();
    const team = `T${uniq().toUpperCase()}`;
    const { token } = await install(h, team, undefined, { expiresIn: 600 });
    h.slack.intercept = (method, args) =>
      method === 'oauth.v2.access' && args.grant_type === 'refresh_token' ? { status: 500, body: { ok: false, error: 'fatal_error' } } : undefined;
    try {
      const user = h.slack.addUser('Ria', undefined, undefined, team);
      const mark = h.slack.calls.length;
      const reply = await h.slack.waitForResponse((await commandIn(h, team, user, 'help')).responseId);
      expect(reply.text).not.toMatch(/try again|not installed|unavailable/i);
      const used = h.slack.calls.slice(mark).filter((c) => c.method === 'users.info');
      expect(used.at(-1)?.token).toBe(token);
    } finally {
      h.slack.intercept = undefined;
    }
  });

  it("an invite DM goes to an invitee Roster knows, with their workspace's token; one known only by email is not looked up in a workspace not trusted for emails", async () => {
    const h = harness();
    const team = `T${uniq().toUpperCase()}`;
    const { token } = await install(h, team);
    const owner = h.slack.addUser('Olga', `olga.${uniq()}@two.test`, undefined, team);
    await openHomeCall(h, owner, { team: team });
    await confirmSlackEmail(h, owner.email!);
    await h.slack.waitForResponse((await commandIn(h, team, owner, `create Dist ${uniq()}`)).responseId);
    const email = `ivy.${uniq()}@two.test`;
    const ivy = h.slack.addUser('Ivy', email, undefined, team);
    await openHomeCall(h, ivy, { team });
    await confirmSlackEmail(h, email);
    // Someone the workspace says has this address, never confirmed: a workspace's admins can set any address.
    const stranger = `sam.${uniq()}@two.test`;
    const sam = h.slack.addUser('Sam', stranger, undefined, team);
    const mark = h.slack.calls.length;
    await h.slack.waitForResponse((await commandIn(h, team, owner, `invite ${email} ${stranger}`)).responseId);
    const dm = await h.slack.waitForCall('chat.postMessage', mark, (c) => c.args.channel === ivy.id);
    expect(dm.token).toBe(token);
    await expect
      .poll(() => countRows(h, 'notifications', `kind = 'invite.sent' and channel = 'slack' and recipient_email = '${stranger}' and status <> 'pending'`))
      .toBe(1);
    expect(h.slack.calls.slice(mark).filter((c) => c.method === 'users.lookupByEmail' && c.args.email === stranger)).toEqual([]);
    expect(h.slack.calls.slice(mark).filter((c) => c.method === 'chat.postMessage' && c.args.channel === sam.id)).toEqual([]);
  });
});

describe('linking a Slack user by email in a workspace not trusted for emails', () => {
  it("a Slack user whose profile names someone's address gets nothing of that account until they open the link sent to it", async () => {
    const h = harness();
    const team = `T${uniq().toUpperCase()}`;
    await install(h, team);
    // Vera has an account and an org, known by her address (from another workspace, an IdP or an invite).
    const email = `vera.${uniq()}@victim.test`;
    const vera = await h.domain.accounts.findOrCreateByEmail(email, 'Vera');
    const org = await h.domain.orgs.create(accountActor(vera.id, 'cli'), { name: `Vera Co ${uniq()}` });
    // In this workspace, a user's profile carries Vera's address, confirmed as far as Slack says.
    const claimer = h.slack.addUser('Claimer', email, undefined, team);
    const before = await countRows(h, 'accounts', 'true');
    const asked = await commandIn(h, team, claimer, 'list');
    const reply = await h.slack.waitForResponse(asked.responseId);
    expect(reply.text).toMatch(new RegExp(`confirm your email address: Roster just sent a link to ${email.replace('.', '\\.')}`));
    expect(reply.text).not.toContain(org.name);
    expect(await countRows(h, 'slack_identities', `user_id = '${claimer.id}'`)).toBe(0);
    expect(await countRows(h, 'accounts', 'true')).toBe(before);
    // The email says who asks: the Slack user and the workspace, and what confirming gives them.
    const sent = await slackLinkEmail(email);
    expect(sent.text).toContain(`the Slack user “Claimer” in the workspace Team ${team} (${team})`);
    expect(sent.text).toContain('owner included');
    // Opening the link (GET) changes nothing: only its button does.
    expect((await openHomeCall(h, claimer, { team })).args.view).toMatchObject({
      blocks: [{ text: { text: 'Confirm your email address' } }, expect.anything()],
    });
    const done = await confirmSlackEmail(h, email);
    expect(done.status).toBe(200);
    expect(done.text).toContain('Address confirmed');
    expect((await h.domain.accounts.bySlack(team, claimer.id))?.id).toBe(vera.id);
    const after = await h.slack.waitForResponse((await commandIn(h, team, claimer, 'list')).responseId);
    expect(JSON.stringify(after)).toContain(org.name);
  });

  it('asking again within minutes sends no second email; a used link does not work twice', async () => {
    const h = harness();
    const team = `T${uniq().toUpperCase()}`;
    await install(h, team);
    const user = h.slack.addUser('Twice', `twice.${uniq()}@again.test`, undefined, team);
    await h.slack.waitForResponse((await commandIn(h, team, user, 'list')).responseId);
    const second = await h.slack.waitForResponse((await commandIn(h, team, user, 'list')).responseId);
    expect(second.text).toMatch(/with the link Roster sent to .* a new link can be sent in a few minutes/);
    expect(await countRows(h, 'notifications', `kind = 'account.slack_link' and recipient_email = '${user.email}'`)).toBe(1);
    expect((await confirmSlackEmail(h, user.email!)).status).toBe(200);
    const reused = await confirmSlackEmail(h, user.email!, { expectPage: 410 });
    expect(reused.status).toBe(410);
  });

  it('a link stops working after an hour', async () => {
    const h = harness();
    const team = `T${uniq().toUpperCase()}`;
    await install(h, team);
    const user = h.slack.addUser('Late', `late.${uniq()}@late.test`, undefined, team);
    await h.slack.waitForResponse((await commandIn(h, team, user, 'list')).responseId);
    await slackLinkFromEmail(user.email!);
    h.clock.advance(61 * 60_000);
    try {
      const r = await confirmSlackEmail(h, user.email!, { expectPage: 410 });
      expect(r.text).toContain('it expired, a newer one was sent, or it was already used');
      expect(await countRows(h, 'slack_identities', `user_id = '${user.id}'`)).toBe(0);
    } finally {
      h.clock.advance(-61 * 60_000);
    }
  });
});

describe('a workspace the operator trusts for emails (SLACK_TRUSTED_TEAMS)', () => {
  const trusted = useSlackRoster({ SLACK_CLIENT_ID: '111.222', SLACK_CLIENT_SECRET: 'client-secret-for-tests', SLACK_TRUSTED_TEAMS: 'T0TRUSTED' });
  it("links a Slack user to their address's account at once, as one-workspace mode does", async () => {
    const h = trusted();
    await install(h, 'T0TRUSTED');
    const email = `tia.${uniq()}@trusted.test`;
    const tia = await h.domain.accounts.findOrCreateByEmail(email, 'Tia');
    const user = h.slack.addUser('Tia', email, undefined, 'T0TRUSTED');
    await h.slack.waitForResponse((await commandIn(h, 'T0TRUSTED', user, 'list')).responseId);
    expect((await h.domain.accounts.bySlack('T0TRUSTED', user.id))?.id).toBe(tia.id);
  });
});
