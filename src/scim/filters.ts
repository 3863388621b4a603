import SCIMMY from 'scimmy';
import { fail } from '../domain/errors.js';
import type { FilterOp, FilterTerm, ResourcePath } from '../domain/scim/index.js';

/** SCIM filters and attribute lists: checked, then turned into the domain's query terms. */

/** A filter SCIMMY cannot parse, or one Roster cannot answer: a 400 invalidFilter. */
function badFilter(message: string): never {
  return fail('invalid_filter', message, { field: 'filter' });
}

/**
 * Rejects filters SCIMMY would crash on (a bare attribute, a lone "or": TypeErrors, which became 500s)
 * or silently shorten (a dangling "and"/"or", empty parentheses, which became an empty list): a filter
 * that does not parse is a 400 invalidFilter, never a guess.
 */
export function checkFilter(expr: string): void {
  const bare = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  if (/^\s*(and|or)\b/i.test(bare) || /\b(and|or|not)\s*(\)|$)/i.test(bare) || /\(\s*(and|or)\b/i.test(bare) || /\(\s*\)/.test(bare)) {
    badFilter(`The filter "${expr.slice(0, 100)}" is incomplete: "and"/"or" need a comparison on both sides.`);
  }
  try {
    new SCIMMY.Types.Filter(expr);
  } catch (err) {
    if (err instanceof SCIMMY.Types.Error) throw err;
    badFilter(`The filter "${expr.slice(0, 100)}" could not be parsed. Use e.g. userName eq "someone@example.com".`);
  }
}

/** More attribute names than any client needs; SCIMMY turns each into a filter term (2,500 crashed it). */
export const MAX_ATTRIBUTES = 100;
/** An attribute name as RFC 7644 §3.10 writes it: optional schema URN, name, optional sub-attribute. */
const attributePath = /^(?:urn:[A-Za-z0-9.:_-]+:)?[A-Za-z][\w$-]*(?:\.[A-Za-z][\w$-]*)?$/;
/** Words SCIMMY's filter parser reads as logic or literals, never as attribute names (they crashed it). */
const filterWords = /^(and|or|not|true|false)$/i;

/**
 * `attributes` / `excludedAttributes`: a comma-separated list of attribute names, checked like a filter
 * before SCIMMY turns it into one (a huge list crashed it with a TypeError; an item like `a) or (b`
 * would be filter syntax). Refused with 400 invalidFilter, as SCIMMY refuses its own malformed lists.
 */
export function checkAttributes(param: 'attributes' | 'excludedAttributes', value: unknown): void {
  if (value === undefined || value === '') return;
  if (typeof value !== 'string') fail('invalid_filter', `Give ${param} once, as a comma-separated list of attribute names.`, { field: param });
  const items = value.split(',').map((a) => a.trim());
  if (items.length > MAX_ATTRIBUTES)
    fail('invalid_filter', `${param} can name at most ${MAX_ATTRIBUTES} attributes (this one names ${items.length}).`, { field: param });
  for (const item of items) {
    if (!attributePath.test(item) || filterWords.test(item)) {
      fail('invalid_filter', `${JSON.stringify(item.slice(0, 100))} in ${param} is not an attribute name (e.g. userName, name.givenName).`, { field: param });
    }
  }
  // The filter SCIMMY makes of the list, built once here: whatever it still cannot take is our 400, not its TypeError.
  try {
    new SCIMMY.Types.Filter(items.map((a) => `${a} pr`).join(' and '));
  } catch (err) {
    if (err instanceof SCIMMY.Types.Error) throw err;
    fail('invalid_filter', `${param} could not be read as a list of attribute names.`, { field: param });
  }
}

/**
 * An attributes/excludedAttributes list without repeats, and without sub-attributes whose parent is
 * listed too (`meta.created,meta` is `meta`): SCIMMY fails on a parent after its sub-attribute.
 */
export function normalizedAttributes(value: string): string {
  const items = value
    .split(',')
    .map((a) => a.trim())
    .filter(Boolean);
  const lower = items.map((a) => a.toLowerCase());
  const kept = items.filter((a, i) => {
    const l = lower[i]!;
    if (lower.indexOf(l) !== i) return false;
    return !lower.some((other) => other !== l && l.startsWith(`${other}.`));
  });
  return kept.join(',');
}

/**
 * A parsed SCIMMY filter ([{attr: [op, value]}, …] OR-ed; keys AND-ed; nested objects for
 * sub-attributes and value paths) as the domain's OR-of-AND terms. For users, each attribute is also
 * resolved against /Schemas, so the domain can find what it keeps no column for in the kept resource.
 */
export function filterTerms(filter: SCIMMY.Types.Filter | undefined, kind: 'Users' | 'Groups' = 'Users'): FilterTerm[][] {
  if (!filter || !filter.length) return [];
  return [...filter].map((expr) => {
    if (!expr || typeof expr !== 'object' || !Object.keys(expr).length) badFilter('The filter has an empty expression.');
    const counter = { n: 0 };
    const terms = termsOf(expr as Record<string, unknown>, '', undefined, counter);
    return kind === 'Users' ? terms.map((t) => ({ ...t, at: resourcePath(t.field) })) : terms;
  });
}

const ops = new Set(['eq', 'ne', 'co', 'sw', 'ew', 'pr', 'gt', 'ge', 'lt', 'le']);

function termsOf(expr: Record<string, unknown>, prefix: string, element: number | undefined, counter: { n: number }): FilterTerm[] {
  const out: FilterTerm[] = [];
  for (const [key, val] of Object.entries(expr)) {
    if (key === '!') badFilter('"not" filters are not supported.');
    const field = prefix ? `${prefix}.${key}` : key;
    if (Array.isArray(val) && typeof val[0] === 'string') out.push({ ...term(field, val), element });
    else if (Array.isArray(val) && Array.isArray(val[0])) for (const v of val) out.push({ ...term(field, v as unknown[]), element });
    // A value path or sub-attribute (emails[type eq "work"].value, name.givenName): its terms hold for one element.
    else if (val && typeof val === 'object') out.push(...termsOf(val as Record<string, unknown>, field, element ?? ++counter.n, counter));
    else badFilter(`The filter on "${field}" could not be understood.`);
  }
  return out;
}

function term(field: string, v: unknown[]): FilterTerm {
  const op = String(v[0]).toLowerCase();
  if (!ops.has(op)) badFilter(`Unknown comparison "${v[0]}".`);
  if (op !== 'pr' && v.length < 2) badFilter(`The "${op}" comparison on "${field}" needs a value.`);
  return { field, op: op as FilterOp, value: v[1] as FilterTerm['value'] };
}

type SchemaAttribute = {
  name: string;
  type: string;
  config: { multiValued?: boolean; caseExact?: boolean };
  subAttributes?: SchemaAttribute[];
};

/**
 * Where a user attribute is in the kept resource, by /Schemas (names are case-insensitive; an
 * extension attribute is named by its schema URN, e.g. urn:…:enterprise:2.0:User:employeeNumber).
 * A complex multi-valued attribute without a sub-attribute compares its "value". undefined: no such attribute.
 */
function resourcePath(field: string): ResourcePath | undefined {
  let attribute: SchemaAttribute;
  try {
    attribute = SCIMMY.Schemas.User.definition.attribute(field) as unknown as SchemaAttribute;
  } catch {
    return undefined;
  }
  if (!attribute || !('type' in attribute)) return undefined;
  const urn = /^(urn:[A-Za-z0-9.:_-]+):([^:]+)$/.exec(field);
  const names = (urn ? urn[2]! : field).split('.');
  const path: string[] = urn ? [canonicalSchema(urn[1]!)] : [];
  let attrs = SCIMMY.Schemas.User.definition.attributes as unknown as SchemaAttribute[];
  if (urn) attrs = (SCIMMY.Schemas.User.definition.attribute(urn[1]!) as unknown as { attributes: SchemaAttribute[] }).attributes ?? [];
  let within: string[] | undefined;
  let last: SchemaAttribute | undefined;
  for (const name of names) {
    last = attrs.find((a) => a.name.toLowerCase() === name.toLowerCase());
    if (!last) return undefined;
    path.push(last.name);
    if (last.config.multiValued && !within) {
      within = [...path];
      path.length = 0;
    }
    attrs = last.subAttributes ?? [];
  }
  if (!last) return undefined;
  // emails eq "x" compares the value of each email.
  if (last.type === 'complex' && within && !path.length && last.subAttributes?.some((s) => s.name === 'value')) path.push('value');
  if (last.type === 'complex' && path.length && path[path.length - 1] === last.name) return undefined;
  const kind = last.type === 'boolean' ? 'bool' : 'text';
  return { path, within, caseExact: last.config.caseExact === true, kind };
}

function canonicalSchema(urn: string): string {
  const ext = (SCIMMY.Schemas.User.definition.attributes as unknown as { id?: string }[]).find((a) => a.id?.toLowerCase() === urn.toLowerCase());
  return ext?.id ?? urn;
}
