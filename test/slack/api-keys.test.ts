import { describe, expect, it } from 'vitest';
import { ask, countRows, orgWithTeam, useSlackRoster } from '../helpers/slack.js';

/** `/org api-keys` (issue 14 §1): owners make and manage their org's API keys from Slack. */
const harness = useSlackRoster();

describe('/org api-keys', () => {
  it('an owner creates a key (shown once) that works against the API; the list names it without the key; revoke ends it', async () => {
    const h = harness();
    const { org, olga } = await orgWithTeam(h);
    const made = await ask(h, olga, 'api-keys create backend read');
    const key = /`(rk_[A-Za-z0-9_-]{43})`/.exec(made.text)?.[1];
    expect(key, made.text).toBeTruthy();
    expect(made.text).toContain('(read)');
    const res = await fetch(`${h.baseUrl}/api/v1/orgs/${org.slug}/members`, { headers: { authorization: `Bearer ${key}` } });
    expect(res.status).toBe(200);
    const list = await ask(h, olga, 'api-keys');
    expect(list.text).toMatch(/\*backend\* · read/);
    expect(list.text).not.toContain(key!);
    expect((await ask(h, olga, 'api-keys revoke backend')).text).toMatch(/Revoked the API key \*backend\*/);
    expect((await fetch(`${h.baseUrl}/api/v1/orgs/${org.slug}`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(401);
  });

  it('an admin cannot make or see the keys, and nothing is stored', async () => {
    const h = harness();
    const { org, adam } = await orgWithTeam(h);
    expect((await ask(h, adam, 'api-keys create mine')).text).toMatch(/you don't have permission to manage API keys and webhooks \(owners only\)/);
    expect((await ask(h, adam, 'api-keys')).text).toMatch(/you don't have permission to manage API keys/);
    expect(await countRows(h, 'api_keys', `org_id = '${org.id}'`)).toBe(0);
  });
});
