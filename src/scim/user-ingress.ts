import { ENTERPRISE_USER, USER_SCHEMA } from './user-resource.js';

/**
 * The user an IdP's POST or PUT body makes, read without SCIMMY for the bodies Okta and Entra send
 * every day (userName, names, emails, active, title, locale, the enterprise extension's strings…):
 * exactly what SCIMMY's `new Schemas.User(body, 'in')` would give as JSON, which a property test
 * holds it to. Anything else (another attribute, another spelling, a value SCIMMY would coerce or
 * refuse) gives undefined, and SCIMMY reads the body as before. Coercing a body through SCIMMY costs
 * more than the database writes of a create.
 */

type Json = Record<string, unknown>;

/** Core attributes of type string (RFC 7643 §4.1) that SCIMMY takes as they are. */
const STRINGS = new Set(['externalId', 'userName', 'displayName', 'nickName', 'title', 'userType', 'preferredLanguage', 'locale', 'timezone']);
const NAME_PARTS = new Set(['formatted', 'familyName', 'givenName', 'middleName', 'honorificPrefix', 'honorificSuffix']);
const EMAIL_PARTS = new Set(['value', 'display', 'type', 'primary']);
/** emails[].type's canonical values in SCIMMY's schema: it refuses others. */
const EMAIL_TYPES = new Set(['work', 'home', 'other']);
const ENTERPRISE_STRINGS = new Set(['employeeNumber', 'costCenter', 'organization', 'division', 'department']);

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
/** A string SCIMMY keeps as it is: empty strings are left to SCIMMY. */
const isText = (v: unknown): v is string => typeof v === 'string' && v !== '';

function stringsOnly(value: unknown, allowed: Set<string>): Json | undefined {
  if (!isObject(value)) return undefined;
  const out: Json = {};
  for (const [k, v] of Object.entries(value)) {
    if (!allowed.has(k) || !isText(v)) return undefined;
    out[k] = v;
  }
  return Object.keys(out).length ? out : undefined;
}

function emailsOf(value: unknown): Json[] | undefined {
  if (!Array.isArray(value) || !value.length) return undefined;
  const out: Json[] = [];
  for (const e of value) {
    if (!isObject(e) || !isText(e.value)) return undefined;
    const email: Json = {};
    for (const [k, v] of Object.entries(e)) {
      if (!EMAIL_PARTS.has(k)) return undefined;
      if (k === 'primary') {
        if (typeof v !== 'boolean') return undefined;
      } else if (!isText(v) || (k === 'type' && !EMAIL_TYPES.has(v))) return undefined;
      email[k] = v;
    }
    out.push(email);
  }
  return out;
}

function enterpriseOf(value: unknown): Json | undefined {
  if (!isObject(value)) return undefined;
  const out: Json = {};
  for (const [k, v] of Object.entries(value)) {
    if (k === 'manager') {
      if (!isObject(v) || Object.keys(v).length !== 1 || !isText(v.value)) return undefined;
      out.manager = { value: v.value };
    } else if (ENTERPRISE_STRINGS.has(k) && isText(v)) out[k] = v;
    else return undefined;
  }
  return Object.keys(out).length ? out : undefined;
}

function schemasOf(value: unknown): string[] | undefined {
  if (!Array.isArray(value)) return undefined;
  if (value.length === 1 && value[0] === USER_SCHEMA) return [USER_SCHEMA];
  if (value.length === 2 && value[0] === USER_SCHEMA && value[1] === ENTERPRISE_USER) return [USER_SCHEMA, ENTERPRISE_USER];
  return undefined;
}

/** The body as SCIMMY would read it (JSON), or undefined when only SCIMMY should read it. */
export function plainUserInstance(body: unknown): Json | undefined {
  if (!isObject(body) || !isText(body.userName)) return undefined;
  const schemas = schemasOf(body.schemas);
  if (!schemas) return undefined;
  const out: Json = { schemas, meta: { resourceType: 'User' } };
  for (const [k, v] of Object.entries(body)) {
    if (k === 'schemas') continue;
    if (STRINGS.has(k)) {
      if (!isText(v)) return undefined;
      out[k] = v;
    } else if (k === 'active') {
      if (typeof v !== 'boolean') return undefined;
      out.active = v;
    } else if (k === 'name') {
      const name = stringsOnly(v, NAME_PARTS);
      if (!name) return undefined;
      out.name = name;
    } else if (k === 'emails') {
      const emails = emailsOf(v);
      if (!emails) return undefined;
      out.emails = emails;
    } else if (k === ENTERPRISE_USER) {
      const extension = enterpriseOf(v);
      if (!extension || schemas.length !== 2) return undefined;
      out[k] = extension;
    } else if (k === 'meta') {
      // Entra sends {"resourceType": "User"}; SCIMMY writes the same whatever a client sends.
      if (!isObject(v) || Object.keys(v).length !== 1 || v.resourceType !== 'User') return undefined;
    } else if (k === 'password') {
      // Write-only: SCIMMY reads it and never writes it out; Roster keeps no password.
      if (!isText(v)) return undefined;
    } else if (k === 'id') {
      // Read-only: Okta's PUT repeats it; SCIMMY drops it (the path names the user).
      if (!isText(v)) return undefined;
    } else if (k === 'groups') {
      // Read-only (RFC 7643 §4.1.2): Okta sends an empty list; SCIMMY drops it.
      if (!Array.isArray(v) || v.length) return undefined;
    } else return undefined;
  }
  return out;
}
