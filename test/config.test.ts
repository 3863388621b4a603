import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, PROJECT_ROOT } from '../src/config.js';

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

  it('.env in the project folder is read under the real environment: a real variable wins; without dotenv it is not read', () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'roster-dotenv-'));
    try {
      writeFileSync(path.join(root, '.env'), 'PORT=4100\nSMTP_FROM="Roster <roster@localhost>"\nLOG_LEVEL=debug\n# a comment\n');
      const config = loadConfig({ LOG_LEVEL: 'warn' }, { dotenv: true, root });
      expect(config.port).toBe(4100);
      expect(config.email.from).toBe('Roster <roster@localhost>');
      expect(config.logLevel).toBe('warn');
      expect(loadConfig({}, { root }).port).toBe(3000);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('.env.example is a valid configuration as it stands (copied to .env, or sourced by a shell)', () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'roster-dotenv-'));
    try {
      writeFileSync(path.join(root, '.env'), readFileSync(path.join(PROJECT_ROOT, '.env.example'), 'utf8'));
      expect(loadConfig({}, { dotenv: true, root }).email.from).toBe('Roster <roster@localhost>');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('DATA_DIR and OUTBOX_DIR are taken from the project folder, whatever the current folder', () => {
    expect(loadConfig({}).dataDir).toBe(path.join(PROJECT_ROOT, '.data'));
    expect(loadConfig({}).email.outboxDir).toBe(path.join(PROJECT_ROOT, '.data', 'outbox'));
    expect(loadConfig({ DATA_DIR: 'var/roster' }).dataDir).toBe(path.join(PROJECT_ROOT, 'var', 'roster'));
    expect(loadConfig({ DATA_DIR: '/srv/roster' }).dataDir).toBe('/srv/roster');
  });

  it('WEBHOOKS_ALLOW_PRIVATE is true or false (off by default); WEBHOOK_TIMEOUT_MS is at most 15 s', () => {
    expect(loadConfig({}).webhooksAllowPrivate).toBe(false);
    expect(loadConfig({ WEBHOOKS_ALLOW_PRIVATE: 'true' }).webhooksAllowPrivate).toBe(true);
    expect(() => loadConfig({ WEBHOOKS_ALLOW_PRIVATE: 'yes' })).toThrow(/WEBHOOKS_ALLOW_PRIVATE is true or false/);
    expect(loadConfig({}).webhookTimeoutMs).toBe(15_000);
    expect(() => loadConfig({ WEBHOOK_TIMEOUT_MS: '60000' })).toThrow(ConfigError);
  });
});
