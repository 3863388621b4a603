import SCIMMY from 'scimmy';
import type { ScimUserView } from '../domain/scim/index.js';

/**
 * A SCIM user as Roster keeps and answers it: the resource the IdP sent (every attribute /Schemas
 * advertises, enterprise extension included), with the server's own attributes (id, meta, groups) and
 * Roster's derived columns (userName, externalId, active) on top.
 */

export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const ENTERPRISE_USER = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

/**
 * Not kept in the resource: the server's own attributes, what is never returned, and what Roster keeps
 * as columns of its own (answered from them).
 */
const NOT_KEPT = new Set(['schemas', 'id', 'meta', 'groups', 'password', 'userName', 'externalId', 'active']);

/**
 * RFC 7643 §2.5: null, an empty array and an empty complex value all mean "no value". Kept as no value,
 * so a resource reads back the same whichever of them the IdP sent. Also a copy as JSON would make it
 * (dates as their JSON text, no functions, non-finite numbers as no value), in one pass.
 */
function pruned(value: unknown): unknown {
  if (value === null || value === undefined) return undefined;
  switch (typeof value) {
    case 'number':
      return Number.isFinite(value) ? value : undefined;
    case 'function':
    case 'symbol':
      return undefined;
    case 'object': {
      const json = (value as { toJSON?: unknown }).toJSON;
      if (typeof json === 'function') return pruned(json.call(value));
      if (Array.isArray(value)) {
        const items: unknown[] = [];
        for (const item of value) {
          const p = pruned(item);
          if (p !== undefined) items.push(p);
        }
        return items.length ? items : undefined;
      }
      let out: Record<string, unknown> | undefined;
      for (const k of Object.keys(value)) {
        // Not an attribute name (RFC 7643 §2.1: a name starts with a letter); assigned, it would set the prototype.
        if (k === '__proto__') continue;
        const p = pruned((value as Record<string, unknown>)[k]);
        if (p !== undefined) (out ??= {})[k] = p;
      }
      return out;
    }
    default:
      return value;
  }
}

/** What of a user SCIMMY read from a request (its attributes checked and named as /Schemas names them) is kept. */
export function keptResource(instance: Record<string, unknown>): Record<string, unknown> {
  const kept: Record<string, unknown> = {};
  for (const k of Object.keys(instance)) {
    if (NOT_KEPT.has(k)) continue;
    const p = pruned(instance[k]);
    if (p !== undefined) kept[k] = p;
  }
  return kept;
}

/** The user as SCIMMY takes it to shape a response (egress) or to apply a PATCH to. */
export function toScimUser(u: ScimUserView): Record<string, unknown> {
  const { userName: _u, externalId: _e, active: _a, ...rest } = u.resource ?? {};
  return {
    id: u.id,
    ...(u.externalId ? { externalId: u.externalId } : {}),
    userName: u.userName,
    ...rest,
    active: u.active,
    groups: u.groups.map((g) => ({ value: g.id, display: g.displayName, type: 'direct' })),
    meta: { resourceType: 'User', created: u.createdAt, lastModified: u.updatedAt },
  };
}

type Attribute = { name: string; config: { multiValued?: boolean; returned?: unknown }; subAttributes?: Attribute[] };
type Definition = { id: string; attributes: (Attribute | Definition)[] };
const isDefinition = (a: Attribute | Definition): a is Definition => 'id' in a && Array.isArray((a as Definition).attributes);

let layout: { core: Attribute[]; extensions: Definition[] } | undefined;
/** /Schemas' attribute order, read once SCIMMY has the User resource declared (with its extension). */
function userLayout() {
  if (layout) return layout;
  const attributes = (SCIMMY.Schemas.User.definition as unknown as Definition).attributes;
  layout = {
    core: attributes.filter((a): a is Attribute => !isDefinition(a)),
    extensions: attributes.filter(isDefinition),
  };
  return layout;
}

const neverReturned = (a: Attribute) => a.config.returned === false || a.config.returned === 'never';

/** A value in its attribute's order: SCIMMY writes sub-attributes in /Schemas' order. */
function ordered(value: unknown, attribute: Attribute): unknown {
  if (value === undefined || value === null) return undefined;
  const subs = attribute.subAttributes;
  if (!subs?.length) return value;
  const one = (v: unknown) => {
    if (!v || typeof v !== 'object' || Array.isArray(v)) return v;
    const out: Record<string, unknown> = {};
    for (const sub of subs) {
      if (neverReturned(sub)) continue;
      const o = ordered((v as Record<string, unknown>)[sub.name], sub);
      if (o !== undefined) out[sub.name] = o;
    }
    return out;
  };
  return attribute.config.multiValued && Array.isArray(value) ? value.map(one) : one(value);
}

/**
 * A user exactly as SCIMMY writes it for a request without `attributes`/`excludedAttributes` (same
 * attributes, same order; a property test holds the two equal). Lists, GET by id and PATCH use it:
 * shaping each user through SCIMMY costs more than the database lookup an IdP makes before every change.
 */
export function userResource(u: ScimUserView, location: string): Record<string, unknown> {
  const { core, extensions } = userLayout();
  const source = toScimUser(u);
  const meta = source.meta as { created: Date; lastModified: Date };
  const full: Record<string, unknown> = {
    ...source,
    meta: { resourceType: 'User', created: meta.created.toISOString(), lastModified: meta.lastModified.toISOString(), location: `${location}/${u.id}` },
  };
  const present = extensions.filter((e) => full[e.id] !== undefined);
  const out: Record<string, unknown> = { schemas: [USER_SCHEMA, ...present.map((e) => e.id)] };
  for (const a of core) {
    if (a.name === 'schemas' || neverReturned(a)) continue;
    const v = ordered(full[a.name], a);
    if (v !== undefined) out[a.name] = v;
  }
  for (const e of present) {
    const v = ordered(full[e.id], { name: e.id, config: {}, subAttributes: e.attributes as Attribute[] }) as Record<string, unknown>;
    if (Object.keys(v).length) out[e.id] = v;
  }
  return out;
}
