import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { connect } from '../../src/db/client.js';
import { freePort } from '../../src/db/embedded.js';
import { start } from '../../src/main.js';
import { freshDatabase } from '../helpers/db.js';

/**
 * PostgreSQL unreachable: every surface says "try again" (503) instead of a 500 or a 401, and the
 * process keeps serving. A pool pointed at a closed port stands in for a database that went away.
 */
describe('when PostgreSQL is unreachable', () => {
  let base = '';
  let stop: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    const dead = connect(`postgres://postgres:x@127.0.0.1:${await freePort()}/roster`, 2);
    const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', APP_SECRET: 'd'.repeat(40), ROSTER_ROLE: 'web' });
    const roster = await start(config, { database: dead });
    base = `http://127.0.0.1:${roster.port}`;
    stop = async () => {
      await roster.stop();
      await dead.close();
    };
  });
  afterAll(async () => {
    await stop?.();
  });

  it('SCIM answers 503 with Retry-After and a SCIM error body, never 401 or 500', async () => {
    const res = await fetch(`${base}/scim/v2/Users?filter=userName%20eq%20%22a%40b.c%22`, {
      headers: { authorization: `Bearer rst_${'a'.repeat(43)}` },
    });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('30');
    const body = (await res.json()) as { detail: string };
    expect(body).toMatchObject({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '503' });
    expect(body.detail).toMatch(/database/i);
  });

  it('the invite page answers 503 with a readable page', async () => {
    const res = await fetch(`${base}/invites/${'A'.repeat(43)}`);
    expect(res.status).toBe(503);
    const text = await res.text();
    expect(text).toMatch(/briefly unavailable/);
    expect(text).not.toMatch(/at .*\.ts:\d+/);
  });

  it('/healthz says the database is down and /metrics still answers', async () => {
    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(503);
    expect(await health.json()).toMatchObject({ database: 'down' });
    const metrics = await fetch(`${base}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toMatch(/^roster_database_up 0$/m);
  });
});

describe('/metrics', () => {
  let base = '';
  let stop: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    const db = await freshDatabase();
    const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', APP_SECRET: 'd'.repeat(40), ROSTER_ROLE: 'web' });
    const roster = await start(config, { database: db });
    base = `http://127.0.0.1:${roster.port}`;
    const owner = await roster.domain.accounts.findOrCreateByEmail('metrics-owner@example.com');
    const org = await roster.domain.orgs.create({ type: 'account', accountId: owner.id, via: 'api' }, { name: 'Metrics Co' });
    await roster.domain.invites.create({ type: 'account', accountId: owner.id, via: 'api' }, org.id, { emails: 'someone@example.com' });
    stop = async () => {
      await roster.stop();
      await db.close();
    };
  });
  afterAll(async () => {
    await stop?.();
  });

  it('reports the database, the pool and the outbox backlog in Prometheus text format', async () => {
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(text).toMatch(/^roster_database_up 1$/m);
    expect(text).toMatch(/^roster_db_pool_connections\{state="total"\} \d+$/m);
    // The invite queued an email and a Slack DM; no worker runs in a web-only process.
    expect(text).toMatch(/^roster_notifications\{status="pending"\} 2$/m);
    expect(text).toMatch(/^process_resident_memory_bytes \d+$/m);
  });
});
