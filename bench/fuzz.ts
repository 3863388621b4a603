/**
 * `npm run bench:fuzz`: the property-based fuzzing of test/resilience/fuzz.test.ts (SCIM filters, attribute
 * lists and paging numbers, PATCH bodies, POST bodies, users and groups with hostile strings, raw JSON nested
 * up to 20,000 levels, invite links and the invite form, slash-command text; the strings carry control
 * characters, unpaired surrogates and numbers past 2^63) at 100,000 cases or more, where `npm test` runs a
 * few thousand. The arbitraries live in that one file, so the bench and the test suite fuzz the same input. It runs that same test file through vitest in a child process with FUZZ_RUNS raised so the
 * properties add up to the target, kills it (and fails) when it runs past the time limit, and prints the
 * number of cases, the duration and whether it passed. Not part of `npm test`.
 *
 * From another bench script:
 *
 *   import { runFuzzBench } from './fuzz.js';
 *   const { cases, seconds, passed } = await runFuzzBench();
 *
 * Settings (environment, or the options of runFuzzBench): FUZZ_BENCH_CASES (default 100000),
 * FUZZ_BENCH_TIMEOUT_MIN (default 15).
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const FUZZ_FILE = 'test/resilience/fuzz.test.ts';
const DEFAULT_CASES = 100_000;
const DEFAULT_TIMEOUT_MIN = 15;
/** After SIGTERM, how long vitest gets to stop its workers and the test PostgreSQL before SIGKILL. */
const KILL_GRACE_MS = 10_000;

export type FuzzBenchResult = { cases: number; seconds: number; passed: boolean };

export type FuzzBenchOptions = {
  /** At least this many cases in all (default FUZZ_BENCH_CASES or 100,000). */
  targetCases?: number;
  /** The whole run is killed, and fails, after this long (default FUZZ_BENCH_TIMEOUT_MIN or 15 minutes). */
  timeoutMs?: number;
  /** Where progress and vitest's own output go (default: stderr). */
  log?: (text: string) => void;
};

/**
 * How each property of the fuzz file scales with FUZZ_RUNS, in the order they appear: `numRuns: RUNS` is 1,
 * `numRuns: Math.ceil(RUNS / 4)` is 4. Anything else is refused, so that a new property with another
 * formula cannot silently make the count wrong.
 */
export function propertyDivisors(source: string): number[] {
  const asserts = source.match(/\bfc\.assert\(/g)?.length ?? 0;
  const divisors: number[] = [];
  for (const m of source.matchAll(/numRuns:\s*([^,}\n]+?)\s*[,}\n]/g)) {
    const expr = m[1]!.trim();
    const whole = /^RUNS$/.exec(expr);
    const part = /^Math\.ceil\(RUNS\s*\/\s*(\d+)\)$/.exec(expr);
    if (whole) divisors.push(1);
    else if (part) divisors.push(Number(part[1]));
    else throw new Error(`${FUZZ_FILE}: cannot count the cases of "numRuns: ${expr}" (expected RUNS or Math.ceil(RUNS / n))`);
  }
  if (divisors.length === 0 || divisors.length !== asserts) {
    throw new Error(`${FUZZ_FILE}: found ${asserts} fc.assert calls but ${divisors.length} numRuns settings; cannot count the cases`);
  }
  return divisors;
}

/** The cases each property runs for a FUZZ_RUNS value. */
export const casesPerProperty = (divisors: number[], runs: number): number[] => divisors.map((d) => Math.ceil(runs / d));

/** The smallest FUZZ_RUNS whose properties add up to at least `target` cases. */
export function runsFor(divisors: number[], target: number): { runs: number; cases: number } {
  const share = divisors.reduce((sum, d) => sum + 1 / d, 0);
  let runs = Math.max(1, Math.floor(target / share) - divisors.length);
  const total = (r: number) => casesPerProperty(divisors, r).reduce((a, b) => a + b, 0);
  while (total(runs) < target) runs++;
  return { runs, cases: total(runs) };
}

/**
 * The data folders of the PostgreSQL servers in a process group (the test global setup's, under
 * /tmp/roster-test-pg-*): vitest killed at the time limit skips its teardown, so the bench removes them.
 */
function postgresFoldersOf(pgid: number): string[] {
  const folders: string[] = [];
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      // /proc/<pid>/stat: "pid (comm) state ppid pgrp …"; comm may hold spaces, so read after the last ')'.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]) !== pgid) continue;
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      const data = argv[argv.indexOf('-D') + 1];
      if (argv.indexOf('-D') > 0 && data && /\/roster-test-pg-[^/]+\/pg$/.test(data)) folders.push(path.dirname(data));
    } catch {
      // the process ended meanwhile
    }
  }
  return [...new Set(folders)];
}

type AssertionResult = { title: string; fullName?: string; status: string; duration?: number | null; failureMessages?: string[] };
type JsonReport = {
  success?: boolean;
  numPassedTests?: number;
  numFailedTests?: number;
  testResults?: { assertionResults?: AssertionResult[]; message?: string }[];
};

/**
 * Runs the fuzz file with enough FUZZ_RUNS for the target. Resolves with the outcome: a run that fails,
 * crashes or passes the time limit resolves with `passed: false` (and `cases` counts only what ran). Rejects
 * only when the properties of the fuzz file cannot be counted.
 */
export async function runFuzzBench(options: FuzzBenchOptions = {}): Promise<FuzzBenchResult> {
  const log = options.log ?? ((text: string) => process.stderr.write(text));
  const say = (line: string) => log(`[fuzz] ${line}\n`);
  const target = options.targetCases ?? Number(process.env.FUZZ_BENCH_CASES ?? DEFAULT_CASES);
  const timeoutMs = options.timeoutMs ?? Number(process.env.FUZZ_BENCH_TIMEOUT_MIN ?? DEFAULT_TIMEOUT_MIN) * 60_000;

  const divisors = propertyDivisors(await readFile(path.join(root, FUZZ_FILE), 'utf8'));
  const { runs, cases: planned } = runsFor(divisors, target);
  const perProperty = casesPerProperty(divisors, runs);
  say(
    `${planned.toLocaleString('en')} cases: FUZZ_RUNS=${runs} over ${divisors.length} properties (${perProperty.join(' + ')}), limit ${timeoutMs / 60_000} min`,
  );

  const outDir = await mkdtemp(path.join(os.tmpdir(), 'roster-fuzz-bench-'));
  const jsonFile = path.join(outDir, 'report.json');
  const started = performance.now();
  let timedOut = false;
  let leftovers: string[] = [];
  const exitCode = await new Promise<number | null>((resolve) => {
    const child = spawn(
      process.execPath,
      [
        path.join(root, 'node_modules/vitest/vitest.mjs'),
        'run',
        FUZZ_FILE,
        '--reporter=verbose',
        '--reporter=json',
        `--outputFile.json=${jsonFile}`,
        // One property runs tens of thousands of cases: the per-test limit is the bench's own limit.
        `--testTimeout=${timeoutMs}`,
      ],
      // Its own process group, so that a timeout ends vitest, its workers and the test PostgreSQL together.
      { cwd: root, env: { ...process.env, FUZZ_RUNS: String(runs) }, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
    );
    child.stdout.on('data', (d: Buffer) => log(d.toString()));
    child.stderr.on('data', (d: Buffer) => log(d.toString()));
    const killGroup = (signal: NodeJS.Signals) => {
      try {
        process.kill(-child.pid!, signal);
      } catch {
        // already gone
      }
    };
    let hardKill: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      say(`still running after ${Math.round(timeoutMs / 1000)} s: stopping it`);
      leftovers = postgresFoldersOf(child.pid!);
      killGroup('SIGTERM');
      hardKill = setTimeout(() => killGroup('SIGKILL'), KILL_GRACE_MS);
    }, timeoutMs);
    // If this process ends or is interrupted, do not leave the run (and its PostgreSQL) behind: the child
    // has its own process group, so Ctrl-C does not reach it.
    const onExit = () => killGroup('SIGKILL');
    const onSignal = (signal: NodeJS.Signals) => {
      killGroup('SIGKILL');
      stopListening();
      process.kill(process.pid, signal);
    };
    const stopListening = () => {
      process.off('exit', onExit);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    };
    process.once('exit', onExit);
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    child.on('error', (err) => {
      say(`could not start vitest: ${err.message}`);
      clearTimeout(timer);
      stopListening();
      resolve(null);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (hardKill) clearTimeout(hardKill);
      // vitest exits on SIGTERM without its teardown: end whatever is left of the group (the test PostgreSQL).
      if (timedOut) killGroup('SIGKILL');
      stopListening();
      resolve(code);
    });
  });
  const seconds = Math.round((performance.now() - started) / 100) / 10;

  let report: JsonReport | undefined;
  try {
    report = JSON.parse(await readFile(jsonFile, 'utf8')) as JsonReport;
  } catch {
    // no report: vitest was killed or could not start
  }
  await rm(outDir, { recursive: true, force: true });
  if (leftovers.length) {
    await new Promise((r) => setTimeout(r, 500)); // let the killed postmaster go
    for (const folder of leftovers) await rm(folder, { recursive: true, force: true });
  }

  const results = report?.testResults?.flatMap((f) => f.assertionResults ?? []) ?? [];
  // Cases actually run: a passed property ran all of its cases; a failed one says after how many it failed.
  let cases = 0;
  results.forEach((r, i) => {
    if (r.status === 'passed') cases += perProperty[i] ?? 0;
    else {
      const after = /Property failed after (\d+) tests?/.exec((r.failureMessages ?? []).join('\n'));
      if (after) cases += Number(after[1]);
    }
  });
  const allPassed = results.length === divisors.length && results.every((r) => r.status === 'passed');
  const passed = !timedOut && exitCode === 0 && report?.success === true && allPassed;
  if (passed) cases = planned;

  for (const [i, r] of results.entries()) {
    const secs = (r.duration ?? 0) / 1000;
    const ran =
      r.status === 'passed'
        ? `${perProperty[i]} cases in ${secs.toFixed(1)} s (${secs ? Math.round(perProperty[i]! / secs) : 0}/s)`
        : `after ${secs.toFixed(1)} s`;
    say(`  ${r.status}: ${ran} — ${r.title}`);
    for (const message of r.failureMessages ?? []) {
      // fast-check's report: seed, path, counterexample and the error it shrank to.
      say(
        message
          .split('\n')
          .slice(0, 20)
          .map((l) => `      ${l}`)
          .join('\n'),
      );
    }
  }
  for (const f of report?.testResults ?? []) if (f.message) say(f.message.split('\n').slice(0, 20).join('\n'));
  if (timedOut) say(`killed at the ${timeoutMs / 60_000} min limit${leftovers.length ? ` (removed the test PostgreSQL folder ${leftovers.join(', ')})` : ''}`);
  else if (!report) say(`vitest ended with code ${exitCode} and no report`);
  say(`${cases.toLocaleString('en')} cases in ${seconds} s (${seconds ? Math.round(cases / seconds) : 0}/s): ${passed ? 'PASSED' : 'FAILED'}`);
  return { cases, seconds, passed };
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href;
if (isMain) {
  const result = await runFuzzBench();
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exitCode = result.passed ? 0 : 1;
}
