/**
 * `npx tsx bench/slack-ack.ts`: just the "Slack slash command ack at a fixed rate" row of bench/run.ts,
 * repeated, next to its ceiling (a trivial express POST route parsing the same form body, in its own
 * process, at the same rate), with what is needed to find where the p99 comes from:
 *   - latency per second of the run (is the p99 the JIT warm-up at the start, or spread out?),
 *   - the server's event-loop delay and CPU per request (read inside the server by a preloaded module),
 *   - calls reaching the fake Slack API (users.info, response_url) per command.
 * Env: ROUNDS (3), BENCH_SECONDS (10), RATE (300), WARMUP_SECONDS (0: measure from the first request,
 * as bench/run.ts does), NODE_FLAGS for the Roster process (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof",
 * "--trace-gc" with SHOW_STDOUT=1), SKIP_CEILING=1, SHOW_STDERR=1. Roster runs compiled (`npm run build` first, done here).
 * A/B: MAINS=/tmp/a/dist/main.js,dist/main.js runs each build back to back in every round (order
 * alternating between rounds), after the ceiling; a copied dist needs package.json and node_modules
 * (a symlink) next to it.
 */
import { execSync, spawn, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import pg from 'pg';
import { freePort, startEmbeddedPostgres } from '../src/db/embedded.js';
import { connect } from '../src/db/client.js';
import { runMigrations } from '../src/db/migrate.js';

const ROUNDS = Number(process.env.ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const RATE = Number(process.env.RATE ?? 300);
const WARMUP = Number(process.env.WARMUP_SECONDS ?? 0);
const CONNECTIONS = 10;
const SIGNING_SECRET = 'bench-signing-secret-0123456789abcdef';
const APP_SECRET = 'b'.repeat(40);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const children: ChildProcess[] = [];

const log = (msg: string) => process.stderr.write(`[slack-ack] ${msg}\n`);

/** Preloaded into the measured process: event-loop delay and CPU since the last SIGUSR2, printed on SIGUSR2. */
const PROBE = `
import { monitorEventLoopDelay } from 'node:perf_hooks';
const h = monitorEventLoopDelay({ resolution: 1 });
h.enable();
let cpu = process.cpuUsage();
let t = performance.now();
process.on('SIGUSR2', () => {
  const c = process.cpuUsage(cpu);
  const ms = (x) => Math.round(x / 1e4) / 100;
  process.stderr.write('@@probe ' + JSON.stringify({
    wallMs: Math.round(performance.now() - t), cpuMs: Math.round((c.user + c.system) / 1000),
    eld: { p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max) },
    heapMB: Math.round(process.memoryUsage().heapUsed / 2 ** 20),
  }) + '\\n');
  h.reset(); cpu = process.cpuUsage(); t = performance.now();
});
`;

/** The ceiling: express 5, a POST route that parses the same urlencoded body and answers 200 at once. */
const CEILING = `
import express from 'express';
const app = express();
app.post('/slack/events', express.urlencoded({ extended: false }), (req, res) => { res.status(200).end(); });
const s = app.listen(Number(process.env.PORT), '127.0.0.1', () => process.stdout.write('ready\\n'));
process.on('SIGTERM', () => s.close(() => process.exit(0)));
`;

type Probe = { wallMs: number; cpuMs: number; eld: { p50: number; p99: number; max: number }; heapMB: number };

function spawnNode(argv: string[], env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, argv, {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  return child;
}

async function stopChild(child: ChildProcess) {
  if (child.exitCode !== null) return;
  const done = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([done, new Promise((r) => setTimeout(r, 10_000))]);
  if (child.exitCode === null) child.kill('SIGKILL');
}

async function waitForHealth(url: string, timeoutMs = 60_000) {
  const start = performance.now();
  for (;;) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not up yet
    }
    if (performance.now() - start > timeoutMs) throw new Error(`no answer from ${url}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Slack's Web API and response_url, counting what reaches them. */
async function fakeSlack() {
  const counts: Record<string, number> = {};
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const key = (req.url ?? '').replace(/\?.*$/, '');
      counts[key] = (counts[key] ?? 0) + 1;
      res.setHeader('content-type', 'application/json');
      if (req.url?.includes('users.info')) {
        res.end(JSON.stringify({ ok: true, user: { id: 'UBENCH', name: 'bench', profile: { email: 'bench@example.com', display_name: 'Bench' } } }));
      } else res.end('{"ok":true}');
    });
  });
  // New TCP connections from Roster: a client that keeps its connections alive opens a handful per run.
  server.on('connection', () => (counts['(new connections)'] = (counts['(new connections)'] ?? 0) + 1));
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${port}/api/`, counts, close: () => server.close() };
}

/** Each request signed anew (its own trigger_id): Roster acts on a signed request once, so a repeated one is a replay. */
function signed(responseUrl: string) {
  let nth = 0;
  return () => {
    const body = new URLSearchParams({ command: '/org', text: 'help', team_id: 'TBENCH', user_id: 'UBENCH', response_url: responseUrl, trigger_id: `t${nth++}` }).toString();
    const ts = Math.floor(Date.now() / 1000);
    const sig = 'v0=' + createHmac('sha256', SIGNING_SECRET).update(`v0:${ts}:${body}`).digest('hex');
    return { body, headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-signature': sig, 'x-slack-request-timestamp': String(ts) } };
  };
}

function pct(sorted: number[], p: number) {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

type Run = { p50: number; p99: number; max: number; rps: number; errors: number; perSecondP99: number[] };

/** autocannon at a fixed overall rate; per-request latencies are kept to show where in time the p99 is. */
async function fixedRate(url: string, next: () => { body: string; headers: Record<string, string> }, seconds: number): Promise<Run> {
  const samples: { at: number; ms: number }[] = [];
  const t0 = performance.now();
  const res: autocannon.Result = await new Promise((resolve, reject) => {
    const opts = {
      url,
      method: 'POST' as const,
      requests: [
        {
          setupRequest: (req: any) => {
            const r = next();
            return { ...req, body: r.body, headers: { ...req.headers, ...r.headers } };
          },
        },
      ],
      connections: CONNECTIONS,
      duration: seconds,
      overallRate: RATE,
    };
    const inst = autocannon(opts, (err, result) => (err ? reject(err) : resolve(result)));
    inst.on('response', (_c, _status, _bytes, ms) => samples.push({ at: performance.now() - t0, ms }));
  });
  const perSecond: number[][] = [];
  for (const s of samples) (perSecond[Math.floor(s.at / 1000)] ??= []).push(s.ms);
  return {
    p50: res.latency.p50,
    p99: res.latency.p99,
    max: res.latency.max,
    rps: Math.round(res.requests.average),
    errors: res.errors + res.timeouts + res.non2xx,
    perSecondP99: perSecond.map((a) => Math.round(pct(a.sort((x, y) => x - y), 99) * 10) / 10),
  };
}

async function probe(child: ChildProcess, out: { text: string }): Promise<Probe | undefined> {
  const before = out.text.length;
  child.kill('SIGUSR2');
  for (let i = 0; i < 50; i++) {
    await new Promise((r) => setTimeout(r, 20));
    const m = /@@probe (.*)\n/.exec(out.text.slice(before));
    if (m) return JSON.parse(m[1]!) as Probe;
  }
  return undefined;
}

function line(label: string, r: Run, p?: Probe) {
  const per = p ? ` · server: cpu ${(p.cpuMs / (r.rps * SECONDS)).toFixed(2)} ms/req, ELD p99 ${p.eld.p99} ms max ${p.eld.max} ms, heap ${p.heapMB} MB` : '';
  return `${label}: p50 ${r.p50} ms · p99 ${r.p99} ms · max ${r.max} ms · ${r.rps}/s${r.errors ? ` · ${r.errors} errors` : ''}${per}\n    p99 by second: ${r.perSecondP99.join(' ')}`;
}

async function main() {
  execSync('npm run build', { cwd: root, stdio: 'ignore' });
  const dir = await mkdtemp(path.join(os.tmpdir(), 'roster-slack-ack-'));
  const probeFile = path.join(dir, 'probe.mjs');
  await writeFile(probeFile, PROBE);
  const pgServer = await startEmbeddedPostgres({ dataDir: dir });
  const slack = await fakeSlack();
  try {
    const admin = new pg.Client({ connectionString: pgServer.url() });
    await admin.connect();
    await admin.query('create database roster_bench');
    await admin.end();
    const dbUrl = pgServer.url('roster_bench');
    const database = connect(dbUrl, 2);
    await runMigrations(database.pool);
    await database.close();
    const responseUrl = `${slack.url.replace(/api\/$/, '')}response`;
    const flags = (process.env.NODE_FLAGS ?? '').split(/\s+/).filter(Boolean);

    for (let round = 1; round <= ROUNDS; round++) {
      // A fresh process each round, as bench/run.ts measures a process that never saw a slash command.
      if (!process.env.SKIP_CEILING) {
        const cport = await freePort();
        const ceiling = spawnNode(['--import', probeFile, '--input-type=module', '-e', CEILING], { PORT: String(cport) });
        const cerr = { text: '' };
        ceiling.stderr?.on('data', (d) => (cerr.text += d));
        await new Promise((r) => ceiling.stdout?.once('data', r));
        if (WARMUP) await fixedRate(`http://127.0.0.1:${cport}/slack/events`, signed(responseUrl), WARMUP);
        await probe(ceiling, cerr);
        const c = await fixedRate(`http://127.0.0.1:${cport}/slack/events`, signed(responseUrl), SECONDS);
        log(line(`round ${round} ceiling (express POST)`, c, await probe(ceiling, cerr)));
        await stopChild(ceiling);
      }

      const mains = (process.env.MAINS ?? 'dist/main.js').split(',');
      for (const main of round % 2 ? mains : [...mains].reverse()) {
        const port = await freePort();
        const roster = spawnNode([...flags, '--import', probeFile, main], {
          PORT: String(port),
          HOST: '127.0.0.1',
          DATABASE_URL: dbUrl,
          DATABASE_POOL_SIZE: '20',
          LOG_LEVEL: 'warn',
          APP_SECRET,
          ROSTER_ROLE: 'web',
          SLACK_SIGNING_SECRET: SIGNING_SECRET,
          SLACK_BOT_TOKEN: 'xoxb-bench',
          SLACK_API_URL: slack.url,
          PUBLIC_URL: `http://127.0.0.1:${port}`,
        });
        // Drained always (a full pipe would block the process); shown with SHOW_STDOUT=1 (e.g. --trace-gc).
        roster.stdout?.on('data', (d) => process.env.SHOW_STDOUT && process.stderr.write(d));
        const err = { text: '' };
        roster.stderr?.on('data', (d) => {
          err.text += d;
          if (process.env.SHOW_STDERR) process.stderr.write(d);
        });
        await waitForHealth(`http://127.0.0.1:${port}/healthz`).catch((e) => {
          throw new Error(`${e.message}\n${err.text}`);
        });
        await new Promise((r) => setTimeout(r, 1000));
        const url = `http://127.0.0.1:${port}/slack/events`;
        if (WARMUP) await fixedRate(url, signed(responseUrl), WARMUP);
        for (const k of Object.keys(slack.counts)) delete slack.counts[k];
        await probe(roster, err);
        const r = await fixedRate(url, signed(responseUrl), SECONDS);
        const p = await probe(roster, err);
        // Let the follow-up work (response_url posts) finish before counting it.
        await new Promise((res) => setTimeout(res, 500));
        const sent = r.rps * SECONDS;
        const calls = Object.entries(slack.counts).map(([k, v]) => `${k} ${(v / sent).toFixed(2)}`).join(', ');
        log(line(`round ${round} Roster /org help [${main}]`, r, p) + `\n    Slack calls per command: ${calls}`);
        await stopChild(roster);
      }
    }
  } finally {
    for (const c of children) await stopChild(c);
    slack.close();
    await pgServer.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
