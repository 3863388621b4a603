import SCIMMY from 'scimmy';
import { fail, isDatabaseUnavailable, isDomainError, isInvalidDataError, type ErrorCode } from '../domain/errors.js';
import type { FilterOp, FilterTerm, ScimGroupInput, ScimGroupView, ScimUserInput, ScimUserView } from '../domain/scim/index.js';

/**
 * The one place SCIM attributes meet Roster's data: resources out, request bodies in, filters to
 * the domain's query terms, and domain errors to SCIM errors.
 */

export function toScimUser(u: ScimUserView): Record<string, unknown> {
  const formatted = [u.givenName, u.familyName].filter(Boolean).join(' ');
  return {
    id: u.id,
    ...(u.externalId ? { externalId: u.externalId } : {}),
    userName: u.userName,
    ...(u.givenName || u.familyName
      ? { name: { ...(u.givenName ? { givenName: u.givenName } : {}), ...(u.familyName ? { familyName: u.familyName } : {}), formatted } }
      : {}),
    ...(u.displayName ? { displayName: u.displayName } : {}),
    emails: [{ value: u.email, type: 'work', primary: true }],
    active: u.active,
    groups: u.groups.map((g) => ({ value: g.id, display: g.displayName, type: 'direct' })),
    meta: { resourceType: 'User', created: u.createdAt, lastModified: u.updatedAt },
  };
}

const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';

/**
 * A user exactly as SCIMMY writes it for a request without `attributes`/`excludedAttributes` (same
 * attributes, same order; a test holds the two equal). Lists use it: shaping each user through
 * SCIMMY's schema costs more than the database lookup an IdP makes before every change.
 */
export function userResource(u: ScimUserView, location: string): Record<string, unknown> {
  const name =
    u.givenName || u.familyName
      ? {
          formatted: [u.givenName, u.familyName].filter(Boolean).join(' '),
          ...(u.familyName ? { familyName: u.familyName } : {}),
          ...(u.givenName ? { givenName: u.givenName } : {}),
        }
      : undefined;
  return {
    schemas: [USER_SCHEMA],
    id: u.id,
    ...(u.externalId ? { externalId: u.externalId } : {}),
    meta: { resourceType: 'User', created: u.createdAt.toISOString(), lastModified: u.updatedAt.toISOString(), location: `${location}/${u.id}` },
    userName: u.userName,
    ...(name ? { name } : {}),
    ...(u.displayName ? { displayName: u.displayName } : {}),
    active: u.active,
    emails: [{ value: u.email, type: 'work', primary: true }],
    groups: u.groups.map((g) => ({ value: g.id, display: g.displayName, type: 'direct' })),
  };
}

/** JSON an IdP sent, as SCIMMY hands it over: read field by field, each one checked. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the one loose type at the SCIM boundary
export type ScimJson = Record<string, any>;

export function fromScimUser(instance: ScimJson): ScimUserInput {
  return {
    userName: String(instance.userName ?? ''),
    externalId: instance.externalId ?? null,
    givenName: instance.name?.givenName ?? null,
    familyName: instance.name?.familyName ?? null,
    displayName: instance.displayName ?? null,
    emails: Array.isArray(instance.emails)
      ? instance.emails
          .filter((e: ScimJson) => e && typeof e.value === 'string')
          .map((e: ScimJson) => ({ value: e.value, type: e.type, primary: e.primary === true }))
      : undefined,
    active: instance.active === undefined ? true : instance.active !== false,
  };
}

export function toScimGroup(g: ScimGroupView): Record<string, unknown> {
  return {
    id: g.id,
    ...(g.externalId ? { externalId: g.externalId } : {}),
    displayName: g.displayName,
    ...(g.members ? { members: g.members.map((m) => ({ value: m.id, display: m.display, type: 'User' })) } : {}),
    meta: { resourceType: 'Group', created: g.createdAt, lastModified: g.updatedAt },
  };
}

export function fromScimGroup(instance: ScimJson): ScimGroupInput {
  return {
    displayName: String(instance.displayName ?? ''),
    externalId: instance.externalId ?? null,
    memberIds: Array.isArray(instance.members) ? instance.members.map((m: ScimJson) => String(m?.value ?? '')).filter(Boolean) : [],
  };
}

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
 * sub-attributes and value paths) as the domain's OR-of-AND terms.
 */
export function filterTerms(filter: SCIMMY.Types.Filter | undefined): FilterTerm[][] {
  if (!filter || !filter.length) return [];
  return [...filter].map((expr) => {
    if (!expr || typeof expr !== 'object' || !Object.keys(expr).length) badFilter('The filter has an empty expression.');
    return termsOf(expr as Record<string, unknown>, '');
  });
}

const ops = new Set(['eq', 'ne', 'co', 'sw', 'ew', 'pr', 'gt', 'ge', 'lt', 'le']);

function termsOf(expr: Record<string, unknown>, prefix: string): FilterTerm[] {
  const out: FilterTerm[] = [];
  for (const [key, val] of Object.entries(expr)) {
    if (key === '!') badFilter('"not" filters are not supported.');
    const field = prefix ? `${prefix}.${key}` : key;
    if (Array.isArray(val) && typeof val[0] === 'string') out.push(term(field, val));
    else if (Array.isArray(val) && Array.isArray(val[0])) for (const v of val) out.push(term(field, v as unknown[]));
    else if (val && typeof val === 'object') {
      // emails[type eq "work"].value eq "x": Roster keeps one work email, so the type test always holds for "work".
      const sub = termsOf(val as Record<string, unknown>, field);
      for (const t of sub) {
        if (/^emails\.type$/i.test(t.field)) {
          if (t.op !== 'eq' || String(t.value).toLowerCase() !== 'work') badFilter('Only work emails are kept; filter with emails[type eq "work"].');
          continue;
        }
        if (/^emails\.primary$/i.test(t.field)) continue;
        out.push(t);
      }
    } else badFilter(`The filter on "${field}" could not be understood.`);
  }
  return out;
}

function term(field: string, v: unknown[]): FilterTerm {
  const op = String(v[0]).toLowerCase();
  if (!ops.has(op)) badFilter(`Unknown comparison "${v[0]}".`);
  if (op !== 'pr' && v.length < 2) badFilter(`The "${op}" comparison on "${field}" needs a value.`);
  return { field, op: op as FilterOp, value: v[1] as FilterTerm['value'] };
}

/** How deep normalizeBooleans walks; the router refuses deeper bodies before parsing them. */
const MAX_WALK_DEPTH = 64;

/** Entra ID sends booleans as "True"/"False" strings; SCIM wants JSON booleans. */
export function normalizeBooleans(value: unknown, key = '', depth = 0): unknown {
  if (typeof value === 'string' && /^(active|primary)$/i.test(key.split('.').pop() ?? '') && /^(true|false)$/i.test(value)) {
    return value.toLowerCase() === 'true';
  }
  if (value && typeof value === 'object' && depth >= MAX_WALK_DEPTH) {
    throw new SCIMMY.Types.Error(400, 'invalidSyntax', `The request body nests arrays and objects more than ${MAX_WALK_DEPTH} levels deep.`);
  }
  if (Array.isArray(value)) return value.map((v) => normalizeBooleans(v, key, depth + 1));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalizeBooleans(v, k, depth + 1)]));
  }
  return value;
}

/** PatchOp bodies: booleans normalized for paths like "active" too. */
export function normalizePatch(body: ScimJson): ScimJson {
  if (!body || typeof body !== 'object' || !Array.isArray(body.Operations)) return body;
  return {
    ...body,
    Operations: body.Operations.map((op: ScimJson) =>
      op && typeof op === 'object' ? { ...op, value: normalizeBooleans(op.value, typeof op.path === 'string' ? op.path : '') } : op,
    ),
  };
}

type ScimStatus = [400, 'invalidValue' | 'mutability' | 'invalidFilter'] | [401] | [403] | [404] | [409, 'uniqueness'];

/**
 * Every domain error as a SCIM status and scimType (RFC 7644 §3.12): the compiler fails when a code is
 * added and not given one here. Most are the IdP's request being refused by a rule (400 invalidValue);
 * rules about who may do what, and capacity, are 403.
 */
const scimStatusOf: Record<ErrorCode, ScimStatus> = {
  invalid_input: [400, 'invalidValue'],
  not_found: [404],
  forbidden: [403],
  not_a_member: [403],
  no_active_org: [400, 'invalidValue'],
  org_not_found: [404],
  slug_taken: [409, 'uniqueness'],
  confirmation_mismatch: [400, 'invalidValue'],
  member_not_found: [404],
  primary_owner_protected: [400, 'mutability'],
  last_owner: [400, 'mutability'],
  sole_member: [400, 'invalidValue'],
  use_leave: [400, 'invalidValue'],
  primary_owner_billing: [400, 'mutability'],
  transfer_target_not_owner: [400, 'invalidValue'],
  already_member: [409, 'uniqueness'],
  single_membership: [403],
  seat_limit: [403],
  invite_pending: [409, 'uniqueness'],
  invite_not_found: [404],
  invite_not_pending: [400, 'invalidValue'],
  invite_expired: [400, 'invalidValue'],
  invite_revoked: [400, 'invalidValue'],
  invite_used: [400, 'invalidValue'],
  invite_declined: [400, 'invalidValue'],
  invite_wrong_email: [403],
  join_request_not_found: [404],
  join_request_decided: [400, 'invalidValue'],
  join_request_pending: [409, 'uniqueness'],
  own_request: [403],
  scim_token_not_found: [404],
  scim_token_name_taken: [409, 'uniqueness'],
  scim_unauthorized: [401],
  scim_user_not_found: [404],
  scim_group_not_found: [404],
  scim_uniqueness: [409, 'uniqueness'],
  scim_managed: [400, 'mutability'],
  scim_no_email: [400, 'invalidValue'],
  invalid_filter: [400, 'invalidFilter'],
  invalid_domain: [400, 'invalidValue'],
  domain_not_claimable: [400, 'invalidValue'],
  domain_already_added: [409, 'uniqueness'],
  domain_not_found: [404],
  domain_taken: [409, 'uniqueness'],
  domain_not_verified: [400, 'invalidValue'],
  webhook_not_found: [404],
  webhook_limit_reached: [400, 'invalidValue'],
  feed_cursor_expired: [400, 'invalidValue'],
  consent_not_found: [404],
  consent_not_pending: [400, 'invalidValue'],
  membership_pending: [403],
  api_key_not_found: [404],
  api_key_name_taken: [409, 'uniqueness'],
  api_unauthorized: [403],
  slack_email_unconfirmed: [403],
  slack_link_invalid: [400, 'invalidValue'],
};

/** Domain errors become SCIM errors with the right status and scimType; nothing else leaks. */
export function scimError(err: unknown): InstanceType<typeof SCIMMY.Types.Error> {
  if (err instanceof SCIMMY.Types.Error) return err;
  if (isDomainError(err)) {
    const [status, scimType] = scimStatusOf[err.code];
    return new SCIMMY.Types.Error(status, (scimType ?? null) as never, err.message);
  }
  if (isInvalidDataError(err))
    return new SCIMMY.Types.Error(
      400,
      'invalidValue',
      'A value in the request cannot be stored (a character Roster does not accept, or a number out of range). Nothing was changed.',
    );
  if (isDatabaseUnavailable(err))
    return new SCIMMY.Types.Error(503, null as never, 'Roster cannot reach its database right now. Retry shortly; nothing was changed.');
  return new SCIMMY.Types.Error(500, null as never, 'Internal error');
}

/**
 * A PatchOp body's shape, checked before SCIMMY applies it (some malformed operations would otherwise
 * surface as 500s from inside the library). undefined = well-formed.
 */
export function patchProblem(body: unknown): { detail: string; scimType: 'invalidSyntax' | 'invalidValue' } | undefined {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return { detail: 'A PATCH body must be a PatchOp object.', scimType: 'invalidSyntax' };
  const ops = (body as { Operations?: unknown }).Operations;
  if (!Array.isArray(ops) || ops.length === 0) return { detail: 'A PatchOp needs a non-empty "Operations" array.', scimType: 'invalidSyntax' };
  if (ops.length > 1000) return { detail: 'At most 1000 operations per PATCH.', scimType: 'invalidSyntax' };
  for (const [i, op] of ops.entries()) {
    const n = i + 1;
    if (!op || typeof op !== 'object' || Array.isArray(op)) return { detail: `Operation ${n} must be an object.`, scimType: 'invalidSyntax' };
    const { op: verb, path, value } = op as { op?: unknown; path?: unknown; value?: unknown };
    if (typeof verb !== 'string' || !/^(add|replace|remove)$/i.test(verb))
      return { detail: `Operation ${n}: "op" must be add, replace or remove.`, scimType: 'invalidSyntax' };
    if (path !== undefined && (typeof path !== 'string' || path.trim() === ''))
      return { detail: `Operation ${n}: "path" must be a non-empty string.`, scimType: 'invalidSyntax' };
    if (/^remove$/i.test(verb)) {
      if (path === undefined) return { detail: `Operation ${n}: remove needs a "path".`, scimType: 'invalidSyntax' };
      continue;
    }
    if (path === undefined && (!value || typeof value !== 'object' || Array.isArray(value))) {
      return { detail: `Operation ${n}: without a "path", "value" must be an object of attributes.`, scimType: 'invalidValue' };
    }
    if (value === undefined || value === null) return { detail: `Operation ${n}: "value" is required for ${verb}.`, scimType: 'invalidValue' };
    // Some clients send group members as bare ids; RFC 7643 §4.2 makes each one an object.
    const members =
      typeof path === 'string' && /^members$/i.test(path.trim()) ? value : path === undefined ? (value as { members?: unknown }).members : undefined;
    const bare = (Array.isArray(members) ? members : members === undefined ? [] : [members]).find(
      (m) => typeof m !== 'object' || m === null || Array.isArray(m),
    );
    if (bare !== undefined)
      return {
        detail: `Operation ${n}: each member must be an object such as {"value": "<SCIM user id>"}, not ${JSON.stringify(bare).slice(0, 60)}.`,
        scimType: 'invalidValue',
      };
  }
  return undefined;
}
