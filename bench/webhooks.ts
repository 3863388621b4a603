/**
 * `npx tsx bench/webhooks.ts`: webhook delivery rate to a receiver on loopback (issue 14 §4; target
 * ≥ 500 events/s, none duplicated). A backlog of events for one endpoint (the ordered, one-at-a-time
 * case) is queued straight in the database; a worker process sends it; the receiver counts.
 * Also a row of `npm run bench`.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { freePort } from '../src/db/embedded.js';
import { accountActor } from '../src/domain/context.js';
import type { Domain } from '../src/domain/index.js';
import { benchDomain, migratedDatabase, startBenchPostgres } from './lib/postgres.js';
import { buildRoster, spawnRoster, stopChild, waitForHealth } from './lib/roster.js';
import pg from 'pg';

const EVENTS = Number(process.env.BENCH_WEBHOOK_EVENTS ?? 5_000);

export type WebhookBench = { events: number; received: number; distinct: number; perSecond: number; seconds: number };

export async function webhookDeliveryRate(dbUrl: string, domain: Domain, events = EVENTS): Promise<WebhookBench> {
  const ids = new Set<string>();
  let received = 0;
  let first = 0;
  let last = 0;
  const receiver = http.createServer({ keepAliveTimeout: 30_000 }, (req, res) => {
    req.resume();
    req.on('end', () => {
      const now = performance.now();
      first ||= now;
      last = now;
      received++;
      ids.add(String(req.headers['webhook-id']));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const pool = new pg.Pool({ connectionString: dbUrl, max: 2 });
  const port = await freePort();
  let worker: ReturnType<typeof spawnRoster> | undefined;
  try {
    const owner = await domain.accounts.findOrCreateByEmail(`hooks.${randomUUID().slice(0, 8)}@bench.test`, 'Bench owner');
    const actor = accountActor(owner.id, 'cli');
    const org = await domain.orgs.create(actor, { name: `Webhook bench ${randomUUID().slice(0, 6)}` });
    await domain.webhooks.create(actor, org.id, {
      url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`,
      events: ['org.renamed'],
    });
    // The backlog: events written as the domain writes them, then numbered (which queues their deliveries).
    await pool.query(
      `insert into audit_events (at, org_id, actor_type, actor_id, actor_label, via, action, target_type, target_id, before, after)
       select now(), $1::uuid, 'system', 'bench', 'bench', 'job', 'org.renamed', 'org', $1::text,
              jsonb_build_object('name', 'before ' || g), jsonb_build_object('name', 'after ' || g)
       from generate_series(1, $2) g`,
      [org.id, events],
    );
    await domain.feed.number();
    worker = spawnRoster(port, dbUrl, { role: 'worker', env: { WEBHOOKS_ALLOW_PRIVATE: 'true' } });
    await waitForHealth(port);
    const deadline = Date.now() + 180_000;
    while (received < events && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    // A moment more: a duplicate would arrive now.
    await new Promise((r) => setTimeout(r, 500));
    const seconds = (last - first) / 1000;
    return { events, received, distinct: ids.size, perSecond: Math.round(received / Math.max(seconds, 0.001)), seconds: Math.round(seconds * 10) / 10 };
  } finally {
    if (worker) await stopChild(worker);
    await pool.end();
    receiver.closeAllConnections();
    await new Promise((r) => receiver.close(r));
  }
}

export function webhookRow(r: WebhookBench) {
  return {
    name: `Webhook delivery, one endpoint in order, ${r.events.toLocaleString('en')} queued events to a loopback receiver`,
    result: `${r.perSecond}/s (${r.received} received, ${r.distinct} distinct in ${r.seconds} s)`,
    target: '≥ 500 events/s, none duplicated or lost',
    ok: r.perSecond >= 500 && r.received === r.events && r.distinct === r.events,
  };
}

async function main() {
  buildRoster();
  const postgres = await startBenchPostgres('webhooks');
  try {
    const database = await migratedDatabase(postgres.server, 'roster_bench', 4);
    const r = await webhookDeliveryRate(database.url, benchDomain(database));
    await database.close();
    const row = webhookRow(r);
    process.stdout.write(`${row.name}: ${row.result}\n${row.ok ? 'met' : 'NOT met'}: ${row.target}\n`);
  } finally {
    await postgres.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
