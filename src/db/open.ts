import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { connect, type Database } from './client.js';
import { runningPostmasterPort, startEmbeddedPostgres, type EmbeddedDatabase } from './embedded.js';
import path from 'node:path';
import { runMigrations } from './migrate.js';

type OpenDatabase = Database & {
  /** Where the data lives, for logs: "embedded PostgreSQL in .data/pg" or the server's host. */
  description: string;
  /** Closes the pool and stops the embedded server if this process started it. */
  shutdown: () => Promise<void>;
};

/**
 * DATABASE_URL when set; otherwise the embedded PostgreSQL in DATA_DIR (started here, or joined if
 * another Roster process on this machine already runs it). Migrations are applied either way.
 */
type OpenOptions = {
  poolSize?: number;
  /**
   * A long-running process (the server) watches the embedded PostgreSQL and starts it again if its
   * postmaster dies; if that keeps failing, onFatal is called with the reason (main.ts exits).
   */
  supervise?: { onFatal: (message: string) => void };
};

export async function openDatabase(config: Config, log: Logger, opts: OpenOptions = {}): Promise<OpenDatabase> {
  const poolSize = opts.poolSize ?? config.databasePoolSize;
  if (config.databaseUrl) {
    const database = connect(config.databaseUrl, poolSize);
    await runMigrations(database.pool);
    return { ...database, description: `PostgreSQL at ${safeHost(config.databaseUrl)}`, shutdown: () => database.close() };
  }
  const onLog = (line: string) => line && log.debug({ pg: line }, 'postgres');
  let embedded = await startEmbeddedPostgres({ dataDir: config.dataDir, onLog });
  await ensureDatabase(embedded.url('postgres'));
  const database = connect(embedded.url('roster'), poolSize);
  await runMigrations(database.pool);
  const supervisor = opts.supervise
    ? superviseEmbedded(config.dataDir, embedded.port, log, opts.supervise.onFatal, onLog, (restarted) => (embedded = restarted))
    : undefined;
  return {
    ...database,
    description: `embedded PostgreSQL in ${config.dataDir}/pg (${embedded.startedHere ? 'started here' : 'already running'})`,
    shutdown: async () => {
      await supervisor?.stop();
      await database.close();
      await embedded.stop();
    },
  };
}

const WATCH_EVERY_MS = 2_000;
/** How long restarts may keep failing before the process gives up (exits, in main.ts). */
const GIVE_UP_AFTER_MS = 20_000;

/**
 * Restarts the embedded PostgreSQL on its port when its postmaster is gone (killed, crashed, OOM): the
 * pool and LISTEN connections then reconnect by themselves. Whichever Roster process of the folder
 * notices first starts it; the others find it running (startEmbeddedPostgres joins a running one).
 */
function superviseEmbedded(
  dataDir: string,
  port: number,
  log: Logger,
  onFatal: (message: string) => void,
  onLog: (line: string) => void,
  restarted: (db: EmbeddedDatabase) => void,
) {
  const dir = path.resolve(dataDir, 'pg');
  let stopped = false;
  let downSince: number | undefined;
  let attempt: Promise<void> | undefined;
  const check = async () => {
    if (runningPostmasterPort(dir) !== undefined) {
      downSince = undefined;
      return;
    }
    if (downSince === undefined) log.error({ dataDir: dir }, 'The embedded PostgreSQL stopped unexpectedly; starting it again');
    const since = (downSince ??= Date.now());
    try {
      restarted(await startEmbeddedPostgres({ dataDir, port, onLog }));
      if (stopped) return;
      log.warn({ downForSeconds: Math.round((Date.now() - since) / 1000) }, 'The embedded PostgreSQL is running again');
      downSince = undefined;
    } catch (err) {
      if (Date.now() - since < GIVE_UP_AFTER_MS) return;
      stopped = true;
      clearInterval(timer);
      onFatal(
        `The embedded PostgreSQL in ${dir} stopped and could not be started again for ${GIVE_UP_AFTER_MS / 1000} s` +
          ` (${err instanceof Error ? err.message : String(err)}). Roster is exiting; check the folder and port ${port}, or set DATABASE_URL.`,
      );
    }
  };
  const timer = setInterval(() => {
    if (stopped || attempt) return;
    attempt = check().finally(() => (attempt = undefined));
  }, WATCH_EVERY_MS);
  timer.unref();
  return {
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      await attempt;
    },
  };
}

async function ensureDatabase(adminUrl: string): Promise<void> {
  const admin = connect(adminUrl, 1);
  try {
    const r = await admin.pool.query(`select 1 from pg_database where datname = 'roster'`);
    if (!r.rowCount)
      await admin.pool.query('create database roster').catch((err) => {
        if (err?.code !== '42P04') throw err; // created meanwhile by another process
      });
  } finally {
    await admin.close();
  }
}

function safeHost(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}${u.port ? `:${u.port}` : ''}${u.pathname}`;
  } catch {
    return '(DATABASE_URL)';
  }
}
