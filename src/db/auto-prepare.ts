import type pg from 'pg';

/**
 * Statements the domain's transactions send again and again (pipeline.ts; not those outside one, whose
 * texts include clients' filter shapes) become prepared statements on each connection, as
 * Npgsql's and pgx's automatic preparation do: the server parses and plans a SCIM create's CTEs once
 * per connection instead of on every request (planning alone was ~0.6 ms of PostgreSQL's CPU per
 * create; bench/RESULTS.md, 2026-12-04). A text is prepared once it has been seen a few times, and
 * only so many are, so statements whose text varies (a VALUES list of n rows) do not fill the server.
 */

/** Uses before a text is prepared. */
const PREPARE_AFTER = 3;
/** Texts prepared at most (per process; each connection prepares those it runs). */
const MAX_PREPARED = 256;
/** Texts counted at most before the counts start again (the prepared ones stay). */
const MAX_COUNTED = 4_096;
/** Longer texts are never prepared (bulk statements built per call). */
const MAX_TEXT = 8_192;

const names = new Map<string, string>();
let counts = new Map<string, number>();

/** Transaction control: nothing to plan. */
const CONTROL = /^\s*(begin|commit|rollback|savepoint|release)\b/i;

/** The name a statement's text is prepared under, once it has earned one. */
export function preparedName(text: string): string | undefined {
  const name = names.get(text);
  if (name !== undefined || text.length > MAX_TEXT || names.size >= MAX_PREPARED || CONTROL.test(text)) return name;
  const seen = (counts.get(text) ?? 0) + 1;
  if (seen < PREPARE_AFTER) {
    if (counts.size >= MAX_COUNTED) counts = new Map();
    counts.set(text, seen);
    return undefined;
  }
  counts.delete(text);
  const given = `roster_auto_${names.size + 1}`;
  names.set(text, given);
  return given;
}

/** The query as sent: under its prepared name when it has one (a query already named keeps its own). */
export function withPreparedName(config: string | pg.QueryConfig): string | pg.QueryConfig {
  if (typeof config === 'string') {
    const name = preparedName(config);
    return name ? { text: config, name } : config;
  }
  if (config.name) return config;
  const name = preparedName(config.text);
  return name ? { ...config, name } : config;
}
