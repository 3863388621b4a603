import pg from 'pg';
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { pipelinedPool } from './pipeline.js';

/** No relational schema: nothing uses db.query, and a schema makes drizzle build a query helper per table for every transaction. */
export type Db = NodePgDatabase;
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
/** Anything queries can run on: the pool-backed database or an open transaction. */
export type Executor = Db | Tx;

export type Database = { db: Db; pool: pg.Pool; close: () => Promise<void> };

export function connect(url: string, poolSize = 10): Database {
  // Pipeline mode: a transaction's statements can go out together (pipeline.ts); one at a time, nothing changes.
  const pool = new pg.Pool({ connectionString: url, max: poolSize, connectionTimeoutMillis: 5_000, pipeline: true });
  // A client losing its server must not crash the process: the pool reports idle clients' errors,
  // and a checked-out client (e.g. mid-transaction) emits its own, which the next query then reports.
  pool.on('error', () => {});
  pool.on('connect', (client) => {
    client.on('error', () => {});
  });
  const db = drizzle(pipelinedPool(pool));
  return { db, pool, close: () => pool.end() };
}

export async function ping(pool: pg.Pool): Promise<boolean> {
  try {
    await pool.query('select 1');
    return true;
  } catch {
    return false;
  }
}
