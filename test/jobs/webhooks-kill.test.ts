import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { rm } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { accountActor } from '../../src/domain/context.js';
import { createRosterDomain } from '../../src/wiring.js';
import { freshDatabase } from '../helpers/db.js';
import { uniq } from '../helpers/fixtures.js';
import { RosterServer, tempDataDir } from '../helpers/process.js';
import { TEST_APP_SECRET, TEST_PUBLIC_URL, testConfig } from '../helpers/roster.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Webhooks lose nothing across a kill -9 of Roster while it delivers (issue 14 §4): the deliveries are in
 * the database with their events; a new process takes over once the dead one's lease ends, and every event
 * arrives, in order, under its one webhook-id (the attempt in flight at the kill may arrive twice).
 */
const closers: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const close of closers.reverse()) await close().catch(() => {});
});

describe('webhooks and kill -9', () => {
  it('nothing is lost and order holds when the delivering process is killed mid-run', { timeout: 120_000 }, async () => {
    const received: { id: string; seq: number }[] = [];
    const receiver = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        received.push({ id: String(req.headers['webhook-id']), seq: (JSON.parse(body) as { data: { sequence: number } }).data.sequence });
        // Slow enough that the kill lands while deliveries are going out.
        setTimeout(() => res.writeHead(204).end(), 20);
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    closers.push(async () => {
      receiver.closeAllConnections();
      await new Promise((r) => receiver.close(r));
    });

    const db = await freshDatabase(2);
    closers.push(() => db.close());
    const domain = createRosterDomain(testConfig(), { db: db.db });
    const owner = await domain.accounts.findOrCreateByEmail(`owner.${uniq()}@kill.test`, 'Owner');
    const actor = accountActor(owner.id, 'cli');
    const org = await domain.orgs.create(actor, { name: `Kill ${uniq()}` });
    await domain.webhooks.create(actor, org.id, { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`, events: ['org.renamed'] });
    const total = 80;
    for (let i = 0; i < total; i++) await domain.orgs.rename(actor, org.id, `Kill ${i} ${uniq()}`);

    const env = {
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      DATABASE_URL: db.url,
      APP_SECRET: TEST_APP_SECRET,
      PUBLIC_URL: TEST_PUBLIC_URL,
      WEBHOOKS_ALLOW_PRIVATE: 'true',
      // The dead process's lease on the endpoint is 2 × this + 5 s.
      WEBHOOK_TIMEOUT_MS: '1000',
    };
    const dataDir = await tempDataDir('roster-webhooks-kill-');
    closers.push(() => rm(dataDir, { recursive: true, force: true }));
    const first = new RosterServer({ ...env, DATA_DIR: dataDir });
    closers.push(() => first.kill());
    await first.listening();
    await waitFor(() => received.length >= 10 || undefined, 'the first deliveries', { timeoutMs: 30_000, describe: () => first.output() });
    first.child.kill('SIGKILL');
    await first.exited;
    const atKill = received.length;
    expect(atKill).toBeLessThan(total);

    const second = new RosterServer({ ...env, DATA_DIR: dataDir });
    closers.push(() => second.kill());
    await second.listening();
    await waitFor(() => new Set(received.map((r) => r.id)).size >= total || undefined, 'every event delivered', {
      timeoutMs: 60_000,
      describe: () => `${new Set(received.map((r) => r.id)).size} of ${total}\n${second.output()}`,
    });
    await second.stop('SIGTERM');

    const ids = received.map((r) => r.id);
    expect(new Set(ids).size).toBe(total);
    // At most the one in flight at the kill came twice, under the same id.
    expect(ids.length - total).toBeLessThanOrEqual(1);
    const firstSeen = received.filter((r, i) => ids.indexOf(r.id) === i).map((r) => r.seq);
    expect(firstSeen).toEqual([...firstSeen].sort((a, b) => a - b));
    const rows = await db.pool.query<{ status: string; n: number }>(`select status, count(*)::int as n from webhook_deliveries group by status`);
    expect(rows.rows).toEqual([{ status: 'sent', n: total }]);
  });
});
