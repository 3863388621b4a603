/**
 * `npx tsx bench/scim.ts [post|get|both]`: the SCIM rows of `npm run bench` alone, for profiling
 * (set PROFILE=1 to run Roster under `node --cpu-prof`; the profile lands in bench/profiles/).
 * Uses the compiled build, which it builds first.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import autocannon from 'autocannon';
import { freePort } from '../src/db/embedded.js';
import { APP_SECRET, root, setup } from './resilience/common.js';

const what = process.argv[2] ?? 'both';
const DURATION = Number(process.env.BENCH_SECONDS ?? 8);
const SEED = Number(process.env.SEED ?? 10_000);

async function cannon(opts: autocannon.Options): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => autocannon({ connections: 10, duration: DURATION, ...opts }, (e, r) => (e ? reject(e) : resolve(r))));
}
/** CPU seconds the Roster process has used so far (user + system), from /proc. */
const cpuOf = (pid: number) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
};
let cpuMark = 0;
const show = (name: string, r: autocannon.Result) => {
  const cpu = cpuOf(child.pid!) - cpuMark;
  console.log(`${name}: ${Math.round(r.requests.average)}/s p50 ${r.latency.p50} ms p99 ${r.latency.p99} ms non2xx ${r.non2xx} errors ${r.errors} · Roster CPU ${((1000 * cpu) / r.requests.total).toFixed(2)} ms/request`);
};

// A PostgreSQL of its own, a migrated database, an org with a SCIM token (and `npm run build`).
const { dir, server, database, org, token, url } = await setup('scimbench');
await database.pool.query(
  `with a as (insert into accounts (email, display_name) select 'seed' || i || '@bench.test', 'Seed ' || i from generate_series(0, $2::int - 1) i returning id, email)
   , m as (insert into memberships (org_id, account_id, role, source) select $1, id, 'member', 'scim' from a)
   insert into scim_users (org_id, account_id, user_name, external_id, email) select $1, id, email, 'ext-' || email, email from a`,
  [org.id, SEED],
);
await database.pool.query('analyze');

const port = await freePort();
const args = process.env.PROFILE ? ['--cpu-prof', '--cpu-prof-dir', path.join(root, 'bench', 'profiles')] : [];
const child = spawn(process.execPath, [...args, process.env.MAIN ?? 'dist/main.js'], {
  cwd: root,
  env: { PATH: process.env.PATH ?? '', PORT: String(port), HOST: '127.0.0.1', DATABASE_URL: url, DATABASE_POOL_SIZE: '20', LOG_LEVEL: 'warn', APP_SECRET, ROSTER_ROLE: 'web', SCIM_RATE_LIMIT: '0', PUBLIC_URL: `http://127.0.0.1:${port}` },
  stdio: ['ignore', 'inherit', 'inherit'],
});
for (;;) {
  try {
    if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) break;
  } catch {
    // not listening yet
  }
  await new Promise((r) => setTimeout(r, 50));
}
const base = `http://127.0.0.1:${port}`;
cpuMark = cpuOf(child.pid!);
const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' };
// WAITS=1: sample what PostgreSQL's backends wait on while the load runs.
const waits = new Map<string, number>();
const sampler = process.env.WAITS
  ? setInterval(() => {
      database.pool
        .query(`select coalesce(wait_event_type || ':' || wait_event, 'CPU') as w, state from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid() and state <> 'idle'`)
        .then((r) => r.rows.forEach((x) => waits.set(`${x.state} ${x.w}`, (waits.get(`${x.state} ${x.w}`) ?? 0) + 1)))
        .catch(() => {});
    }, 50)
  : undefined;
try {
  if (what !== 'get') {
    let seq = 0;
    const run = randomUUID().slice(0, 8);
    cpuMark = cpuOf(child.pid!);
    show('POST /Users', await cannon({
      url: base,
      headers,
      requests: [{ method: 'POST', setupRequest: (req: any) => {
        const userName = `u-${run}-${seq++}@bench.test`;
        return { ...req, path: '/scim/v2/Users', body: JSON.stringify({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName, name: { givenName: 'B', familyName: 'U' }, emails: [{ value: userName, type: 'work', primary: true }], active: true }) };
      } }],
    }));
  }
  if (what === 'page' || what === 'patch') {
    if (what === 'page') show(`GET page at offset ${SEED / 2}`, await cannon({ url: `${base}/scim/v2/Users?startIndex=${SEED / 2}&count=100`, headers }));
    else {
      const ids = (await database.pool.query(`select id from scim_users where org_id = $1 order by random() limit 5000`, [org.id])).rows.map((r) => r.id as string);
      show('PATCH active', await cannon({ url: base, headers, requests: [{ method: 'PATCH', setupRequest: (req: any) => ({ ...req, path: `/scim/v2/Users/${ids[Math.floor(Math.random() * ids.length)]}`, body: JSON.stringify({ schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', value: { active: Math.random() < 0.5 } }] }) }) }] }));
    }
  } else if (what !== 'post') {
    cpuMark = cpuOf(child.pid!);
    show('GET filter', await cannon({ url: base, headers, requests: [{ setupRequest: (req: any) => ({ ...req, path: `/scim/v2/Users?filter=${encodeURIComponent(`userName eq "seed${Math.floor(Math.random() * SEED)}@bench.test"`)}` }) }] }));
  }
} finally {
  if (sampler) {
    clearInterval(sampler);
    console.log([...waits].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${n}\t${k}`).join('\n'));
  }
  const done = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await done;
  await database.close();
  await server.stop();
  await rm(dir, { recursive: true, force: true });
}
process.exit(0);
