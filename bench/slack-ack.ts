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
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import autocannon from 'autocannon';
import { freePort } from '../src/db/embedded.js';
import { CONNECTIONS, errorsOf, percentile, signedPosts } from './lib/load.js';
import { migratedDatabase, startBenchPostgres } from './lib/postgres.js';
import { buildRoster, ready, spawnNode, spawnRoster, stopChild, stopChildren, waitForHealth } from './lib/roster.js';
import { POST_CEILING_SOURCE, fakeSlack, signedSlashCommands, slackEnv, type SignedRequest } from './lib/slack.js';

const ROUNDS = Number(process.env.ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const RATE = Number(process.env.RATE ?? 300);
const WARMUP = Number(process.env.WARMUP_SECONDS ?? 0);

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

type Probe = { wallMs: number; cpuMs: number; eld: { p50: number; p99: number; max: number }; heapMB: number };

type Run = { p50: number; p99: number; max: number; rps: number; errors: number; perSecondP99: number[] };

/** autocannon at a fixed overall rate; per-request latencies are kept to show where in time the p99 is. */
async function fixedRate(url: string, next: () => SignedRequest, seconds: number): Promise<Run> {
  const samples: { at: number; ms: number }[] = [];
  const t0 = performance.now();
  const res: autocannon.Result = await new Promise((resolve, reject) => {
    const opts = {
      url,
      requests: signedPosts(next),
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
    errors: errorsOf(res),
    perSecondP99: perSecond.map(
      (a) =>
        Math.round(
          percentile(
            a.sort((x, y) => x - y),
            99,
          ) * 10,
        ) / 10,
    ),
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
  buildRoster();
  const postgres = await startBenchPostgres('slack-ack');
  const probeFile = path.join(postgres.dir, 'probe.mjs');
  await writeFile(probeFile, PROBE);
  const slack = await fakeSlack();
  try {
    const database = await migratedDatabase(postgres.server, 'roster_bench', 2);
    const dbUrl = database.url;
    await database.close();
    const responseUrl = slack.responseUrl;
    const flags = (process.env.NODE_FLAGS ?? '').split(/\s+/).filter(Boolean);

    for (let round = 1; round <= ROUNDS; round++) {
      // A fresh process each round, as bench/run.ts measures a process that never saw a slash command.
      if (!process.env.SKIP_CEILING) {
        const cport = await freePort();
        const ceiling = spawnNode(['--import', probeFile, '--input-type=module', '-e', POST_CEILING_SOURCE], { PORT: String(cport) });
        const cerr = { text: '' };
        ceiling.stderr?.on('data', (d) => (cerr.text += d));
        await ready(ceiling);
        if (WARMUP) await fixedRate(`http://127.0.0.1:${cport}/slack/events`, signedSlashCommands(responseUrl), WARMUP);
        await probe(ceiling, cerr);
        const c = await fixedRate(`http://127.0.0.1:${cport}/slack/events`, signedSlashCommands(responseUrl), SECONDS);
        log(line(`round ${round} ceiling (express POST)`, c, await probe(ceiling, cerr)));
        await stopChild(ceiling);
      }

      const mains = (process.env.MAINS ?? 'dist/main.js').split(',');
      for (const main of round % 2 ? mains : [...mains].reverse()) {
        const port = await freePort();
        const roster = spawnRoster(port, dbUrl, { main, nodeArgs: [...flags, '--import', probeFile], env: slackEnv(slack) });
        // Drained always (a full pipe would block the process); shown with SHOW_STDOUT=1 (e.g. --trace-gc).
        roster.stdout?.on('data', (d) => process.env.SHOW_STDOUT && process.stderr.write(d));
        const err = { text: '' };
        roster.stderr?.on('data', (d) => {
          err.text += d;
          if (process.env.SHOW_STDERR) process.stderr.write(d);
        });
        await waitForHealth(port, { output: () => err.text });
        await new Promise((r) => setTimeout(r, 1000));
        const url = `http://127.0.0.1:${port}/slack/events`;
        if (WARMUP) await fixedRate(url, signedSlashCommands(responseUrl), WARMUP);
        for (const k of Object.keys(slack.counts)) delete slack.counts[k];
        await probe(roster, err);
        const r = await fixedRate(url, signedSlashCommands(responseUrl), SECONDS);
        const p = await probe(roster, err);
        // Let the follow-up work (response_url posts) finish before counting it.
        await new Promise((res) => setTimeout(res, 500));
        const sent = r.rps * SECONDS;
        const calls = Object.entries(slack.counts)
          .map(([k, v]) => `${k} ${(v / sent).toFixed(2)}`)
          .join(', ');
        log(line(`round ${round} Roster /org help [${main}]`, r, p) + `\n    Slack calls per command: ${calls}`);
        await stopChild(roster);
      }
    }
  } finally {
    await stopChildren();
    slack.close();
    await postgres.stop();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
