import { describe, expect, it } from 'vitest';
import { useRoster } from '../helpers/roster.js';

/** /metrics (issue 16 §2): request counts and latencies by surface, job runs by job, each with HELP and TYPE. */
const harness = useRoster({ start: { jobIntervals: { deliverWebhooks: '1 second' } } }, (r) => r);

const metrics = async () => (await fetch(`${harness().baseUrl}/metrics`)).text();
const value = (text: string, series: string) => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

describe('/metrics', () => {
  it('counts and times requests by surface and status class, with HELP and TYPE lines', async () => {
    const base = harness().baseUrl;
    const before = await metrics();
    const scim = (s: string) => value(s, 'roster_http_requests_total{surface="scim",status="4xx"}') ?? 0;
    const api = (s: string) => value(s, 'roster_http_requests_total{surface="api",status="4xx"}') ?? 0;
    for (let i = 0; i < 3; i++) expect((await fetch(`${base}/scim/v2/Users`)).status).toBe(401);
    expect((await fetch(`${base}/api/v1/orgs/x`)).status).toBe(401);
    const after = await metrics();
    expect(scim(after) - scim(before)).toBe(3);
    expect(api(after) - api(before)).toBe(1);
    expect(after).toContain('# HELP roster_http_requests_total ');
    expect(after).toContain('# TYPE roster_http_requests_total counter');
    expect(after).toContain('# TYPE roster_http_request_duration_seconds histogram');
    expect(value(after, 'roster_http_request_duration_seconds_count{surface="scim"}')).toBeGreaterThanOrEqual(3);
    // Roster's own gauges are still there.
    expect(after).toContain('roster_database_up 1');
  });

  it('counts job runs by job and outcome, with how long they took', async () => {
    await expect
      .poll(async () => value(await metrics(), 'roster_job_runs_total{job="deliver-webhooks",outcome="ok"}') ?? 0, { timeout: 15_000, interval: 250 })
      .toBeGreaterThan(0);
    const text = await metrics();
    expect(text).toContain('# TYPE roster_job_runs_total counter');
    expect(value(text, 'roster_job_run_duration_seconds_count{job="deliver-webhooks"}')).toBeGreaterThan(0);
  });
});
