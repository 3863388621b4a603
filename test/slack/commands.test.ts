import { describe, expect, it } from 'vitest';
import { useSlackRoster } from '../helpers/slack.js';

const harness = useSlackRoster();

describe('/org commands', () => {
  it('a new Slack user creates an org and becomes its owner, with their Slack email on the account', async () => {
    const h = harness();
    const ana = h.slack.addUser('Ana', 'ana@acme.test');
    const reply = await h.command(ana, 'create Acme Widgets');
    expect(reply.response_type).toBe('ephemeral');
    expect(reply.text).toMatch(/Created \*Acme Widgets\* \(`acme-widgets`\)/);
    const account = await h.domain.accounts.findByEmail('ana@acme.test');
    expect(account?.displayName).toBe('Ana');
    const mine = await h.domain.orgs.listMine({ type: 'account', accountId: account!.id, via: 'slack' });
    expect(mine.map((m) => [m.org.slug, m.role])).toEqual([['acme-widgets', 'owner']]);
  });

  it('unknown subcommands get the help text', async () => {
    const h = harness();
    const bo = h.slack.addUser('Bo', 'bo@acme.test');
    const reply = await h.command(bo, 'frobnicate');
    expect(reply.text).toMatch(/I don't know `\/org frobnicate`/);
    expect(reply.text).toMatch(/\/org invite/);
  });

  it('rejects unsigned and stale requests with 401', async () => {
    const h = harness();
    const body = { command: '/org', text: 'help', team_id: 'T0TEST', user_id: 'U1' };
    const bad = await h.post(body, { 'x-slack-signature': 'v0=deadbeef' });
    expect(bad.status).toBe(401);
    const stale = Math.floor(Date.now() / 1000) - 600;
    const { sign } = await import('../helpers/slack.js');
    const old = await h.post(body, sign(new URLSearchParams(body).toString(), stale));
    expect(old.status).toBe(401);
  });
});
