import { getTableColumns, type InferSelectModel, type Table } from 'drizzle-orm';

/**
 * A row returned by raw SQL (`db.execute`), in the shape drizzle's own selects return: column names
 * mapped to property names, values through each column's driver mapping. For the few statements that
 * do several writes in one round trip, which drizzle's query builder cannot express.
 */
export function rowOf<T extends Table>(table: T, raw: Record<string, unknown>): InferSelectModel<T> {
  const out: Record<string, unknown> = {};
  for (const [key, column] of Object.entries(getTableColumns(table))) {
    const value = raw[column.name];
    out[key] = value === null || value === undefined ? null : column.mapFromDriverValue(value);
  }
  return out as InferSelectModel<T>;
}
