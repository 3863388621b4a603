import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { connect, type Database } from '../../src/db/client.js';
import { waitFor } from './wait.js';

let cloneLock: Promise<unknown> = Promise.resolve();

/** A fresh database cloned from the migrated template: real PostgreSQL, isolated per call. */
export async function freshDatabase(poolSize = 10): Promise<Database & { url: string; name: string }> {
  const adminUrl = inject('pgAdminUrl');
  const name = `t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    // Cloning needs the template free of other sessions; retry briefly if another worker is cloning.
    const run = cloneLock.then(() => cloneWithRetry(admin, name));
    cloneLock = run.catch(() => {});
    await run;
  } finally {
    await admin.end();
  }
  const url = adminUrl.replace(/\/[^/]*$/, `/${name}`);
  const database = connect(url, poolSize);
  return { ...database, url, name };
}

async function cloneWithRetry(admin: pg.Client, name: string): Promise<void> {
  const tpl = inject('pgTemplateDb');
  for (let attempt = 0; ; attempt++) {
    try {
      await admin.query(`create database ${name} template ${tpl} strategy file_copy`);
      return;
    } catch (err) {
      if (attempt > 50 || !/being accessed by other users/.test(String((err as Error).message))) throw err;
      await new Promise((r) => setTimeout(r, 50 + Math.random() * 100));
    }
  }
}

/**
 * Makes concurrent calls really overlap: holds an exclusive lock on `table` (reads still pass) until
 * `waiters` sessions of this database are blocked on a lock, then lets them all go at once.
 */
export async function releasedTogether<T>(db: Database, table: string, waiters: number, run: () => Promise<T>[]): Promise<PromiseSettledResult<T>[]> {
  const client = await db.pool.connect();
  try {
    await client.query('begin');
    await client.query(`lock table ${table} in exclusive mode`);
    const all = Promise.allSettled(run());
    await waitFor(
      async () => {
        // pg_stat_activity is read once per transaction unless the snapshot is cleared.
        await client.query('select pg_stat_clear_snapshot()');
        const r = await client.query<{ n: number }>(
          `select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`,
        );
        return r.rows[0]!.n >= waiters;
      },
      `${waiters} sessions waiting for the lock on ${table}`,
      { intervalMs: 10 },
    );
    await client.query('commit');
    return await all;
  } finally {
    client.release();
  }
}
