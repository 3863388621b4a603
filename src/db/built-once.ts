import { getTableColumns, Param, Placeholder, SQL, sql, type Column, type Table } from 'drizzle-orm';
import type { QueryResult } from 'pg';
import type { PgDialect } from 'drizzle-orm/pg-core';
import type { Executor } from './client.js';

/**
 * Statements drizzle builds once and the write path runs many times. Building a query is drizzle's
 * largest cost on a SCIM write (~35 µs a select, ~60 µs an insert with RETURNING on this VM: type checks
 * of every chunk, column lists, parameter lists), paid again for every statement of every request
 * although only the values change. A statement written with `slot`s in place of its values is built the
 * first time it runs; later runs fill in the values and go straight to the driver, with drizzle's own
 * result mapping (the rows are what the built query would have answered). Inside a transaction they are
 * sent at once, like `.execute()`, so statements issued together still travel together (pipeline.ts).
 *
 * Every value must be a slot: a constant in the builder would be baked into the first build, so a
 * statement with a parameter that is not a slot is refused when first built (write constants in SQL).
 */

/**
 * A value filled in at each run. Give the column when drizzle would convert the value for it (jsonb,
 * timestamps, a custom type): the column's own conversion is applied, as drizzle applies it to a value.
 */
export function slot(name: string): Placeholder;
export function slot(name: string, column: Column): SQL;
export function slot(name: string, column?: Column): SQL | Placeholder {
  return column ? sql`${new Param(new Placeholder(name), column)}` : new Placeholder(name);
}

/** A slot per column named, each with its column's conversion and named as the column's key: for `.set()` and `.values()`. */
export function slotsFor<T extends Table, K extends keyof T['_']['columns'] & string>(table: T, keys: readonly K[]): Record<K, SQL> {
  const columns = getTableColumns(table) as Record<string, Column>;
  return Object.fromEntries(keys.map((k) => [k, slot(k, columns[k]!)])) as Record<K, SQL>;
}

type Prepared = {
  queryString: string;
  params: unknown[];
  fields?: unknown;
  _isResponseInArrayMode: boolean;
  customResultMapper?: unknown;
  joinsNotNullableMap?: unknown;
};
type Session = {
  dialect: PgDialect;
  prepareQuery(
    query: { sql: string; params: unknown[] },
    fields: unknown,
    name: undefined,
    arrayMode: boolean,
    mapper?: unknown,
  ): Prepared & { execute: () => Promise<unknown> };
};
/** What drizzle's query builders have: `_prepare` builds the SQL and the result mapping (internal in drizzle's types). */
type Buildable = { execute: () => Promise<unknown> };

type Shape = { text: string; fill: (values: Record<string, unknown>) => unknown[]; fields: unknown; arrayMode: boolean; mapper: unknown; joins: unknown };

function shapeOf(prepared: Prepared, what: string): Shape {
  const fillers = prepared.params.map((p, i) => {
    if (p instanceof Placeholder) return (v: Record<string, unknown>) => valueOf(v, p.name, what);
    if (p instanceof Param && p.value instanceof Placeholder) {
      const name = p.value.name;
      return (v: Record<string, unknown>) => p.encoder.mapToDriverValue(valueOf(v, name, what));
    }
    throw new Error(`builtOnce(${what}): parameter $${i + 1} is a constant, not a slot; it would be the same in every run`);
  });
  return {
    text: prepared.queryString,
    fill: (values) => fillers.map((f) => f(values)),
    fields: prepared.fields,
    arrayMode: prepared._isResponseInArrayMode,
    mapper: prepared.customResultMapper,
    joins: prepared.joinsNotNullableMap,
  };
}

function valueOf(values: Record<string, unknown>, name: string, what: string): unknown {
  if (!(name in values)) throw new Error(`builtOnce(${what}): no value for the slot "${name}"`);
  return values[name];
}

function sessionOf(ex: Executor): Session {
  // drizzle keeps the database's or transaction's session on it (internal in its types).
  const session = (ex as unknown as { session?: Session }).session;
  if (!session?.prepareQuery) throw new Error('builtOnce: not a drizzle database or transaction');
  return session;
}

/**
 * `build` (called once, with the executor of the first run) returns a drizzle query whose values are
 * slots; the function returned runs it on any executor with the slots' values and answers what the
 * query's `.execute()` would. `what` names the statement in errors.
 */
export function builtOnce<B extends Buildable, V extends Record<string, unknown> = Record<string, unknown>>(
  what: string,
  build: (ex: Executor) => B,
): (ex: Executor, values: V) => ReturnType<B['execute']> {
  let shape: Shape | undefined;
  return (ex, values) => {
    const session = sessionOf(ex);
    shape ??= shapeOf((build(ex) as unknown as { _prepare: () => Prepared })._prepare(), what);
    return run(session, shape, values) as ReturnType<B['execute']>;
  };
}

/** The same for a statement written in SQL (what `ex.execute(sql)` runs), answered as `ex.execute` answers. */
export function builtOnceSql<R extends Record<string, unknown> = Record<string, unknown>, V extends Record<string, unknown> = Record<string, unknown>>(
  what: string,
  statement: SQL,
): (ex: Executor, values: V) => Promise<QueryResult<R>> {
  let shape: Shape | undefined;
  return (ex, values) => {
    const session = sessionOf(ex);
    if (!shape) {
      const { sql: text, params } = session.dialect.sqlToQuery(statement);
      shape = shapeOf({ queryString: text, params, _isResponseInArrayMode: false }, what);
    }
    return run(session, shape, values) as Promise<QueryResult<R>>;
  };
}

function run(session: Session, shape: Shape, values: Record<string, unknown>): Promise<unknown> {
  const query = session.prepareQuery({ sql: shape.text, params: shape.fill(values) }, shape.fields, undefined, shape.arrayMode, shape.mapper);
  if (shape.joins !== undefined) query.joinsNotNullableMap = shape.joins;
  return query.execute();
}
