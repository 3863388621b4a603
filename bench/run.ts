/**
 * `npm run bench`: Roster measured on loopback against the embedded PostgreSQL, each figure next to its
 * ceiling measured in the same run (a trivial express route for HTTP, plain `pg` for writes). Prints
 * one table and writes bench/RESULTS.md. Every step is bounded in time. Not part of `npm test`.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type autocannon from 'autocannon';
import { freePort } from '../src/db/embedded.js';
import { runFuzzBench } from './fuzz.js';
import { ackRow, compareAck } from './slack-distribution.js';
import { webhookDeliveryRate, webhookRow } from './webhooks.js';
import { importBench, importRows } from './import.js';
import {
  CONNECTIONS,
  cannon as cannonFor,
  errorsOf,
  paced,
  rps,
  scimCreateUsers,
  scimFilterUsers,
  scimHeaders,
  scimPatchActive,
  signedPosts,
} from './lib/load.js';
import { benchDomain, migratedDatabase, orgWithScimToken, pgWriteCeiling, seedScimUsers, startBenchPostgres } from './lib/postgres.js';
import { systemActor } from '../src/domain/context.js';
import { ROOT as root, buildRoster, killChildren, ready, rssMb, spawnNode, spawnRoster, stopChild, stopChildren, waitForHealth } from './lib/roster.js';
import { POST_CEILING_SOURCE, fakeSlack, signedSlashCommands, slackEnv } from './lib/slack.js';

const DURATION = Number(process.env.BENCH_SECONDS ?? 10);

type Row = { name: string; result: string; ceiling?: string; target?: string; ok?: boolean; note?: string };
const rows: Row[] = [];

function log(msg: string) {
  process.stderr.write(`[bench] ${msg}\n`);
}

const cannon = (opts: autocannon.Options) => cannonFor(DURATION, opts);

/** The fixed rate authorize's latency is measured at (a busy product's traffic to one Roster process). */
const AUTHORIZE_RATE = 1000;

function httpRow(name: string, r: autocannon.Result, ceiling: autocannon.Result | undefined, target: string, ok: boolean) {
  rows.push({
    name,
    result: `${rps(r)}/s · p50 ${r.latency.p50} ms · p99 ${r.latency.p99} ms${errorsOf(r) ? ` · ${errorsOf(r)} errors` : ''}`,
    ceiling: ceiling ? `${rps(ceiling)}/s · p99 ${ceiling.latency.p99} ms` : undefined,
    target,
    ok,
  });
}

async function main() {
  const started = new Date();
  buildRoster();
  const postgres = await startBenchPostgres('bench');
  log(`PostgreSQL in ${postgres.dir}`);
  const database = await migratedDatabase(postgres.server, 'roster_bench', 20);
  const dbUrl = database.url;
  const domain = benchDomain(database);

  try {
    // --- cold start, with the embedded PostgreSQL (first start runs initdb; a restart reuses the data) ---
    {
      const dataDir = await mkdtemp(path.join(os.tmpdir(), 'roster-bench-cold-'));
      for (const label of ['first start (initdb)', 'restart']) {
        const port = await freePort();
        const t0 = performance.now();
        const child = spawnRoster(port, undefined, { role: 'all', env: { DATA_DIR: dataDir } });
        await waitForHealth(port);
        const ms = performance.now() - t0;
        rows.push({
          name: `cold start, ${label}`,
          result: `${Math.round(ms)} ms`,
          target: label === 'restart' ? '< 3000 ms' : '—',
          ok: label === 'restart' ? ms < 3000 : undefined,
          note: 'process spawn → /healthz 200, embedded PostgreSQL included',
        });
        await stopChild(child);
      }
      await rm(dataDir, { recursive: true, force: true });
    }

    // --- Roster under load: a separate process, as in production ---
    const slack = await fakeSlack();
    const port = await freePort();
    const roster = spawnRoster(port, dbUrl, { env: slackEnv(slack) });
    let stderr = '';
    roster.stderr?.on('data', (d) => (stderr += d));
    await waitForHealth(port, { output: () => stderr });
    const base = `http://127.0.0.1:${port}`;

    await new Promise((r) => setTimeout(r, 3000));
    const rss = rssMb(roster.pid!);
    rows.push({ name: 'idle RSS (web process, Slack + SCIM + pages)', result: `${Math.round(rss)} MB`, target: '< 150 MB', ok: rss < 150 });

    // The HTTP ceiling: a trivial express route in its own process.
    const cport = await freePort();
    const ceilingProc = spawnNode(['--import', 'tsx', 'bench/ceiling.ts'], { PORT: String(cport) });
    await ready(ceilingProc);
    log('ceiling: trivial express route');
    const ceiling = await cannon({ url: `http://127.0.0.1:${cport}/ping` });
    rows.push({ name: 'ceiling: trivial express GET', result: `${rps(ceiling)}/s · p99 ${ceiling.latency.p99} ms`, note: 'same machine, same connections' });
    // Flat out, p99 is queueing on 2 shared cores (the trivial route's own p99 is 8–12 ms): latency is
    // measured at a fixed rate a product's traffic has, beside the same route at that rate.
    const ceilingAtRate = await paced(DURATION, AUTHORIZE_RATE, { url: `http://127.0.0.1:${cport}/ping` });
    await stopChild(ceilingProc);

    const { org, token } = await orgWithScimToken(domain, 'bench', `Bench ${randomUUID().slice(0, 6)}`);
    // The org has verified bench.test, the domain of the users POST /Users creates: the trusted path, where
    // access is granted at once (an unverified domain would make pending memberships and consent emails).
    await database.pool.query(
      `insert into org_domains (org_id, domain, status, challenge, verified_at) values ($1, 'bench.test', 'verified', 'roster-verification=bench', now())`,
      [org.id],
    );
    const auth = scimHeaders(token);

    // --- SCIM POST /Users, and the same rows written straight through pg ---
    log('SCIM POST /Users');
    const post = await cannon({ url: base, headers: auth, requests: scimCreateUsers() });
    log('pg ceiling: the same rows written directly');
    const pgWrites = await pgWriteCeiling(dbUrl, org.id, CONNECTIONS, DURATION);
    rows.push({
      name: 'ceiling: the same rows through pg (account, membership, SCIM user, 2 audit events)',
      result: `${pgWrites}/s`,
      note: `${CONNECTIONS} concurrent transactions`,
    });
    httpRow('SCIM POST /Users', post, ceiling, `≥ 50% of the pg ceiling (${Math.round(pgWrites / 2)}/s)`, rps(post) >= pgWrites / 2);

    // --- filtered GET at 10k and 100k users ---
    for (const size of [10_000, 100_000]) {
      await seedScimUsers(database.pool, org.id, size, log);
      log(`SCIM GET /Users?filter=userName eq … at ${size}`);
      const get = await cannon({ url: base, headers: auth, requests: scimFilterUsers(size) });
      httpRow(
        `SCIM GET filter userName eq, ${size.toLocaleString('en')} users`,
        get,
        ceiling,
        '≥ 2500/s, p99 < 20 ms, flat as users grow',
        rps(get) >= 2500 && get.latency.p99 < 20,
      );
    }

    const ids = (await database.pool.query(`select id from scim_users where org_id = $1 order by random() limit 5000`, [org.id])).rows.map(
      (r) => r.id as string,
    );
    const pick = () => ids[Math.floor(Math.random() * ids.length)];
    log('SCIM GET /Users/{id}');
    const byId = await cannon({ url: base, headers: auth, requests: [{ setupRequest: (req: any) => ({ ...req, path: `/scim/v2/Users/${pick()}` }) }] });
    httpRow('SCIM GET /Users/{id}', byId, ceiling, '—', errorsOf(byId) === 0);

    log('SCIM PATCH active');
    const patch = await cannon({ url: base, headers: auth, requests: scimPatchActive(pick) });
    httpRow(
      'SCIM PATCH active',
      patch,
      ceiling,
      `≥ 50% of the pg ceiling (${Math.round(pgWrites / 2)}/s)`,
      errorsOf(patch) === 0 && rps(patch) >= pgWrites / 2,
    );

    // An IdP retrying: 10 connections PATCH the same user (each waits on the one before for its row).
    log('SCIM PATCH one user from 10 connections');
    const one = ids[0];
    const patchOne = await cannon({ url: base, headers: auth, requests: scimPatchActive(() => one) });
    httpRow('SCIM PATCH of one user by 10 connections at once', patchOne, ceiling, 'p99 < 50 ms', errorsOf(patchOne) === 0 && patchOne.latency.p99 < 50);

    // --- the host product's API: authorize, the call made on every request of the product ---
    {
      const { key } = await domain.apiKeys.create(systemActor('cli'), org.id, { name: 'bench', scope: 'read' });
      const body = JSON.stringify({ user: { email: 'owner@bench.test' }, permission: 'resources:use' });
      log('API POST /orgs/{org}/authorize');
      const authz = await cannon({
        url: `${base}/api/v1/orgs/${org.id}/authorize`,
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body,
      });
      httpRow('API POST /orgs/{org}/authorize', authz, ceiling, '≥ half the ceiling', errorsOf(authz) === 0 && rps(authz) >= rps(ceiling) / 2);
      const authzAtRate = await paced(DURATION, AUTHORIZE_RATE, {
        url: `${base}/api/v1/orgs/${org.id}/authorize`,
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body,
      });
      rows.push({
        name: `API POST /orgs/{org}/authorize at an even ${AUTHORIZE_RATE.toLocaleString('en')} req/s`,
        result: `p50 ${authzAtRate.p50} ms · p99 ${authzAtRate.p99} ms${authzAtRate.errors ? ` · ${authzAtRate.errors} errors` : ''}`,
        ceiling: `p50 ${ceilingAtRate.p50} ms · p99 ${ceilingAtRate.p99} ms`,
        target: 'p99 < 10 ms (where the trivial route is above that: within 2 ms of its p99)',
        ok: authzAtRate.errors === 0 && (authzAtRate.p99 < 10 || authzAtRate.p99 <= ceilingAtRate.p99 + 2),
      });
    }

    // --- webhooks: a backlog for one endpoint (in order), sent by a worker process to a loopback receiver ---
    log('webhook delivery rate');
    rows.push(webhookRow(await webhookDeliveryRate(dbUrl, domain)));

    // --- roster import: the CLI process on a CSV file (dry run, real run, the same file again; peak RSS) ---
    log('roster import');
    rows.push(...importRows(await importBench(dbUrl, domain, log)));

    log('SCIM list page');
    const page = await cannon({ url: `${base}/scim/v2/Users?startIndex=50000&count=100`, headers: auth });
    httpRow('SCIM GET list page (100 users at offset 50,000)', page, ceiling, '—', errorsOf(page) === 0);

    // --- Slack slash command ack at a fixed rate ---
    // Its ceiling: a trivial express POST route parsing the same form body, in its own process, at the
    // same rate and connections (the GET ceiling above runs flat out, which says nothing about p99 at 300/s).
    log('Slack /org help at 300 req/s');
    // Each request signed anew (bench/lib/slack.ts): a repeated signed request is refused as a replay.
    const slashRequest = { overallRate: 300, requests: signedPosts(signedSlashCommands(slack.responseUrl)) };
    const postPort = await freePort();
    const postCeilingProc = spawnNode(['--input-type=module', '-e', POST_CEILING_SOURCE], { PORT: String(postPort) });
    await ready(postCeilingProc);
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

    // --- the same ack with 1,000 installed workspaces (distribution), beside one workspace, fresh processes ---
    rows.push(ackRow(await compareAck(dbUrl, domain, slack, DURATION, log)));

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
    await stopChildren();
    await database.close();
    await postgres.stop();
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
async function report(started: Date) {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const machine = `${os.cpus().length} × ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, ${os.type()} ${os.release()}, Node ${process.version}, PostgreSQL 18 (embedded, fsync on)`;
  const header = '| measurement | result | ceiling (same run) | target | met |\n|---|---|---|---|---|';
  const lines = rows.map(
    (r) => `| ${r.name} | ${r.result} | ${r.ceiling ?? ''} | ${r.target ?? ''} | ${r.ok === undefined ? '' : r.ok ? '✔' : '✘'} |${r.note ? ` ${r.note}` : ''}`,
  );
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
  killChildren();
  process.exit(1);
}, 40 * 60_000);
hardStop.unref();

main().then(
  () => process.exit(0),
  (err) => {
    log(`failed: ${err instanceof Error ? err.stack : String(err)}`);
    killChildren();
    process.exit(1);
  },
);
