import { sql, type SQL } from 'drizzle-orm';
import { scimGroups, scimUsers } from '../../db/schema.js';
import { fail } from '../errors.js';
import { textProblem } from '../validation.js';
import { MAX_PAGE, type FilterTerm, type ResourcePath, type ScimQuery } from './types.js';

/**
 * LIMIT and OFFSET for a list request. A startIndex past 2^53 is refused: JavaScript numbers lose
 * precision there, and from 2^63 PostgreSQL fails ("out of range for type bigint"). A count is capped
 * at MAX_PAGE; a startIndex below 1 means 1 (RFC 7644 §3.4.2.4).
 */
export function pageOf(q: ScimQuery): { limit: number; offset: number } {
  if (!(q.startIndex <= Number.MAX_SAFE_INTEGER)) fail('invalid_input', `startIndex can be at most ${Number.MAX_SAFE_INTEGER}.`);
  const limit = Math.max(0, Math.min(Math.trunc(q.count) || 0, MAX_PAGE));
  return { limit, offset: Math.max(Math.trunc(q.startIndex) - 1, 0) };
}

// ---- Filters → SQL (indexed: userName, externalId and email lookups stay fast at 100k users) ----

type FieldSql = { expr: SQL; caseInsensitive: boolean; kind: 'text' | 'bool' | 'time' | 'id' };

export function userField(field: string): FieldSql | undefined {
  switch (field.toLowerCase()) {
    case 'id':
      return { expr: sql`${scimUsers.id}::text`, caseInsensitive: true, kind: 'id' };
    case 'username':
      return { expr: sql`${scimUsers.userName}`, caseInsensitive: true, kind: 'text' };
    case 'externalid':
      return { expr: sql`${scimUsers.externalId}`, caseInsensitive: false, kind: 'text' };
    case 'displayname':
      return { expr: sql`${scimUsers.displayName}`, caseInsensitive: true, kind: 'text' };
    case 'name.givenname':
      return { expr: sql`${scimUsers.givenName}`, caseInsensitive: true, kind: 'text' };
    case 'name.familyname':
      return { expr: sql`${scimUsers.familyName}`, caseInsensitive: true, kind: 'text' };
    case 'active':
      return { expr: sql`${scimUsers.active}`, caseInsensitive: false, kind: 'bool' };
    case 'meta.created':
      return { expr: sql`${scimUsers.createdAt}`, caseInsensitive: false, kind: 'time' };
    case 'meta.lastmodified':
      return { expr: sql`${scimUsers.updatedAt}`, caseInsensitive: false, kind: 'time' };
    default:
      return undefined;
  }
}

export function groupField(field: string): FieldSql | undefined {
  switch (field.toLowerCase()) {
    case 'id':
      return { expr: sql`${scimGroups.id}::text`, caseInsensitive: true, kind: 'id' };
    case 'displayname':
      return { expr: sql`${scimGroups.displayName}`, caseInsensitive: true, kind: 'text' };
    case 'externalid':
      return { expr: sql`${scimGroups.externalId}`, caseInsensitive: false, kind: 'text' };
    case 'members.value':
    case 'members':
      return {
        expr: sql`(select string_agg(scim_user_id::text, ',') from scim_group_members m where m.group_id = "scim_groups"."id")`,
        caseInsensitive: true,
        kind: 'id',
      };
    case 'meta.created':
      return { expr: sql`${scimGroups.createdAt}`, caseInsensitive: false, kind: 'time' };
    case 'meta.lastmodified':
      return { expr: sql`${scimGroups.updatedAt}`, caseInsensitive: false, kind: 'time' };
    default:
      return undefined;
  }
}

/** A filter term Roster cannot turn into SQL: a 400 invalidFilter, never a guess. */
function badFilter(message: string): never {
  return fail('invalid_filter', message, { field: 'filter' });
}

function likeEscape(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** `userName eq "…"` or `externalId eq "…"` alone, with the value as filterSql compares it; else undefined. */
export function singleEqLookup(anyOf: FilterTerm[][]): { field: 'username' | 'externalid'; value: string } | undefined {
  const t = anyOf.length === 1 && anyOf[0]!.length === 1 ? anyOf[0]![0]! : undefined;
  if (!t || t.op !== 'eq' || typeof t.value !== 'string') return undefined;
  const field = t.field.toLowerCase();
  const f = field === 'username' || field === 'externalid' ? userField(field) : undefined;
  if (!f) return undefined;
  return { field: field as 'username' | 'externalid', value: f.caseInsensitive ? t.value.toLowerCase() : t.value };
}

/** A text[] path for #> and #>>, as one parameter. */
function pathParam(path: string[]): SQL {
  return sql`${`{${path.map((p) => `"${p.replace(/["\\]/g, (c) => `\\${c}`)}"`).join(',')}}`}::text[]`;
}

/** An attribute in a jsonb value (the kept resource, or one element of a multi-valued attribute). */
function jsonField(json: SQL, at: ResourcePath): FieldSql {
  const p = pathParam(at.path);
  if (at.kind === 'bool')
    return { expr: sql`(case when jsonb_typeof(${json} #> ${p}) = 'boolean' then (${json} #>> ${p})::boolean end)`, caseInsensitive: false, kind: 'bool' };
  return { expr: sql`(${json} #>> ${p})`, caseInsensitive: !at.caseExact, kind: 'text' };
}

/**
 * The filter as SQL. `resource` is the kept resource's column: attributes Roster keeps no column for
 * are compared in it, and the terms on one element of a multi-valued attribute (emails[type eq "work"
 * and value eq "x"]) on one element of it.
 */
export function filterSql(anyOf: FilterTerm[][], fieldOf: (f: string) => FieldSql | undefined, resource?: SQL): SQL | undefined {
  if (!anyOf.length) return undefined;
  const ors = anyOf.map((all) => {
    const ands: SQL[] = [];
    const elements = new Map<string, { within: string[]; terms: FilterTerm[] }>();
    for (const t of all) {
      const column = fieldOf(t.field);
      if (column || !t.at || !resource) ands.push(termSql(t, () => column));
      else if (!t.at.within) ands.push(termSql(t, () => jsonField(resource, t.at!)));
      else {
        const key = `${t.element ?? `t${ands.length}-${elements.size}`}:${t.at.within.join('.')}`;
        const group = elements.get(key) ?? { within: t.at.within, terms: [] };
        group.terms.push(t);
        elements.set(key, group);
      }
    }
    for (const { within, terms } of elements.values()) {
      const list = sql`(${resource} #> ${pathParam(within)})`;
      const conds = terms.map((t) => (t.op === 'pr' && !t.at!.path.length ? sql`true` : termSql(t, () => jsonField(sql`e.v`, t.at!))));
      ands.push(
        sql`exists (select 1 from jsonb_array_elements(case when jsonb_typeof(${list}) = 'array' then ${list} else '[]'::jsonb end) as e(v) where ${sql.join(conds, sql` and `)})`,
      );
    }
    // No terms left: matches all, not "()".
    if (!ands.length) return sql`true`;
    return ands.length === 1 ? ands[0]! : sql`(${sql.join(ands, sql` and `)})`;
  });
  return ors.length === 1 ? ors[0] : sql`(${sql.join(ors, sql` or `)})`;
}

function termSql(t: FilterTerm, fieldOf: (f: string) => FieldSql | undefined): SQL {
  const problem = typeof t.value === 'string' ? textProblem(t.value) : undefined;
  if (problem) badFilter(`The value compared with "${t.field}" contains ${problem}.`);
  const f = fieldOf(t.field);
  if (!f) badFilter(`Filtering on "${t.field}" is not supported.`);
  if (t.op === 'pr') return sql`(${f.expr} is not null)`;
  if (t.value === undefined) badFilter(`The "${t.op}" comparison on "${t.field}" needs a value.`);
  if (f.kind === 'bool') {
    // "True"/"False" strings are Entra's booleans; anything else is not a boolean, and no match is a guess.
    if (typeof t.value !== 'boolean' && !/^(true|false)$/i.test(String(t.value))) badFilter(`"${t.field}" is true or false, not ${JSON.stringify(t.value)}.`);
    const v = typeof t.value === 'boolean' ? t.value : String(t.value).toLowerCase() === 'true';
    if (t.op === 'eq') return sql`(${f.expr} = ${v})`;
    if (t.op === 'ne') return sql`(${f.expr} <> ${v})`;
    badFilter(`"${t.field}" can only be compared with eq or ne.`);
  }
  if (t.value === null) return t.op === 'ne' ? sql`(${f.expr} is not null)` : sql`(${f.expr} is null)`;
  const raw = String(t.value);
  if (f.kind === 'time') {
    const d = new Date(raw);
    if (Number.isNaN(d.getTime())) badFilter(`"${raw}" is not a date-time.`);
    // JavaScript dates reach years PostgreSQL's timestamps cannot hold ("timestamp out of range").
    if (d.getUTCFullYear() < 1 || d.getUTCFullYear() > 9999) badFilter(`"${raw}" is not a date-time between the years 1 and 9999.`);
    const op = { eq: '=', ne: '<>', gt: '>', ge: '>=', lt: '<', le: '<=' }[t.op as 'eq'];
    if (!op) badFilter(`"${t.field}" cannot be compared with ${t.op}.`);
    return sql`(${f.expr} ${sql.raw(op)} ${d})`;
  }
  const col = f.caseInsensitive ? sql`lower(${f.expr})` : f.expr;
  const val = f.caseInsensitive ? raw.toLowerCase() : raw;
  if (f.kind === 'id' && t.field.toLowerCase().startsWith('members')) {
    if (t.op !== 'eq') badFilter('members can only be filtered with eq.');
    return sql`exists (select 1 from scim_group_members m where m.group_id = "scim_groups"."id" and m.scim_user_id::text = ${val})`;
  }
  switch (t.op) {
    case 'eq':
      return sql`(${col} = ${val})`;
    case 'ne':
      return sql`(${col} is distinct from ${val})`;
    case 'co':
      return sql`(${col} like ${`%${likeEscape(val)}%`})`;
    case 'sw':
      return sql`(${col} like ${`${likeEscape(val)}%`})`;
    case 'ew':
      return sql`(${col} like ${`%${likeEscape(val)}`})`;
    case 'gt':
      return sql`(${col} > ${val})`;
    case 'ge':
      return sql`(${col} >= ${val})`;
    case 'lt':
      return sql`(${col} < ${val})`;
    case 'le':
      return sql`(${col} <= ${val})`;
    default:
      badFilter(`Unknown comparison "${t.op}".`);
  }
}
