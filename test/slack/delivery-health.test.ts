import { describe, expect, it } from 'vitest';
import { orgOwnedBy, slackPerson, useSlackRoster } from '../helpers/slack.js';
import { waitFor } from '../helpers/wait.js';

// A Slack problem only the operator can fix (a revoked token) shows in the running server's /healthz
// (only "failing": it is public) and /metrics (the code), not just in the log.

const harness = useSlackRoster();

async function getText(url: string) {
  const r = await fetch(url);
  return { status: r.status, text: await r.text() };
}

describe('Slack delivery health in a running Roster', () => {
  it('after Slack refuses the app (invalid_auth), /healthz says slackDelivery failing (still 200) and /metrics counts the code', async () => {
    const h = harness();
    const before = JSON.parse((await getText(`${h.baseUrl}/healthz`)).text);
    expect(before.slackDelivery).toBe('ok');

    h.slack.intercept = (method) => (method === 'chat.postMessage' ? { body: { ok: false, error: 'invalid_auth' } } : undefined);
    try {
      const olga = await slackPerson(h, 'Olga');
      await orgOwnedBy(h, olga);
      const bea = await slackPerson(h, 'Bea');
      // An invite made through Slack queues Bea's DM and nudges this process's worker at once.
      await h.command(olga.user, `invite ${bea.email}`);

      const health = await waitFor(
        async () => {
          const r = await getText(`${h.baseUrl}/healthz`);
          return JSON.parse(r.text).slackDelivery === 'failing' && r;
        },
        'slackDelivery failing on /healthz',
        { timeoutMs: 20_000, intervalMs: 100 },
      );
      expect(health.status).toBe(200);
      expect(JSON.parse(health.text)).toMatchObject({ status: 'ok', slackDelivery: 'failing' });
      expect(health.text).not.toContain('invalid_auth');
      const metrics = await getText(`${h.baseUrl}/metrics`);
      expect(metrics.text).toContain('roster_slack_delivery_ok 0');
      expect(metrics.text).toMatch(/roster_slack_operator_errors_total\{code="invalid_auth"\} [1-9]/);
    } finally {
      h.slack.intercept = undefined;
    }
  });
});
