import { describe, expect, it } from 'vitest';
import { useInviteRoster } from './harness.js';

// METRICS_TOKEN protects /metrics (process and outbox figures are not for the public internet).

const TOKEN = 'metrics-token-0123456789';
const harness = useInviteRoster({ METRICS_TOKEN: TOKEN });

describe('/metrics with METRICS_TOKEN', () => {
  it('without the token, or with a wrong one, /metrics is 401 and shows no figures; with it, the metrics', async () => {
    const h = harness();
    const none = await h.get('/metrics');
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(none.text).not.toContain('roster_');
    const wrong = await h.get('/metrics', { authorization: `Bearer ${TOKEN}x` });
    expect(wrong.status).toBe(401);
    const right = await h.get('/metrics', { authorization: `Bearer ${TOKEN}` });
    expect(right.status).toBe(200);
    expect(right.text).toContain('roster_database_up 1');
  });

  it('/healthz stays open (load balancers check it) and shows no figures', async () => {
    const h = harness();
    const health = await h.get('/healthz');
    expect(health.status).toBe(200);
    expect(JSON.parse(health.text)).toMatchObject({ status: 'ok', database: 'up' });
  });
});
