/**
 * Focused benchmark of expiring due invites (`npx tsx bench/expire.ts`), on the embedded PostgreSQL with
 * its default durable settings (fsync on), as `npm run bench` runs it.
 *
 * Seeds, once, a template database with N due pending invites spread over 50 orgs (expired between a
 * minute and three days ago), plus invites that are not due yet and invites that are no longer pending;
 * then each run clones it (so every run starts from the same files) and times expireDue loops until
 * nothing is due, with PAR callers in parallel. Checks afterwards that every due invite was expired once,
 * with exactly one audit event, and that nothing else changed.
 *
 * Measured (1M due invites, SEED=bench, 2 shared cores under other load, 2026-11-29), wall / postgres CPU:
 *   ordered@100000x1 (the old expireDue: order by expires_at, joined back by id, one caller)  52.7 s / 51.7 s
 *   domain@100000x2  (unordered, TID scan on the locked ctids, two callers)                  26.3 s / 43.9 s
 *   domain@250000x2                                                                          24.1 s / 41.1 s
 * Per invite the work is a non-HOT update (status is in indexes and partial-index predicates) with three
 * index inserts, a row lock, and an audit row with four index entries: ~40–50 µs of CPU, and ~2.2 KB of WAL
 * (many full-page images, as the WAL volume forces checkpoints mid-run).
 *
 * Env: N (default 1000000), BATCH (default 100000), PAR (parallel callers, default 1), RUNS (default 3),
 * VARIANT (`domain` = domain.invites.expireDue, default; or SQL variants below, comma-separated: run interleaved),
 * DROP (comma-separated index names dropped in the clone before the run, to measure what they cost; or per
 * variant: `unordered:audit_org_target_idx`). `variant@250000x2` sets that variant's batch and callers;
 * `variant+setting=value;...` runs each call in a transaction with those `set local` settings first.
 * SEED=bench seeds as bench/run.ts does (one org, all due since the same minute). CALLS=1 logs each call,
 * EXPLAIN=1 prints one batch's plan (rolled back), PGLOG=1 the server log.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { connect } from '../src/db/client.js';
import { benchDomain, migratedDatabase, startBenchPostgres } from './lib/postgres.js';

const N = Number(process.env.N ?? 1_000_000);
const BATCH = Number(process.env.BATCH ?? 100_000);
const PAR = Number(process.env.PAR ?? 1);
const RUNS = Number(process.env.RUNS ?? 3);
const VARIANTS = (process.env.VARIANT ?? 'domain').split(',');
const DROP = (process.env.DROP ?? '').split(',').filter(Boolean);
/** SEED=bench seeds as bench/run.ts does: one org, every invite due since the same minute. */
const BENCH_SEED = process.env.SEED === 'bench';
const ORGS = BENCH_SEED ? 1 : 50;
const NOT_DUE = 20_000;
const NOT_PENDING = 20_000;

const audit = `insert into audit_events (at, org_id, actor_type, actor_id, actor_label, via, action, target_type, target_id, before)
  select $1, org_id, 'system', 'expire-invites', 'Roster job expire-invites', 'job', 'invite.expired', 'invite', id::text,
         jsonb_build_object('status', 'pending', 'expiresAt', expires_at)
  from expired`;

/** SQL variants ($1 = now, $2 = limit), for A/B runs without editing the domain. */
const variants: Record<string, string> = {
  ordered: `with expired as (
      update invites set status = 'expired', updated_at = $1
      where id in (select id from invites where status = 'pending' and expires_at <= $1
                   order by expires_at limit $2 for update skip locked)
      returning id, org_id, expires_at
    ), audited as (${audit})
    select count(*)::int as n from expired`,
  unordered: `with expired as (
      update invites set status = 'expired', updated_at = $1
      where id in (select id from invites where status = 'pending' and expires_at <= $1
                   limit $2 for update skip locked)
      returning id, org_id, expires_at
    ), audited as (${audit})
    select count(*)::int as n from expired`,
  ctid: `with due as (
      select ctid from invites where status = 'pending' and expires_at <= $1
      limit $2 for update skip locked
    ), expired as (
      update invites set status = 'expired', updated_at = $1
      from due where invites.ctid = due.ctid
      returning invites.id, invites.org_id, invites.expires_at
    ), audited as (${audit})
    select count(*)::int as n from expired`,
  tidarr: `with expired as (
      update invites set status = 'expired', updated_at = $1
      where ctid = any(array(select ctid from invites where status = 'pending' and expires_at <= $1
                             limit $2 for update skip locked))
        and status = 'pending'
      returning id, org_id, expires_at
    ), audited as (${audit})
    select count(*)::int as n from expired`,
  noaudit: `with expired as (
      update invites set status = 'expired', updated_at = $1
      where id in (select id from invites where status = 'pending' and expires_at <= $1
                   limit $2 for update skip locked)
      returning id, org_id, expires_at
    )
    select count(*)::int as n from expired`,
};

/** CPU seconds used so far by the postmaster's children (backends, walwriter, checkpointer): less noisy than wall time on a shared machine. */
function pgCpu(dataDir: string): number {
  const pm = readFileSync(path.join(dataDir, 'pg', 'postmaster.pid'), 'utf8')
    .split('\n')[0]!
    .trim();
  let ticks = 0;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (f[1] === pm) ticks += Number(f[11]) + Number(f[12]);
    } catch {
      // exited meanwhile
    }
  }
  return ticks / 100;
}

function log(msg: string) {
  process.stderr.write(`[expire] ${msg}\n`);
}

async function main() {
  const postgres = await startBenchPostgres('expire-bench', { onLog: process.env.PGLOG ? log : undefined });
  const { dir, server: pgServer } = postgres;
  const admin = new pg.Client({ connectionString: pgServer.url() });
  await admin.connect();
  try {
    const tpl = await migratedDatabase(pgServer, 'tpl', 2);
    log(`seeding ${N.toLocaleString('en')} due invites over ${ORGS} orgs, ${NOT_DUE} not due, ${NOT_PENDING} not pending`);
    const t0 = performance.now();
    await tpl.pool.query(`insert into accounts (email, display_name) values ('owner@bench.test', 'Owner')`);
    await tpl.pool.query(
      `insert into orgs (name, slug, primary_owner_id)
       select 'Org ' || i, 'bench-org-' || i, (select id from accounts limit 1) from generate_series(1, ${ORGS}) i`,
    );
    const insert = (from: number, to: number, status: string, expires: string) =>
      tpl.pool.query(
        `insert into invites (org_id, email, role, status, token_hash, token_nonce, expires_at)
         select o.ids[1 + i % ${ORGS}], '${status}' || i || '@bench.test', 'member', '${status}', md5('${status}' || i::text), 'n', ${expires}
         from generate_series($1::int, $2::int - 1) i, (select array_agg(id order by slug) ids from orgs) o`,
        [from, to],
      );
    for (let from = 0; from < N; from += 100_000) {
      await insert(
        from,
        Math.min(N, from + 100_000),
        'pending',
        BENCH_SEED ? `now() - interval '1 minute'` : `now() - interval '1 minute' - (i % 4320) * interval '1 minute'`,
      );
    }
    await insert(N, N + NOT_DUE, 'pending', `now() + interval '1 hour' + (i % 1000) * interval '1 minute'`);
    await insert(0, NOT_PENDING / 2, 'accepted', `now() - interval '1 day'`);
    await insert(0, NOT_PENDING / 2, 'revoked', `now() - interval '1 day'`);
    await tpl.pool.query('analyze');
    await tpl.close();
    log(`seeded in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    const times = new Map<string, number[]>();
    const cpus = new Map<string, number[]>();
    for (let run = 1; run <= RUNS; run++)
      for (const VARIANT of VARIANTS) {
        const name = `run${run}_${VARIANTS.indexOf(VARIANT)}`;
        await admin.query(`create database ${name} template tpl strategy file_copy`);
        await admin.query('checkpoint');
        const database = connect(pgServer.url(name), 10);
        // `variant@batch x par:index:index` overrides BATCH and PAR and drops indexes, e.g. `ctid@250000x2`.
        const [spec, ...dropHere] = VARIANT.split(':');
        const [base0, sizes] = spec!.split('@');
        const [base, SETS] = base0!.split('+') as [string, string | undefined];
        const [BATCH_, PAR_] = sizes ? sizes.split('x').map(Number) : [BATCH, PAR];
        const batch = BATCH_ || BATCH;
        const par = PAR_ || PAR;
        for (const idx of [...DROP, ...dropHere]) await database.pool.query(`drop index ${idx}`);
        const domain = benchDomain(database);
        const wal0 = (await database.pool.query(`select wal_bytes::bigint as b from pg_stat_wal`)).rows[0]?.b;
        const expireOnce = async (): Promise<number> => {
          if (base === 'domain') return domain.invites.expireDue(batch);
          const sql = variants[base!];
          if (!sql) throw new Error(`unknown VARIANT ${base}`);
          if (!SETS) {
            const r = await database.pool.query<{ n: number }>(sql, [new Date(), batch]);
            return r.rows[0]?.n ?? 0;
          }
          // SETS: run in a transaction with `set local` settings first (e.g. +wal_compression=lz4;work_mem=64MB).
          const c = await database.pool.connect();
          try {
            await c.query('begin');
            for (const kv of SETS.split(';')) {
              const [k, v] = kv.split('=');
              await c.query(`set local ${k} = '${v}'`);
            }
            const r = await c.query<{ n: number }>(sql, [new Date(), batch]);
            await c.query('commit');
            return r.rows[0]?.n ?? 0;
          } finally {
            c.release();
          }
        };
        if (process.env.EXPLAIN) {
          const sql = variants[base === 'domain' ? 'ordered' : base!]!;
          const c = await database.pool.connect();
          await c.query('begin');
          const r = await c.query(`explain (analyze, buffers, wal) ${sql}`, [new Date(), BATCH]);
          log(r.rows.map((x) => x['QUERY PLAN']).join('\n'));
          await c.query('rollback');
          c.release();
        }
        const cpu0 = pgCpu(dir);
        const t = performance.now();
        let total = 0;
        let calls = 0;
        await Promise.all(
          Array.from({ length: par }, async () => {
            for (;;) {
              const c0 = performance.now();
              const k = await expireOnce();
              calls++;
              if (process.env.CALLS) log(`  call ${calls}: ${k} in ${(performance.now() - c0).toFixed(0)} ms`);
              total += k;
              if (k === 0 || performance.now() - t > 180_000) break;
            }
          }),
        );
        const secs = (performance.now() - t) / 1000;
        const cpu = pgCpu(dir) - cpu0;
        times.set(VARIANT, [...(times.get(VARIANT) ?? []), secs]);
        cpus.set(VARIANT, [...(cpus.get(VARIANT) ?? []), cpu]);
        const wal1 = (await database.pool.query(`select wal_bytes::bigint as b from pg_stat_wal`)).rows[0]?.b;
        const check = (
          await database.pool.query(`select
          (select count(*)::int from invites where status = 'expired') as expired,
          (select count(*)::int from invites where status = 'pending' and expires_at <= now() - interval '1 minute') as still_due,
          (select count(*)::int from invites where status = 'pending') as pending,
          (select count(*)::int from audit_events where action = 'invite.expired') as events,
          (select count(distinct target_id)::int from audit_events where action = 'invite.expired') as distinct_targets`)
        ).rows[0];
        const ok = check.expired === N && check.pending === NOT_DUE;
        const auditOk = base === 'noaudit' || (check.events === N && check.distinct_targets === N);
        log(
          `${name}: VARIANT=${VARIANT} BATCH=${batch} PAR=${par}${DROP.length ? ` DROP=${DROP}` : ''}: ${secs.toFixed(2)} s (postgres CPU ${cpu.toFixed(1)} s), ` +
            `${total.toLocaleString('en')} expired in ${calls} calls, WAL ${((Number(wal1) - Number(wal0)) / 2 ** 20).toFixed(0)} MB; ` +
            `check ${JSON.stringify(check)} ${ok && auditOk ? 'OK' : 'WRONG'}`,
        );
        await database.close();
        await admin.query(`drop database ${name}`);
      }
    for (const [VARIANT, ts] of times) {
      const sorted = [...ts].sort((a, b) => a - b);
      console.log(
        `VARIANT=${VARIANT} N=${N}${DROP.length ? ` DROP=${DROP}` : ''} (default BATCH=${BATCH} PAR=${PAR}): ` +
          `${ts.map((s) => s.toFixed(2)).join(' / ')} s (median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(2)} s); postgres CPU ${cpus
            .get(VARIANT)!
            .map((s) => s.toFixed(1))
            .join(' / ')} s`,
      );
    }
  } finally {
    await admin.end();
    await postgres.stop();
  }
}

await main();
