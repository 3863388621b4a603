import net from 'node:net';
import pg from 'pg';
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '../../src/db/client.js';
import { writeWithNext } from '../../src/db/pipeline.js';
import { freshDatabase } from '../helpers/db.js';

let db: Awaited<ReturnType<typeof freshDatabase>>;

beforeAll(async () => {
  db = await freshDatabase(2);
  await db.pool.query(`create table t (id int primary key, v text check (v <> 'refused'))`);
});
afterAll(() => db.close());

/** Socket writes made while `run` runs: each is one trip to the server and back. */
async function writesDuring<T>(run: () => Promise<T>): Promise<{ writes: number; result: T }> {
  const proto = net.Socket.prototype as unknown as Record<'_write' | '_writev', (...a: unknown[]) => unknown>;
  const original = { _write: proto._write, _writev: proto._writev };
  let writes = 0;
  for (const m of ['_write', '_writev'] as const)
    proto[m] = function (this: unknown, ...a: unknown[]) {
      writes++;
      return original[m].apply(this, a);
    };
  try {
    const result = await run();
    return { writes, result };
  } finally {
    Object.assign(proto, original);
  }
}

const rows = async () => (await db.pool.query(`select id, v from t order by id`)).rows;

describe('transactions in fewer round trips', () => {
  it("a transaction's BEGIN goes with its first statement, and a write nobody reads goes with its COMMIT", async () => {
    await db.pool.query('truncate t');
    await db.db.execute(sql`select 1`); // a connection ready, so its opening is not counted
    const { writes, result } = await writesDuring(() =>
      db.db.transaction(async (tx) => {
        await writeWithNext(tx, sql`insert into t values (1, 'held')`);
        const seen = await tx.execute(sql`select count(*)::int as n from t`);
        await writeWithNext(tx, sql`insert into t values (2, 'with the commit')`);
        return seen.rows[0];
      }),
    );
    // [BEGIN, insert 1, select] then [insert 2, COMMIT]; the select saw the held insert before it.
    expect(writes).toBe(2);
    expect(result).toEqual({ n: 1 });
    expect(await rows()).toEqual([
      { id: 1, v: 'held' },
      { id: 2, v: 'with the commit' },
    ]);
  });

  it('a held write the database refuses fails the statement it travels with, with its own error, and nothing is written', async () => {
    await db.pool.query('truncate t');
    const attempt = db.db.transaction(async (tx) => {
      await tx.execute(sql`insert into t values (1, 'first')`);
      await writeWithNext(tx, sql`insert into t values (2, 'refused')`);
      await tx.execute(sql`select 1`);
    });
    await expect(attempt).rejects.toMatchObject({ cause: { code: '23514' } });
    expect(await rows()).toEqual([]);
  });

  it('a refused write held for the COMMIT fails the transaction instead of committing it', async () => {
    await db.pool.query('truncate t');
    const attempt = db.db.transaction(async (tx) => {
      await tx.execute(sql`insert into t values (1, 'first')`);
      await writeWithNext(tx, sql`insert into t values (2, 'refused')`);
    });
    await expect(attempt).rejects.toMatchObject({ cause: { code: '23514' } });
    expect(await rows()).toEqual([]);
  });

  it('statements sent together each report the first failure, the cause, not "the transaction is aborted"', async () => {
    await db.pool.query('truncate t');
    let after: unknown;
    const attempt = db.db.transaction(async (tx) => {
      await tx.execute(sql`select 1`);
      // Both sent at once, in this order (.execute() sends now).
      const refused = tx.execute(sql`insert into t values (1, 'refused')`).execute();
      const next = tx
        .execute(sql`select count(*) from t`)
        .execute()
        .catch((err: unknown) => (after = err));
      await Promise.all([refused, next]);
    });
    await expect(attempt).rejects.toMatchObject({ cause: { code: '23514' } });
    expect(after).toMatchObject({ cause: { code: '23514' } });
  });

  it('a COMMIT the server answers with ROLLBACK (a failure was caught and ignored) fails the transaction', async () => {
    await db.pool.query('truncate t');
    const attempt = db.db.transaction(async (tx) => {
      await tx.execute(sql`insert into t values (1, 'looks written')`);
      await tx.execute(sql`insert into t values (2, 'refused')`).catch(() => {});
    });
    await expect(attempt).rejects.toMatchObject({ cause: { code: '23514' } });
    expect(await rows()).toEqual([]);
  });

  it('a transaction that throws drops what it held, and one that ran nothing sends nothing', async () => {
    await db.pool.query('truncate t');
    await db.db.execute(sql`select 1`);
    const { writes } = await writesDuring(async () => {
      await expect(
        db.db.transaction(async (tx) => {
          await writeWithNext(tx, sql`insert into t values (1, 'never sent')`);
          throw new Error('changed my mind');
        }),
      ).rejects.toThrow('changed my mind');
      await db.db.transaction(async () => {});
    });
    expect(writes).toBe(0);
    expect(await rows()).toEqual([]);
  });

  it('a transaction of held writes only is one round trip, and they are written', async () => {
    await db.pool.query('truncate t');
    await db.db.execute(sql`select 1`);
    const { writes } = await writesDuring(() =>
      db.db.transaction(async (tx) => {
        await writeWithNext(tx, sql`insert into t values (1, 'a')`);
        await writeWithNext(tx, sql`insert into t values (2, 'b')`);
      }),
    );
    expect(writes).toBe(1);
    expect(await rows()).toHaveLength(2);
  });

  it('a held write before a savepoint that rolls back stays, and the transaction goes on', async () => {
    await db.pool.query('truncate t');
    await db.db.transaction(async (tx) => {
      await writeWithNext(tx, sql`insert into t values (1, 'before the savepoint')`);
      await expect(
        tx.transaction(async (sp) => {
          await sp.execute(sql`insert into t values (2, 'undone')`);
          throw new Error('undo the savepoint');
        }),
      ).rejects.toThrow('undo the savepoint');
    });
    expect(await rows()).toEqual([{ id: 1, v: 'before the savepoint' }]);
  });

  it('on the bare database handle a write is made at once', async () => {
    await db.pool.query('truncate t');
    await writeWithNext(db.db, sql`insert into t values (1, 'now')`);
    expect(await rows()).toEqual([{ id: 1, v: 'now' }]);
  });

  it('a transaction opened on a plain pool is refused, not silently unbatched', async () => {
    const plain = new pg.Pool({ connectionString: db.url, max: 1 });
    try {
      await expect(drizzle(plain).transaction((tx) => writeWithNext(tx, sql`insert into t values (9, 'x')`))).rejects.toThrow(/pipelined pool/);
    } finally {
      await plain.end();
    }
  });

  it('a statement a transaction runs again and again becomes a prepared statement of its connection; one outside does not', async () => {
    const one = connect(db.url, 1); // one connection: both kinds of statement run on it
    try {
      for (let i = 0; i < 4; i++) await one.db.execute(sql`select count(*) from t where id < ${i}`);
      const named = await one.db.transaction(async (tx) => {
        for (let i = 0; i < 4; i++) await tx.execute(sql`select count(*) from t where id > ${i}`);
        return tx.execute(sql`select name, statement from pg_prepared_statements`);
      });
      expect(named.rows).toContainEqual({ name: expect.stringMatching(/^roster_auto_\d+$/), statement: 'select count(*) from t where id > $1' });
      expect(named.rows.map((r) => r.statement)).not.toContain('select count(*) from t where id < $1');
    } finally {
      await one.close();
    }
  });
});
