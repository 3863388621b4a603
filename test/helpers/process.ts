import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from './wait.js';

/** The project root: children run from here, as `npm start` and `npx roster` do. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * A clean environment for a child: nothing from the developer's shell or from vitest (no DATABASE_URL,
 * no SLACK_*, no LOG_LEVEL) except what a test passes explicitly.
 */
export function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = {};
  for (const key of ['PATH', 'HOME', 'TMPDIR', 'LANG']) if (process.env[key]) base[key] = process.env[key];
  return { ...base, NODE_ENV: 'test', ...extra };
}

/** A fresh folder for DATA_DIR under the OS temp folder (reachable by the postgres OS user). */
export async function tempDataDir(prefix = 'roster-e2e-'): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), prefix));
}

/** The pid of a live postmaster in DATA_DIR/pg, if any. */
export function livePostmaster(dataDir: string): number | undefined {
  let pid: number;
  try {
    pid = Number(readFileSync(path.join(dataDir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0]);
  } catch {
    return undefined;
  }
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM' ? pid : undefined;
  }
}

export type LogLine = { msg?: string; level?: number; port?: number; [key: string]: unknown };

/** A running `src/main.ts` (what `npm start` runs), with its output kept for assertions and failures. */
export class RosterServer {
  readonly child: ChildProcess;
  private out = '';
  private err = '';
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  readonly exited: Promise<void>;

  constructor(env: Record<string, string>) {
    this.child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: ROOT,
      env: childEnv(env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.on('data', (d: Buffer) => (this.out += d.toString('utf8')));
    this.child.stderr!.on('data', (d: Buffer) => (this.err += d.toString('utf8')));
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve();
      });
    });
  }

  /** JSON log lines written so far (non-JSON lines are skipped; they are still in output()). */
  logs(): LogLine[] {
    return this.out
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .flatMap((l) => {
        try {
          return [JSON.parse(l) as LogLine];
        } catch {
          return [];
        }
      });
  }

  output(): string {
    const status = this.exit ? `exited: code ${this.exit.code}, signal ${this.exit.signal}` : 'still running';
    return `--- roster server (${status}) stdout ---\n${this.out.slice(-6000)}\n--- stderr ---\n${this.err.slice(-6000)}`;
  }

  async waitForLog(match: (l: LogLine) => boolean, what: string, timeoutMs = 45_000): Promise<LogLine> {
    return waitFor(
      () => {
        if (this.exit) throw new Error(`The server exited while waiting for ${what}.\n${this.output()}`);
        return this.logs().find(match);
      },
      what,
      { describe: () => this.output(), timeoutMs, intervalMs: 100 },
    );
  }

  /** Waits for the "listening" line and returns the port it names. */
  async listening(): Promise<number> {
    const line = await this.waitForLog((l) => /listening on port/.test(l.msg ?? ''), 'the "listening on port" log line');
    if (typeof line.port !== 'number') throw new Error(`The listening line has no port field.\n${this.output()}`);
    return line.port;
  }

  async get(port: number, urlPath: string): Promise<{ status: number; body: unknown }> {
    const res = await fetch(`http://127.0.0.1:${port}${urlPath}`, { signal: AbortSignal.timeout(10_000) });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return { status: res.status, body };
  }

  /** Sends the signal and waits for the process to exit; SIGKILL if it does not within the timeout. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 30_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (!this.exit) {
      this.child.kill(signal);
      const timedOut = await Promise.race([this.exited.then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), timeoutMs).unref())]);
      if (timedOut) {
        this.child.kill('SIGKILL');
        await this.exited;
        throw new Error(`The server did not exit within ${timeoutMs} ms of ${signal}.\n${this.output()}`);
      }
    }
    return this.exit!;
  }

  /** For afterEach/afterAll: never throws, never leaves the child running. */
  async kill(): Promise<void> {
    if (this.exit) return;
    await this.stop('SIGTERM', 15_000).catch(() => {});
  }
}

export type CliResult = { code: number | null; stdout: string; stderr: string };

/** Runs `node bin/roster.js …` (what `npx roster` runs) to completion, killing it after the timeout. */
export function runCliProcess(args: string[], env: Record<string, string>, timeoutMs = 45_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/roster.js', ...args], { cwd: ROOT, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`roster ${args.join(' ')} did not finish within ${timeoutMs} ms.\nstdout:\n${stdout}\nstderr:\n${stderr}`));
    }, timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Describes a CLI result for failure messages. */
export function show(r: CliResult): string {
  return `exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
}

/**
 * Removes a temp DATA_DIR. A postmaster still running there (a failed test) is stopped first: it was
 * started by this test's children, so it is ours to end.
 */
export async function removeDataDir(dataDir: string): Promise<void> {
  const pid = livePostmaster(dataDir);
  if (pid !== undefined) {
    try {
      process.kill(pid, 'SIGINT');
    } catch {
      // gone meanwhile
    }
    await waitFor(() => livePostmaster(dataDir) === undefined, 'the leftover postmaster to stop', { timeoutMs: 15_000, intervalMs: 100 }).catch(() => {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    });
  }
  await rm(dataDir, { recursive: true, force: true });
}

/** The CLI run in this process (the run() bin/roster.js calls): quicker than a process, for refusals. */
export async function runCliHere(argv: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  const { run } = await import('../../src/cli/roster.js');
  const stdout: string[] = [];
  const stderr: string[] = [];
  const code = await run(argv, { print: (s) => stdout.push(s), error: (s) => stderr.push(s) }, env);
  return { code, stdout: stdout.join('\n'), stderr: stderr.join('\n') };
}
