import pg from 'pg';
import { PgDialect, PgTransaction } from 'drizzle-orm/pg-core';
import type { SQLWrapper } from 'drizzle-orm';
import { withPreparedName } from './auto-prepare.js';

/**
 * Fewer round trips per transaction, with node-postgres's pipeline mode (`pipeline: true` on the pool):
 * a transaction's BEGIN is not sent on its own but with its first statement, and writes whose answer
 * nobody reads (the audit events, the outbox's notifications) travel with the statement after them, or
 * with the COMMIT. Statements sent together go out in one socket write and run in the order written.
 * With statements sent together (corked per tick), a SCIM create is 4 round trips instead of 8 and a
 * PATCH 3 instead of 6 (bench/RESULTS.md, 2026-12-04).
 *
 * Only the domain's drizzle transactions hold statements (connect() in client.ts); the pool's clients
 * are all in pipeline mode, so nothing on it may use cursors, query streams or the `rows` option.
 */

type Statement = { text: string; values: unknown[] };

const EMPTY = (command: string): pg.QueryResult => ({ command, rowCount: null, oid: 0, rows: [], fields: [] });
const BEGIN = /^\s*begin\b/i;
const COMMIT = /^\s*commit\s*$/i;
const ROLLBACK = /^\s*rollback\s*$/i;
const ROLLBACK_TO_SAVEPOINT = /^\s*rollback\s+to\s+savepoint\b/i;
/** What PostgreSQL answers for a statement after a failed one in the same transaction. */
const ABORTED = '25P02';
/** A prepared statement this connection believes in is gone (its Parse was refused): the connection is not reused. */
const NO_SUCH_STATEMENT = '26000';

/** A pooled client as a drizzle transaction sees it: it holds BEGIN and deferred writes until the next statement. */
export class TransactionClient {
  private held: Statement[] = [];
  /** BEGIN is held, so nothing of the transaction has reached the server yet. */
  private nothingSent = false;
  private corked = false;
  /** The first error the server gave in this transaction: statements sent with or after it only say "aborted". */
  private firstError: unknown;
  /** A prepared statement of this connection can no longer be trusted: the connection is closed, not reused. */
  private broken = false;

  constructor(private readonly client: pg.PoolClient) {}

  query(config: string | pg.QueryConfig, values?: unknown[]): Promise<pg.QueryResult> {
    const text = typeof config === 'string' ? config : config.text;
    if (BEGIN.test(text) && !this.held.length) {
      this.held.push({ text, values: [] });
      this.nothingSent = true;
      return Promise.resolve(EMPTY('BEGIN'));
    }
    const nothingSent = this.nothingSent;
    this.nothingSent = false;
    if (ROLLBACK.test(text)) {
      // Held writes are simply not sent; a transaction that never reached the server has nothing to undo.
      this.held = [];
      if (nothingSent) return Promise.resolve(EMPTY('ROLLBACK'));
    } else if (COMMIT.test(text) && nothingSent && this.held.length === 1) {
      this.held = [];
      return Promise.resolve(EMPTY('COMMIT'));
    }
    return this.send(config, values);
  }

  /** Holds a write to go out with the next statement (see writeWithNext). */
  hold(statement: Statement): void {
    this.held.push(statement);
  }

  /**
   * Statements sent in the same tick (one after another without waiting, or from the continuations of
   * one answer) leave in one socket write: the socket is corked until the current microtasks have run.
   */
  private corkForThisTick() {
    if (this.corked) return;
    const stream = (this.client as unknown as { connection?: { stream?: { cork?: () => void; uncork?: () => void } } }).connection?.stream;
    if (!stream?.cork || !stream.uncork) return;
    this.corked = true;
    stream.cork();
    process.nextTick(() => {
      this.corked = false;
      stream.uncork!();
    });
  }

  release(err?: Error | boolean): void {
    this.held = [];
    this.nothingSent = false;
    this.client.release(err || this.broken);
  }

  /** One statement, its failure reported as the transaction's first (the cause). */
  private run(config: string | pg.QueryConfig, values?: unknown[]): Promise<pg.QueryResult> {
    return this.client.query(withPreparedName(config), values).catch((err: unknown) => {
      throw this.causeOf(err);
    });
  }

  private causeOf(err: unknown): unknown {
    const { code, message } = (err ?? {}) as { code?: string; message?: string };
    if (code === NO_SUCH_STATEMENT || (code === '0A000' && /cached plan/.test(message ?? ''))) this.broken = true;
    if (this.firstError === undefined) {
      this.firstError = err;
      return err;
    }
    return code === ABORTED || code === NO_SUCH_STATEMENT ? this.firstError : err;
  }

  /**
   * The held statements, then this one, written to the socket at once (pipeline mode gives each its own
   * answer). If a held one fails, this one fails with that error, the cause (inside a transaction the
   * ones after it only say the transaction is aborted).
   */
  private async send(config: string | pg.QueryConfig, values?: unknown[]): Promise<pg.QueryResult> {
    const held = this.held;
    this.held = [];
    this.corkForThisTick();
    const text = typeof config === 'string' ? config : config.text;
    const sent: Promise<pg.QueryResult>[] = [];
    for (const h of held) sent.push(this.run(h.text, h.values));
    sent.push(this.run(config, values));
    const settled = await Promise.allSettled(sent);
    const failed = settled.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    const result = (settled.at(-1) as PromiseFulfilledResult<pg.QueryResult>).value;
    // The server answers COMMIT of a failed transaction with ROLLBACK, not an error: never report it committed.
    if (COMMIT.test(text) && result.command === 'ROLLBACK')
      throw this.firstError ?? new Error('The transaction was rolled back by the server: a statement in it had failed.');
    if (ROLLBACK_TO_SAVEPOINT.test(text)) this.firstError = undefined;
    return result;
  }
}

/**
 * The pool as drizzle should see it: queries outside a transaction go to the pool as they are; a
 * transaction's client is a TransactionClient. (An object whose prototype is the pool, so drizzle still
 * recognises a pool.)
 */
export function pipelinedPool(pool: pg.Pool): pg.Pool {
  const facade = Object.create(pool) as pg.Pool;
  Object.assign(facade, {
    // Statements outside transactions are not auto-prepared: their texts include clients' SCIM filter
    // shapes, which must not use up the prepared-statement slots (the IdPs' lookups are prepared explicitly).
    query: pool.query.bind(pool),
    connect: async () => new TransactionClient(await pool.connect()),
  });
  return facade;
}

const dialect = new PgDialect();

/**
 * Writes `query` in the transaction `tx` without waiting for its answer: it goes out with the
 * transaction's next statement, or with its COMMIT, one round trip fewer. If the database refuses it,
 * that statement fails with its error and the transaction rolls back, as if it had run at once; so use
 * it only for writes nothing reads the answer of. On the bare database handle it is written now.
 */
export async function writeWithNext(tx: unknown, query: SQLWrapper): Promise<void> {
  if (!(tx instanceof PgTransaction)) {
    await (tx as { execute: (q: SQLWrapper) => Promise<unknown> }).execute(query);
    return;
  }
  // drizzle keeps the transaction's client on its session (private in its types).
  const client = (tx as unknown as { session?: { client?: unknown } }).session?.client;
  if (!(client instanceof TransactionClient)) throw new Error('writeWithNext: this transaction was not opened on the pipelined pool (db/client.ts)');
  const { sql, params } = dialect.sqlToQuery(query.getSQL());
  client.hold({ text: sql, values: params });
}
