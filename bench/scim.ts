/**
 * `npx tsx bench/scim.ts [post|get|both|page|patch]`: the SCIM rows of `npm run bench` alone, for profiling
 * (page and patch run a POST row first unless SKIP_POST=1)
 * (POST is shown beside the plain-pg write ceiling of the same run; set PROFILE=1 to run Roster under `node --cpu-prof`; the profile lands in bench/profiles/).
 * Uses the compiled build, which it builds first.
 */
import path from 'node:path';
import type autocannon from 'autocannon';
import { freePort } from '../src/db/embedded.js';
import { cannon as cannonFor, scimCreateUsers, scimFilterUsers, scimHeaders, scimPatchActive } from './lib/load.js';
import { pgWriteCeiling, postmasterPid, scimBenchSetup, seedScimUsers } from './lib/postgres.js';
import {
  ROOT as root,
  cpuSeconds as cpuOf,
  machineBusySeconds,
  spawnRoster,
  stopChild,
  systemCpuSeconds,
  treeCpuSeconds,
  waitForHealth,
} from './lib/roster.js';

const what = process.argv[2] ?? 'both';
const DURATION = Number(process.env.BENCH_SECONDS ?? 8);
const SEED = Number(process.env.SEED ?? 10_000);

const cannon = (opts: autocannon.Options) => cannonFor(DURATION, opts);
let cpuMark = 0;
let sysMark = 0;
let pgMark = 0;
let machineMark = 0;
/** Where the CPU goes from here on: Roster, PostgreSQL (every backend), the whole machine (the load generator too). */
const mark = () => {
  cpuMark = cpuOf(child.pid!);
  sysMark = systemCpuSeconds(child.pid!);
  pgMark = treeCpuSeconds(pgPid);
  machineMark = machineBusySeconds();
};
const show = (name: string, r: autocannon.Result) => {
  const per = (seconds: number) => ((1000 * seconds) / r.requests.total).toFixed(2);
  const cpu = cpuOf(child.pid!) - cpuMark;
  console.log(
    `${name}: ${Math.round(r.requests.average)}/s p50 ${r.latency.p50} ms p99 ${r.latency.p99} ms non2xx ${r.non2xx} errors ${r.errors} · CPU ms/request: Roster ${per(cpu)} (${per(systemCpuSeconds(child.pid!) - sysMark)} in the kernel), PostgreSQL ${per(treeCpuSeconds(pgPid) - pgMark)}, machine ${per(machineBusySeconds() - machineMark)}`,
  );
};

// A PostgreSQL of its own, a migrated database, an org with a SCIM token (and `npm run build`).
const { postgres, database, org, token, url } = await scimBenchSetup('scimbench', 5, 'bench.test');
const pgPid = await postmasterPid(postgres.dir);
await seedScimUsers(database.pool, org.id, SEED);

const port = await freePort();
const args = process.env.PROFILE ? ['--cpu-prof', '--cpu-prof-dir', path.join(root, 'bench', 'profiles')] : [];
const child = spawnRoster(port, url, { main: process.env.MAIN, nodeArgs: args, stdio: ['ignore', 'inherit', 'inherit'] });
await waitForHealth(port);
const base = `http://127.0.0.1:${port}`;
mark();
const headers = scimHeaders(token);
// WAITS=1: sample what PostgreSQL's backends wait on while the load runs.
const waits = new Map<string, number>();
const sampler = process.env.WAITS
  ? setInterval(() => {
      database.pool
        .query(
          `select coalesce(wait_event_type || ':' || wait_event, 'CPU') as w, state from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid() and state <> 'idle'`,
        )
        .then((r) => r.rows.forEach((x) => waits.set(`${x.state} ${x.w}`, (waits.get(`${x.state} ${x.w}`) ?? 0) + 1)))
        .catch(() => {});
    }, 50)
  : undefined;
try {
  if (what !== 'get' && !process.env.SKIP_POST) {
    // The plain-pg ceiling in the same run (the target is half of it), then Roster's POST.
    mark();
    const ceiling = await pgWriteCeiling(url, org.id, 10, DURATION);
    const ceilingCreates = ceiling * DURATION;
    console.log(
      `plain-pg ceiling: ${ceiling}/s · CPU ms/create: PostgreSQL ${((1000 * (treeCpuSeconds(pgPid) - pgMark)) / ceilingCreates).toFixed(2)}, machine ${((1000 * (machineBusySeconds() - machineMark)) / ceilingCreates).toFixed(2)}`,
    );
    mark();
    const post = await cannon({ url: base, headers, requests: scimCreateUsers() });
    show('POST /Users', post);
    console.log(`POST at ${Math.round((100 * post.requests.average) / ceiling)}% of the ceiling (target ≥ 50%)`);
  }
  if (what === 'page' || what === 'patch' || what === 'patch-one') {
    mark();
    if (what === 'page') show(`GET page at offset ${SEED / 2}`, await cannon({ url: `${base}/scim/v2/Users?startIndex=${SEED / 2}&count=100`, headers }));
    else {
      const ids = (await database.pool.query(`select id from scim_users where org_id = $1 order by random() limit 5000`, [org.id])).rows.map(
        (r) => r.id as string,
      );
      if (what === 'patch')
        show('PATCH active', await cannon({ url: base, headers, requests: scimPatchActive(() => ids[Math.floor(Math.random() * ids.length)]) }));
      mark();
      show('PATCH one user from 10 connections', await cannon({ url: base, headers, requests: scimPatchActive(() => ids[0]) }));
    }
  } else if (what !== 'post') {
    mark();
    show('GET filter', await cannon({ url: base, headers, requests: scimFilterUsers(SEED) }));
  }
} finally {
  if (sampler) {
    clearInterval(sampler);
    console.log(
      [...waits]
        .sort((a, b) => b[1] - a[1])
        .map(([k, n]) => `${n}\t${k}`)
        .join('\n'),
    );
  }
  await stopChild(child);
  await database.close();
  await postgres.stop();
}
process.exit(0);
