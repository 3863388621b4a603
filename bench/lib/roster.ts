import { execSync, spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { healthStatus, waitFor } from '../../test/helpers/wait.js';

/** The project root: Roster and helper scripts run from here. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** The APP_SECRET of every Roster a bench starts (and of benchDomain, so invite tokens agree). */
export const APP_SECRET = 'b'.repeat(40);

/** Every child a bench started, so that a failed run can end them all. */
const children = new Set<ChildProcess>();

/** Builds dist/ (`npm run build`): the benches measure Roster as `npm start` runs it. MAIN=<dist/main.js> skips it. */
export function buildRoster(): void {
  // MAIN names a build made elsewhere (an A/B against another commit's worktree): nothing to build here.
  if (process.env.MAIN) return;
  execSync('npm run build', { cwd: ROOT, stdio: 'ignore' });
}

/** A node child with a clean environment (PATH and HOME, then `env`), from the project root. */
export function spawnNode(argv: string[], env: Record<string, string>, stdio: StdioOptions = ['ignore', 'pipe', 'pipe']): ChildProcess {
  const child = spawn(process.execPath, argv, { cwd: ROOT, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env }, stdio });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

export type RosterOptions = {
  /** The built entry point (default dist/main.js; bench/slack-ack.ts compares builds). */
  main?: string;
  /** Node flags before it (--cpu-prof, --import a probe). */
  nodeArgs?: string[];
  role?: 'all' | 'web' | 'worker';
  poolSize?: number;
  /** More settings, or overrides (SLACK_*, OUTBOX_DIR, SCIM_RATE_LIMIT). */
  env?: Record<string, string>;
  stdio?: StdioOptions;
};

/**
 * The settings every bench runs Roster with: loopback, warnings only, the shared APP_SECRET, and SCIM
 * rate limits off (load from one client on one token would measure the limit, not Roster: README).
 */
export function rosterEnv(port: number, databaseUrl: string | undefined, opts: RosterOptions = {}): Record<string, string> {
  return {
    PORT: String(port),
    HOST: '127.0.0.1',
    ...(databaseUrl ? { DATABASE_URL: databaseUrl, DATABASE_POOL_SIZE: String(opts.poolSize ?? 20) } : {}),
    LOG_LEVEL: 'warn',
    APP_SECRET,
    ROSTER_ROLE: opts.role ?? 'web',
    SCIM_RATE_LIMIT: '0',
    API_RATE_LIMIT: '0',
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    ...opts.env,
  };
}

/** Spawns the built Roster on the port, on the database (or, without one, the embedded PostgreSQL in env.DATA_DIR). */
export function spawnRoster(port: number, databaseUrl: string | undefined, opts: RosterOptions = {}): ChildProcess {
  return spawnNode([...(opts.nodeArgs ?? []), opts.main ?? process.env.MAIN ?? 'dist/main.js'], rosterEnv(port, databaseUrl, opts), opts.stdio);
}

/** Waits until /healthz on the port answers 200; returns how long that took (ms). Fails with `output()` if it does not. */
export async function waitForHealth(port: number, opts: { timeoutMs?: number; output?: () => string } = {}): Promise<number> {
  const t0 = performance.now();
  await waitFor(async () => (await healthStatus(port)) === 200, `/healthz on port ${port}`, { timeoutMs: opts.timeoutMs ?? 60_000, describe: opts.output });
  return performance.now() - t0;
}

/** Resolves at the child's first line on stdout (the helper scripts print `ready` once listening). */
export function ready(child: ChildProcess): Promise<unknown> {
  return new Promise((r) => child.stdout?.once('data', r));
}

/** Sends the signal and waits for the child to exit; SIGKILL after `graceMs`. */
export async function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const done = new Promise((r) => child.once('exit', r));
  child.kill(signal);
  await Promise.race([done, new Promise((r) => setTimeout(r, graceMs))]);
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGKILL');
    await done;
  }
}

/** Stops every child still running (in a `finally`). */
export async function stopChildren(): Promise<void> {
  for (const c of [...children]) await stopChild(c);
}

/** Kills every child at once (a failed or overdue run). */
export function killChildren(): void {
  for (const c of children) c.kill('SIGKILL');
}

/** CPU seconds the process has used so far (user + system), from /proc. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

/** The process's CPU seconds in the kernel (system calls: socket reads and writes, mostly). */
export function systemCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[12]) / 100;
}

/** CPU seconds of a process tree: the process, its living children, and the children it has reaped. */
export function treeCpuSeconds(pid: number): number {
  const fields = (p: number | string) => {
    const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  };
  const own = fields(pid);
  let ticks = Number(own[11]) + Number(own[12]) + Number(own[13]) + Number(own[14]);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const f = fields(entry);
      if (Number(f[1]) === pid) ticks += Number(f[11]) + Number(f[12]);
    } catch {
      // gone meanwhile
    }
  }
  return ticks / 100;
}

/** CPU seconds the whole machine has been busy (every core, every process). */
export function machineBusySeconds(): number {
  const [, ...f] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
  const [user, nice, system, , , irq, softirq, steal] = f.map(Number);
  return (user! + nice! + system! + irq! + softirq! + steal!) / 100;
}

/** The process's resident memory in MB (0 if it is gone). */
export function rssMb(pid: number): number {
  let status = '';
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    // gone
  }
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}
