import { describe, expect, it } from 'vitest';
import { connect, ping } from '../../src/db/client.js';
import { freshDatabase } from '../helpers/db.js';

describe('database pool', () => {
  it('a connection cut off in the middle of a transaction fails that transaction, not the process', async () => {
    const db = await freshDatabase(2);
    const other = connect(db.url, 1);
    try {
      const client = await db.pool.connect();
      await client.query('begin');
      const { rows } = await client.query('select pg_backend_pid() as pid');
      // The server ends this session while the client sits checked out between two statements.
      const ended = new Promise((r) => client.once('end', r));
      await other.pool.query('select pg_terminate_backend($1)', [rows[0].pid]);
      await ended;
      await expect(client.query('select 1')).rejects.toThrow();
      client.release(true);
      // The pool carries on with fresh connections.
      expect(await ping(db.pool)).toBe(true);
    } finally {
      await other.close();
      await db.close();
    }
  });
});
