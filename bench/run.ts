/**
 * `npm run bench`: Roster measured on loopback against the embedded PostgreSQL, each figure next to its
 * ceiling measured in the same run (a trivial express route for HTTP, plain `pg` for writes). Prints
 * one table and writes bench/RESULTS.md. Every step is bounded in time. Not part of `npm test`.
 */
import { execSync, spawn, type ChildProcess } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import pg from 'pg';
import { connect } from '../src/db/client.js';
import { freePort, startEmbeddedPostgres } from '../src/db/embedded.js';
import { runMigrations } from '../src/db/migrate.js';
import { createDomain } from '../src/domain/index.js';
import { accountActor, systemClock } from '../src/domain/context.js';
import { deriveKey } from '../src/secrets.js';
import { runFuzzBench } from './fuzz.js';

const DURATION = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = 10;
const SIGNING_SECRET = 'bench-signing-secret-0123456789abcdef';
const APP_SECRET = 'b'.repeat(40);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');

type Row = { name: string; result: string; ceiling?: string; target?: string; ok?: boolean; note?: string };
const rows: Row[] = [];
const children: ChildProcess[] = [];

function log(msg: string) {
  process.stderr.write(`[bench] ${msg}\n`);
}

function spawnNode(args: string[], env: Record<string, string>): ChildProcess {
  // Roster runs compiled, as `npm start` runs it; helper scripts run through tsx.
  const argv = args[0] === 'src/main.ts' ? ['dist/main.js', ...args.slice(1)] : ['--import', 'tsx', ...args];
  const child = spawn(process.execPath, argv, {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  return child;
}

async function waitForHealth(url: string, timeoutMs = 60_000): Promise<number> {
  const start = performance.now();
  for (;;) {
    try {
      const r = await fetch(url);
      if (r.ok) return performance.now() - start;
    } catch {
      // not up yet
    }
    if (performance.now() - start > timeoutMs) throw new Error(`no answer from ${url} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function stopChild(child: ChildProcess) {
  if (child.exitCode !== null) return;
  const done = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([done, new Promise((r) => setTimeout(r, 10_000))]);
  if (child.exitCode === null) child.kill('SIGKILL');
}

async function cannon(opts: autocannon.Options): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    autocannon({ connections: CONNECTIONS, duration: DURATION, ...opts }, (err, res) => (err ? reject(err) : resolve(res)));
  });
}

const rps = (r: autocannon.Result) => Math.round(r.requests.average);
const errorsOf = (r: autocannon.Result) => r.errors + r.timeouts + r.non2xx;
function httpRow(name: string, r: autocannon.Result, ceiling: autocannon.Result | undefined, target: string, ok: boolean) {
  rows.push({
    name,
    result: `${rps(r)}/s · p50 ${r.latency.p50} ms · p99 ${r.latency.p99} ms${errorsOf(r) ? ` · ${errorsOf(r)} errors` : ''}`,
    ceiling: ceiling ? `${rps(ceiling)}/s · p99 ${ceiling.latency.p99} ms` : undefined,
    target,
    ok,
  });
}

/** A minimal stand-in for Slack's Web API and response_url, so slash commands run end to end. */
async function fakeSlack(): Promise<{ url: string; close: () => void }> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      if (req.url?.includes('users.info')) {
        res.end(JSON.stringify({ ok: true, user: { id: 'UBENCH', name: 'bench', profile: { email: 'bench@example.com', display_name: 'Bench' } } }));
      } else res.end('{"ok":true}');
    });
  });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${port}/api/`, close: () => server.close() };
}

async function seedScimUsers(pool: pg.Pool, orgId: string, upTo: number) {
  const { rows: [{ n }] } = await pool.query(`select count(*)::int as n from scim_users where org_id = $1 and user_name like 'seed%'`, [orgId]);
  if (n >= upTo) return;
  log(`seeding SCIM users ${n} → ${upTo}`);
  // Straight SQL, in chunks: the fixture, not the thing measured.
  for (let from = n; from < upTo; from += 20_000) {
    const to = Math.min(upTo, from + 20_000);
    await pool.query(
      `with a as (
         insert into accounts (email, display_name)
         select 'seed' || i || '@bench.test', 'Seed ' || i from generate_series($2::int, $3::int - 1) i
         returning id, email)
       , m as (insert into memberships (org_id, account_id, role, source) select $1, id, 'member', 'scim' from a)
       insert into scim_users (org_id, account_id, user_name, external_id, email)
       select $1, id, email, 'ext-' || email, email from a`,
      [orgId, from, to],
    );
  }
  // Steady state: autovacuum would have vacuumed a table this size (its visibility map lets page reads skip the heap).
  await pool.query('vacuum analyze scim_users');
  await pool.query('analyze');
}

async function main() {
  const started = new Date();
  execSync('npm run build', { cwd: root, stdio: 'ignore' });
  const dir = await mkdtemp(path.join(os.tmpdir(), 'roster-bench-'));
  log(`PostgreSQL in ${dir}`);
  const pgServer = await startEmbeddedPostgres({ dataDir: dir });
  const admin = new pg.Client({ connectionString: pgServer.url() });
  await admin.connect();
  await admin.query('create database roster_bench');
  await admin.end();
  const dbUrl = pgServer.url('roster_bench');
  const database = connect(dbUrl, 20);
  await runMigrations(database.pool);
  const domain = createDomain({
    db: database.db,
    clock: systemClock,
    settings: { membershipMode: 'multi', inviteTokenKey: deriveKey(APP_SECRET, 'invite-token') },
  });

  try {
    // --- cold start, with the embedded PostgreSQL (first start runs initdb; a restart reuses the data) ---
    {
      const dataDir = await mkdtemp(path.join(os.tmpdir(), 'roster-bench-cold-'));
      for (const label of ['first start (initdb)', 'restart']) {
        const port = await freePort();
        const t0 = performance.now();
        const child = spawnNode(['src/main.ts'], { PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'warn', APP_SECRET });
        await waitForHealth(`http://127.0.0.1:${port}/healthz`);
        const ms = performance.now() - t0;
        rows.push({ name: `cold start, ${label}`, result: `${Math.round(ms)} ms`, target: label === 'restart' ? '< 3000 ms' : '—', ok: label === 'restart' ? ms < 3000 : undefined, note: 'process spawn → /healthz 200, embedded PostgreSQL included' });
        await stopChild(child);
      }
      await rm(dataDir, { recursive: true, force: true });
    }

    // --- Roster under load: a separate process, as in production ---
    const slack = await fakeSlack();
    const port = await freePort();
    const roster = spawnNode(['src/main.ts'], {
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: dbUrl,
      DATABASE_POOL_SIZE: '20',
      LOG_LEVEL: 'warn',
      APP_SECRET,
      ROSTER_ROLE: 'web',
      // The bench measures Roster itself from one client on one token: rate limits off (README).
      SCIM_RATE_LIMIT: '0',
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_BOT_TOKEN: 'xoxb-bench',
      SLACK_API_URL: slack.url,
      PUBLIC_URL: `http://127.0.0.1:${port}`,
    });
    let stderr = '';
    roster.stderr?.on('data', (d) => (stderr += d));
    await waitForHealth(`http://127.0.0.1:${port}/healthz`).catch((e) => {
      throw new Error(`${e.message}\n${stderr}`);
    });
    const base = `http://127.0.0.1:${port}`;

    await new Promise((r) => setTimeout(r, 3000));
    const status = await readFile(`/proc/${roster.pid}/status`, 'utf8').catch(() => '');
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    rows.push({ name: 'idle RSS (web process, Slack + SCIM + pages)', result: `${Math.round(rssKb / 1024)} MB`, target: '< 150 MB', ok: rssKb / 1024 < 150 });

    // The HTTP ceiling: a trivial express route in its own process.
    const cport = await freePort();
    const ceilingProc = spawnNode(['bench/ceiling.ts'], { PORT: String(cport) });
    await new Promise((r) => ceilingProc.stdout?.once('data', r));
    log('ceiling: trivial express route');
    const ceiling = await cannon({ url: `http://127.0.0.1:${cport}/ping` });
    rows.push({ name: 'ceiling: trivial express GET', result: `${rps(ceiling)}/s · p99 ${ceiling.latency.p99} ms`, note: 'same machine, same connections' });
    await stopChild(ceilingProc);

    const owner = await domain.accounts.findOrCreateByEmail('owner@bench.test', 'Bench Owner');
    const org = await domain.orgs.create(accountActor(owner.id, 'api'), { name: `Bench ${randomUUID().slice(0, 6)}` });
    const { token } = await domain.scimTokens.create(accountActor(owner.id, 'api'), org.id, 'bench');
    const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' };

    // --- SCIM POST /Users, and the same rows written straight through pg ---
    log('SCIM POST /Users');
    let seq = 0;
    const runId = randomUUID().slice(0, 8);
    const post = await cannon({
      url: base,
      headers: auth,
      requests: [
        {
          method: 'POST',
          setupRequest: (req: any) => {
            const userName = `u-${runId}-${seq++}@bench.test`;
            return {
              ...req,
              path: '/scim/v2/Users',
              body: JSON.stringify({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName, name: { givenName: 'B', familyName: 'U' }, emails: [{ value: userName, type: 'work', primary: true }], active: true }),
            };
          },
        },
      ],
    });
    log('pg ceiling: the same rows written directly');
    const pgWrites = await pgWriteCeiling(dbUrl, org.id);
    rows.push({ name: 'ceiling: the same rows through pg (account, membership, SCIM user, 2 audit events)', result: `${pgWrites}/s`, note: `${CONNECTIONS} concurrent transactions` });
    httpRow('SCIM POST /Users', post, ceiling, '≥ 2500/s, p99 < 20 ms', rps(post) >= 2500 && post.latency.p99 < 20);

    // --- filtered GET at 10k and 100k users ---
    for (const size of [10_000, 100_000]) {
      await seedScimUsers(database.pool, org.id, size);
      log(`SCIM GET /Users?filter=userName eq … at ${size}`);
      const get = await cannon({
        url: base,
        headers: auth,
        requests: [{ setupRequest: (req: any) => ({ ...req, path: `/scim/v2/Users?filter=${encodeURIComponent(`userName eq "seed${Math.floor(Math.random() * size)}@bench.test"`)}` }) }],
      });
      httpRow(`SCIM GET filter userName eq, ${size.toLocaleString('en')} users`, get, ceiling, '≥ 2500/s, p99 < 20 ms, flat as users grow', rps(get) >= 2500 && get.latency.p99 < 20);
    }

    const ids = (await database.pool.query(`select id from scim_users where org_id = $1 order by random() limit 5000`, [org.id])).rows.map((r) => r.id as string);
    const pick = () => ids[Math.floor(Math.random() * ids.length)];
    log('SCIM GET /Users/{id}');
    const byId = await cannon({ url: base, headers: auth, requests: [{ setupRequest: (req: any) => ({ ...req, path: `/scim/v2/Users/${pick()}` }) }] });
    httpRow('SCIM GET /Users/{id}', byId, ceiling, '—', errorsOf(byId) === 0);

    log('SCIM PATCH active');
    const patch = await cannon({
      url: base,
      headers: auth,
      requests: [
        {
          method: 'PATCH',
          setupRequest: (req: any) => ({
            ...req,
            path: `/scim/v2/Users/${pick()}`,
            body: JSON.stringify({ schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', value: { active: Math.random() < 0.5 } }] }),
          }),
        },
      ],
    });
    httpRow('SCIM PATCH active', patch, ceiling, '—', errorsOf(patch) === 0);

    log('SCIM list page');
    const page = await cannon({ url: `${base}/scim/v2/Users?startIndex=50000&count=100`, headers: auth });
    httpRow('SCIM GET list page (100 users at offset 50,000)', page, ceiling, '—', errorsOf(page) === 0);

    // --- Slack slash command ack at a fixed rate ---
    // Its ceiling: a trivial express POST route parsing the same form body, in its own process, at the
    // same rate and connections (the GET ceiling above runs flat out, which says nothing about p99 at 300/s).
    log('Slack /org help at 300 req/s');
    // Each request signed anew (its own trigger_id and signature): Roster acts on a signed request once,
    // so the same signed body sent again would measure the replay refusal instead of the command.
    const responseUrl = `${slack.url.replace(/api\/$/, '')}response`;
    let nth = 0;
    const slashRequest = {
      method: 'POST' as const,
      overallRate: 300,
      requests: [
        {
          setupRequest: (req: any) => {
            const body = new URLSearchParams({ command: '/org', text: 'help', team_id: 'TBENCH', user_id: 'UBENCH', response_url: responseUrl, trigger_id: `t${nth++}` }).toString();
            const ts = Math.floor(Date.now() / 1000);
            const sig = 'v0=' + createHmac('sha256', SIGNING_SECRET).update(`v0:${ts}:${body}`).digest('hex');
            return { ...req, body, headers: { ...req.headers, 'content-type': 'application/x-www-form-urlencoded', 'x-slack-signature': sig, 'x-slack-request-timestamp': String(ts) } };
          },
        },
      ],
    };
    const postPort = await freePort();
    const postCeilingProc = spawnNode(
      [
        '--input-type=module',
        '-e',
        `import express from 'express';
         const app = express();
         app.post('/slack/events', express.urlencoded({ extended: false }), (_req, res) => { res.status(200).end(); });
         const s = app.listen(Number(process.env.PORT), '127.0.0.1', () => process.stdout.write('ready\\n'));
         process.on('SIGTERM', () => s.close(() => process.exit(0)));`,
      ],
      { PORT: String(postPort) },
    );
    await new Promise((r) => postCeilingProc.stdout?.once('data', r));
    // Each measured twice in a row: the first 10 s of Slack traffic to a fresh process (JIT warm-up
    // included), then the next 10 s, the steady state a running deployment is in.
    const ceilingCold = await cannon({ url: `http://127.0.0.1:${postPort}/slack/events`, ...slashRequest });
    const ceilingWarm = await cannon({ url: `http://127.0.0.1:${postPort}/slack/events`, ...slashRequest });
    await stopChild(postCeilingProc);
    const slashCold = await cannon({ url: `${base}/slack/events`, ...slashRequest });
    const slashWarm = await cannon({ url: `${base}/slack/events`, ...slashRequest });
    const ack = (r: autocannon.Result) => `p50 ${r.latency.p50} ms · p99 ${r.latency.p99} ms · ${rps(r)}/s${errorsOf(r) ? ` · ${errorsOf(r)} errors` : ''}`;
    rows.push({
      name: 'Slack slash command ack at 300 req/s, first 10 s of Slack traffic',
      result: ack(slashCold),
      ceiling: ack(ceilingCold),
      target: '—',
      note: 'JIT warm-up included; ceiling: trivial express POST parsing the same body, same rate (bench/slack-ack.ts for a breakdown)',
    });
    rows.push({
      name: 'Slack slash command ack at 300 req/s, steady state (the next 10 s)',
      result: ack(slashWarm),
      ceiling: ack(ceilingWarm),
      target: 'p99 < 25 ms',
      ok: slashWarm.latency.p99 < 25 && errorsOf(slashWarm) === 0,
    });

    await stopChild(roster);
    slack.close();

    // --- expiring due invites ---
    const EXPIRE_BATCH = 250_000; // bench/expire.ts: 2 callers × 250k ≈ 10% faster than × 100k; 1 caller × 100k was 2× slower
    for (const n of [100_000, 1_000_000]) {
      log(`seeding ${n.toLocaleString('en')} due invites`);
      await database.pool.query(`delete from invites where org_id = $1`, [org.id]);
      for (let from = 0; from < n; from += 100_000) {
        await database.pool.query(
          `insert into invites (org_id, email, role, token_hash, token_nonce, expires_at)
           select $1::uuid, 'due' || i || '@bench.test', 'member', md5($1::text || i::text), 'n', now() - interval '1 minute'
           from generate_series($2::int, $3::int - 1) i`,
          [org.id, from, Math.min(n, from + 100_000)],
        );
      }
      await database.pool.query('analyze invites');
      log('expiring');
      // Two callers at once, as the expire job runs them (SKIP LOCKED gives each its own due invites).
      const t0 = performance.now();
      let total = 0;
      await Promise.all(
        [0, 1].map(async () => {
          for (;;) {
            const k = await domain.invites.expireDue(EXPIRE_BATCH);
            total += k;
            if (k === 0) break;
            if (performance.now() - t0 > 120_000) break;
          }
        }),
      );
      const secs = (performance.now() - t0) / 1000;
      rows.push({
        name: `expire ${n.toLocaleString('en')} due invites (with one audit event each)`,
        result: `${secs.toFixed(1)} s (${total.toLocaleString('en')} expired)`,
        target: n === 1_000_000 ? '< 10 s' : '—',
        ok: n === 1_000_000 ? secs < 10 && total === n : total === n,
      });
    }
  } finally {
    for (const c of children) await stopChild(c);
    await database.close();
    await pgServer.stop();
    await rm(dir, { recursive: true, force: true });
  }

  // --- property-based fuzzing, 100k cases (a few thousand run in npm test); BENCH_FUZZ=0 skips it ---
  if (process.env.BENCH_FUZZ !== '0') {
    log('fuzzing: 100,000 cases (2–10 minutes, depending on the machine)');
    const fuzz = await runFuzzBench();
    rows.push({
      name: 'fuzzing: SCIM filters, PATCH bodies, POST bodies, slash-command text, invite links',
      result: `${fuzz.cases.toLocaleString('en')} cases in ${Math.round(fuzz.seconds)} s, ${fuzz.passed ? 'no 5xx, no crash' : 'FAILED (see the log above)'}`,
      target: '≥ 100,000 cases, never a 5xx or a crash',
      ok: fuzz.passed && fuzz.cases >= 100_000,
    });
  }

  await report(started);
}

/** The write ceiling: the rows one SCIM POST writes, inserted straight through pg by 10 concurrent clients. */
async function pgWriteCeiling(url: string, orgId: string): Promise<number> {
  const pool = new pg.Pool({ connectionString: url, max: CONNECTIONS });
  let done = 0;
  const until = performance.now() + DURATION * 1000;
  async function worker(w: number) {
    let i = 0;
    while (performance.now() < until) {
      const email = `pgc-${w}-${i++}-${randomUUID().slice(0, 8)}@bench.test`;
      const c = await pool.connect();
      try {
        await c.query('begin');
        const a = await c.query(`insert into accounts (email, display_name) values ($1, 'B U') returning id`, [email]);
        const m = await c.query(`insert into memberships (org_id, account_id, role, source) values ($1, $2, 'member', 'scim') returning id`, [orgId, a.rows[0].id]);
        const u = await c.query(`insert into scim_users (org_id, account_id, user_name, email) values ($1, $2, $3, $3) returning id`, [orgId, a.rows[0].id, email]);
        await c.query(`insert into audit_events (org_id, actor_type, action, target_type, target_id) values ($1, 'scim', 'member.added', 'membership', $2), ($1, 'scim', 'scim.user_provisioned', 'scim_user', $3)`, [orgId, m.rows[0].id, u.rows[0].id]);
        await c.query('commit');
        done++;
      } finally {
        c.release();
      }
    }
  }
  await Promise.all(Array.from({ length: CONNECTIONS }, (_, w) => worker(w)));
  await pool.end();
  return Math.round(done / DURATION);
}

async function report(started: Date) {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const machine = `${os.cpus().length} × ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, ${os.type()} ${os.release()}, Node ${process.version}, PostgreSQL 18 (embedded, fsync on)`;
  const header = '| measurement | result | ceiling (same run) | target | met |\n|---|---|---|---|---|';
  const lines = rows.map((r) => `| ${r.name} | ${r.result} | ${r.ceiling ?? ''} | ${r.target ?? ''} | ${r.ok === undefined ? '' : r.ok ? '✔' : '✘'} |${r.note ? ` ${r.note}` : ''}`);
  const table = [header, ...lines].join('\n');
  process.stdout.write(`\n${table}\n`);
  const md = `# Benchmark results\n\nRun ${started.toISOString()} on ${machine}.\nLoad generator: autocannon, ${CONNECTIONS} connections, ${DURATION} s per HTTP row, on the same machine as Roster and PostgreSQL.\n\n${table}\n`;
  // The findings written by hand below the table stay across reruns.
  const file = path.join(root, 'bench', 'RESULTS.md');
  const previous = await readFile(file, 'utf8').catch(() => '');
  const findings = previous.indexOf('\n## Findings');
  await writeFile(file, findings >= 0 ? `${md}${previous.slice(findings)}` : md);
  log('wrote bench/RESULTS.md');
}

const hardStop = setTimeout(() => {
  log('bench exceeded its time limit; stopping');
  for (const c of children) c.kill('SIGKILL');
  process.exit(1);
}, 40 * 60_000);
hardStop.unref();

main().then(
  () => process.exit(0),
  (err) => {
    log(`failed: ${err instanceof Error ? err.stack : String(err)}`);
    for (const c of children) c.kill('SIGKILL');
    process.exit(1);
  },
);
