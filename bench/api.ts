/**
 * `npx tsx bench/api.ts`: the API's authorize call alone, beside the trivial express GET ceiling, in one
 * run (the same rows as in bench/run.ts, without the SCIM load before them). NODE_FLAGS passes Node flags to
 * Roster (--cpu-prof, --trace-gc); ROSTER_OUT=1 shows its output.
 */
import { randomUUID } from 'node:crypto';
import { freePort } from '../src/db/embedded.js';
import { systemActor } from '../src/domain/context.js';
import { cannon, errorsOf, paced, rps } from './lib/load.js';
import { benchDomain, migratedDatabase, orgWithScimToken, startBenchPostgres } from './lib/postgres.js';
import { buildRoster, ready, spawnNode, spawnRoster, stopChild, waitForHealth } from './lib/roster.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const RATE = 1000;

async function main() {
  buildRoster();
  const postgres = await startBenchPostgres('api');
  try {
    const database = await migratedDatabase(postgres.server, 'roster_bench', 4);
    const domain = benchDomain(database);
    const { org } = await orgWithScimToken(domain, 'bench', `Bench ${randomUUID().slice(0, 6)}`);
    const { key } = await domain.apiKeys.create(systemActor('cli'), org.id, { name: 'bench', scope: 'read' });
    const cport = await freePort();
    const ceilingProc = spawnNode(['--import', 'tsx', 'bench/ceiling.ts'], { PORT: String(cport) });
    await ready(ceilingProc);
    const ceiling = await cannon(SECONDS, { url: `http://127.0.0.1:${cport}/ping` });
    const ceilingAtRate = await paced(SECONDS, RATE, { url: `http://127.0.0.1:${cport}/ping` });
    await stopChild(ceilingProc);
    const port = await freePort();
    const roster = spawnRoster(port, database.url, {
      nodeArgs: (process.env.NODE_FLAGS ?? '').split(/\s+/).filter(Boolean),
      ...(process.env.ROSTER_OUT ? { stdio: ['ignore', 'inherit', 'inherit'] as const } : {}),
    });
    await waitForHealth(port);
    const request = {
      url: `http://127.0.0.1:${port}/api/v1/orgs/${org.id}/authorize`,
      method: 'POST' as const,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ user: { email: 'owner@bench.test' }, permission: 'resources:use' }),
    };
    await cannon(3, request); // warm-up
    const authz = await cannon(SECONDS, request);
    const authzAtRate = await paced(SECONDS, RATE, request);
    await stopChild(roster);
    await database.close();
    const met = errorsOf(authz) === 0 && rps(authz) >= rps(ceiling) / 2;
    const fast = authzAtRate.errors === 0 && (authzAtRate.p99 < 10 || authzAtRate.p99 <= ceilingAtRate.p99 + 2);
    process.stdout.write(
      `authorize flat out: ${rps(authz)}/s · p50 ${authz.latency.p50} ms · p99 ${authz.latency.p99} ms${errorsOf(authz) ? ` · ${errorsOf(authz)} errors` : ''}\n` +
        `ceiling (trivial express GET): ${rps(ceiling)}/s · p99 ${ceiling.latency.p99} ms\n${met ? 'met' : 'NOT met'}: ≥ half the ceiling\n` +
        `authorize at ${RATE}/s: p50 ${authzAtRate.p50} ms · p99 ${authzAtRate.p99} ms · max ${authzAtRate.max} ms · ceiling at ${RATE}/s: p99 ${ceilingAtRate.p99} ms\n` +
        `${fast ? 'met' : 'NOT met'}: p99 < 10 ms at ${RATE}/s (where the trivial route is above that: within 2 ms of its p99)\n`,
    );
  } finally {
    await postgres.stop();
  }
}

await main();
