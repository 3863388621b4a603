import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

// Settings that would quietly weaken Roster are refused at start, with what to set instead.

describe('configuration', () => {
  it('TRUST_PROXY=true is refused (it would believe any X-Forwarded-For); a hop count or addresses are taken', () => {
    expect(() => loadConfig({ TRUST_PROXY: 'true' })).toThrow(ConfigError);
    expect(() => loadConfig({ TRUST_PROXY: 'TRUE' })).toThrow(/number of proxies/);
    expect(loadConfig({ TRUST_PROXY: '1' }).trustProxy).toBe(1);
    expect(loadConfig({ TRUST_PROXY: 'loopback, 10.0.0.0/8' }).trustProxy).toBe('loopback, 10.0.0.0/8');
    expect(loadConfig({}).trustProxy).toBeUndefined();
  });

  it('SLACK_TRUSTED_TEAMS takes workspace and Grid ids only, and is empty by default', () => {
    expect(loadConfig({}).slack.trustedTeams).toEqual([]);
    expect(loadConfig({ SLACK_TRUSTED_TEAMS: ' T0123ABC, E0456DEF ' }).slack.trustedTeams).toEqual(['T0123ABC', 'E0456DEF']);
    expect(() => loadConfig({ SLACK_TRUSTED_TEAMS: 'acme.slack.com' })).toThrow(/SLACK_TRUSTED_TEAMS: list Slack workspace ids/);
  });

  it('EVENT_RETENTION_DAYS: unset or empty keeps events for ever; fewer than 30 days is refused', () => {
    expect(loadConfig({}).eventRetentionDays).toBeUndefined();
    expect(loadConfig({ EVENT_RETENTION_DAYS: '' }).eventRetentionDays).toBeUndefined();
    expect(loadConfig({ EVENT_RETENTION_DAYS: '90' }).eventRetentionDays).toBe(90);
    expect(() => loadConfig({ EVENT_RETENTION_DAYS: '7' })).toThrow(/at least 30 days/);
  });

  it('a METRICS_TOKEN shorter than 16 characters is refused', () => {
    expect(() => loadConfig({ METRICS_TOKEN: 'short' })).toThrow(/METRICS_TOKEN must be at least 16 characters/);
  });

  it('limits and HTTP timeouts have safe defaults, and 0 turns a rate limit off', () => {
    const c = loadConfig({});
    expect(c.http).toEqual({ headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, keepAliveTimeoutMs: 5_000, maxConnections: 2_000 });
    expect(c.rateLimits).toEqual({ scimPerTokenPerMinute: 600, authFailuresPerMinute: 30, invitePagePerMinute: 120, apiPerKeyPerMinute: 6000 });
    expect(loadConfig({ SCIM_RATE_LIMIT: '0' }).rateLimits.scimPerTokenPerMinute).toBe(0);
  });
});
