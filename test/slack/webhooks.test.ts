import { describe, expect, it } from 'vitest';
import { ask, countRows, orgWithTeam, useSlackRoster } from '../helpers/slack.js';

/** `/org webhooks` (issue 14 §3): owners add and manage their org's webhook endpoints from Slack. */
const harness = useSlackRoster();

async function endpointsOf(h: ReturnType<typeof harness>, orgId: string) {
  const r = await h.db.pool.query<{ id: string; url: string; event_types: string[]; enabled: boolean }>(
    `select id, url, event_types, enabled from webhook_endpoints where org_id = $1 order by created_at`,
    [orgId],
  );
  return r.rows;
}

describe('/org webhooks', () => {
  it('an owner adds an endpoint (secret shown once, Slack-escaped URL understood), lists it by short id, disables, enables, rotates and removes it', async () => {
    const h = harness();
    const { org, olga } = await orgWithTeam(h);
    const made = await ask(h, olga, 'webhooks add <https://app.example.com/hooks> member.role_changed,member.removed');
    const secret = /`(whsec_[A-Za-z0-9+/=]{44})`/.exec(made.text)?.[1];
    expect(secret, made.text).toBeTruthy();
    const [row] = await endpointsOf(h, org.id);
    expect(row).toMatchObject({ url: 'https://app.example.com/hooks', event_types: ['member.removed', 'member.role_changed'], enabled: true });
    const short = row!.id.slice(0, 8);
    expect(made.text).toContain(`\`${short}\``);

    const list = await ask(h, olga, 'webhooks');
    expect(list.text).toContain(`\`${short}\` https://app.example.com/hooks · \`member.removed\` \`member.role_changed\` · enabled`);
    expect(list.text).not.toContain(secret!);

    expect((await ask(h, olga, `webhooks disable ${short}`)).text).toMatch(/Disabled webhook/);
    expect((await endpointsOf(h, org.id))[0]!.enabled).toBe(false);
    expect((await ask(h, olga, 'webhooks')).text).toMatch(/:no_entry: disabled \(disabled by hand\)/);
    expect((await ask(h, olga, `webhooks enable ${short}`)).text).toMatch(/Enabled webhook/);
    expect((await endpointsOf(h, org.id))[0]!.enabled).toBe(true);

    const rotated = await ask(h, olga, `webhooks rotate ${short}`);
    const next = /`(whsec_[^`]+)`/.exec(rotated.text)?.[1];
    expect(next, rotated.text).toBeTruthy();
    expect(next).not.toBe(secret);
    expect(rotated.text).toMatch(/old one also signs until/);

    expect((await ask(h, olga, `webhooks replay ${short} 7d`)).text).toMatch(/Queued \d+ events? for webhook/);
    expect((await ask(h, olga, `webhooks deliveries ${short}`)).text).toMatch(/Latest deliveries to webhook/);
    expect((await ask(h, olga, `webhooks remove ${short}`)).text).toMatch(/Removed webhook/);
    expect(await endpointsOf(h, org.id)).toEqual([]);
    const actions = await h.db.pool.query<{ action: string; via: string }>(
      `select action, via from audit_events where org_id = $1 and action like 'webhook.%' order by id`,
      [org.id],
    );
    expect(actions.rows.map((r) => r.action)).toEqual([
      'webhook.created',
      'webhook.updated',
      'webhook.enabled',
      'webhook.secret_rotated',
      'webhook.replayed',
      'webhook.deleted',
    ]);
    expect(new Set(actions.rows.map((r) => r.via))).toEqual(new Set(['slack']));
  });

  it('bad input is answered with the reason and stores nothing: a private-looking scheme, an unknown type, a missing or unknown id, a bad since', async () => {
    const h = harness();
    const { org, olga } = await orgWithTeam(h);
    expect((await ask(h, olga, 'webhooks add ftp://files.example.com/x')).text).toMatch(/must be an http:\/\/ or https:\/\/ address/);
    expect((await ask(h, olga, 'webhooks add https://ok.example.com/x member.rolechanged')).text).toMatch(/Unknown event type: member\.rolechanged/);
    expect((await ask(h, olga, 'webhooks add')).text).toMatch(/Give its URL/);
    expect(await endpointsOf(h, org.id)).toEqual([]);
    expect((await ask(h, olga, 'webhooks remove')).text).toMatch(/Say which endpoint/);
    expect((await ask(h, olga, 'webhooks remove 0badc0de')).text).toMatch(/No webhook endpoint with that id/);
    await ask(h, olga, 'webhooks add https://ok.example.com/x');
    expect((await ask(h, olga, 'webhooks replay https://ok.example.com/x yesterday')).text).toMatch(/Say since when, as an age such as 24h/);
    expect(await countRows(h, 'audit_events', `org_id = '${org.id}' and action = 'webhook.replayed'`)).toBe(0);
  });

  it('an admin cannot add or list webhooks, and nothing is stored', async () => {
    const h = harness();
    const { org, adam } = await orgWithTeam(h);
    expect((await ask(h, adam, 'webhooks add https://app.example.com/hooks')).text).toMatch(
      /you don't have permission to manage API keys and webhooks \(owners only\)/,
    );
    expect((await ask(h, adam, 'webhooks')).text).toMatch(/you don't have permission/);
    expect(await countRows(h, 'webhook_endpoints', `org_id = '${org.id}'`)).toBe(0);
  });
});
