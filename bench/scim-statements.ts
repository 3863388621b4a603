/**
 * `npx tsx bench/scim-statements.ts [post|patch]`: where PostgreSQL spends its time during the SCIM
 * POST (or PATCH) load, from pg_stat_statements (planning and execution per request, by statement), the
 * WAL written per request, and the rows each table took. The benchmark's own PostgreSQL is restarted
 * with the extension loaded. Uses the compiled build (MAIN=… for another build). Not part of `npm run
 * bench`: a diagnosis, not a target.
 */
import type autocannon from 'autocannon';
import { freePort, startEmbeddedPostgres } from '../src/db/embedded.js';
import { cannon, scimCreateUsers, scimHeaders, scimPatchActive } from './lib/load.js';
import { scimBenchSetup, seedScimUsers, stopPostgresNow } from './lib/postgres.js';
import { spawnRoster, stopChild, waitForHealth } from './lib/roster.js';

const what = process.argv[2] === 'patch' ? 'patch' : 'post';
const DURATION = Number(process.env.BENCH_SECONDS ?? 8);

const { postgres, database, org, token, url, pgPort } = await scimBenchSetup('statements', 5, 'bench.test');
const q = <T = Record<string, unknown>>(text: string, values: unknown[] = []) => database.pool.query(text, values).then((r) => r.rows as T[]);
await q(`alter system set shared_preload_libraries = 'pg_stat_statements'`);
await q(`alter system set pg_stat_statements.track_planning = on`);
await stopPostgresNow(postgres.dir);
postgres.server = await startEmbeddedPostgres({ dataDir: postgres.dir, port: pgPort });
await q('create extension if not exists pg_stat_statements');
await seedScimUsers(database.pool, org.id, 10_000);

const port = await freePort();
const child = spawnRoster(port, url, { main: process.env.MAIN, stdio: ['ignore', 'ignore', 'inherit'] });
try {
  await waitForHealth(port);
  const base = `http://127.0.0.1:${port}`;
  const headers = scimHeaders(token);
  const ids = (await q<{ id: string }>(`select id from scim_users where org_id = $1 order by random() limit 5000`, [org.id])).map((x) => x.id);
  await q('select pg_stat_statements_reset()');
  await q('select pg_stat_reset()');
  const lsn = (await q<{ lsn: string }>('select pg_current_wal_lsn() as lsn'))[0]!.lsn;
  const r: autocannon.Result =
    what === 'post'
      ? await cannon(DURATION, { url: base, headers, requests: scimCreateUsers() })
      : await cannon(DURATION, { url: base, headers, requests: scimPatchActive(() => ids[Math.floor(Math.random() * ids.length)]!) });
  const n = r.requests.total;
  const per = (ms: number) => (ms / n).toFixed(3);
  console.log(`${what}: ${Math.round(r.requests.average)}/s, ${n} requests`);
  const [wal] = await q<{ bytes: number }>(`select pg_wal_lsn_diff(pg_current_wal_lsn(), $1)::float8 as bytes`, [lsn]);
  console.log(`WAL: ${Math.round(wal!.bytes / n)} bytes/request`);
  const [all] = await q<{ p: number; e: number }>(`select sum(total_plan_time) as p, sum(total_exec_time) as e from pg_stat_statements`);
  console.log(`all statements: planning ${per(all!.p)} ms/request, execution ${per(all!.e)} ms/request`);
  const top = await q<{ calls: number; p: number; e: number; query: string }>(
    `select calls, total_plan_time as p, total_exec_time as e, query from pg_stat_statements order by total_plan_time + total_exec_time desc limit 15`,
  );
  for (const s of top)
    console.log(`${String(s.calls).padStart(7)} calls  plan ${per(s.p)}  exec ${per(s.e)} ms/req  ${s.query.replace(/\s+/g, ' ').slice(0, 140)}`);
  const tables = await q(
    `select relname, n_tup_ins, n_tup_upd, n_tup_hot_upd, n_tup_del from pg_stat_user_tables where n_tup_ins + n_tup_upd + n_tup_del > 0 order by relname`,
  );
  for (const t of tables) console.log(JSON.stringify(t));
} finally {
  await stopChild(child);
  await database.close();
  await postgres.stop();
}
process.exit(0);
