import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { connect, type Database } from './client.js';
import { startEmbeddedPostgres } from './embedded.js';
import { runMigrations } from './migrate.js';

export type OpenDatabase = Database & {
  /** Where the data lives, for logs: "embedded PostgreSQL in .data/pg" or the server's host. */
  description: string;
  /** Closes the pool and stops the embedded server if this process started it. */
  shutdown: () => Promise<void>;
};

/**
 * DATABASE_URL when set; otherwise the embedded PostgreSQL in DATA_DIR (started here, or joined if
 * another Roster process on this machine already runs it). Migrations are applied either way.
 */
export async function openDatabase(config: Config, log: Logger, opts: { poolSize?: number } = {}): Promise<OpenDatabase> {
  const poolSize = opts.poolSize ?? config.databasePoolSize;
  if (config.databaseUrl) {
    const database = connect(config.databaseUrl, poolSize);
    await runMigrations(database.pool);
    return { ...database, description: `PostgreSQL at ${safeHost(config.databaseUrl)}`, shutdown: () => database.close() };
  }
  const embedded = await startEmbeddedPostgres({
    dataDir: config.dataDir,
    onLog: (line) => line && log.debug({ pg: line }, 'postgres'),
  });
  await ensureDatabase(embedded.url('postgres'));
  const database = connect(embedded.url('roster'), poolSize);
  await runMigrations(database.pool);
  return {
    ...database,
    description: `embedded PostgreSQL in ${config.dataDir}/pg (${embedded.startedHere ? 'started here' : 'already running'})`,
    shutdown: async () => {
      await database.close();
      await embedded.stop();
    },
  };
}

async function ensureDatabase(adminUrl: string): Promise<void> {
  const admin = connect(adminUrl, 1);
  try {
    const r = await admin.pool.query(`select 1 from pg_database where datname = 'roster'`);
    if (!r.rowCount) await admin.pool.query('create database roster').catch((err) => {
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
