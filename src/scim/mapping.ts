import SCIMMY from 'scimmy';
import { isDatabaseUnavailable, isDomainError, isInvalidDataError, type ErrorCode } from '../domain/errors.js';
import type { ScimGroupInput, ScimGroupView, ScimUserInput } from '../domain/scim/index.js';
import { keptResource } from './user-resource.js';

/**
 * The one place SCIM attributes meet Roster's data: request bodies in (Roster's columns derived from
 * the resource the IdP sent), groups out, and domain errors to SCIM errors. Users out: user-resource.ts;
 * filters: filters.ts.
 */

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
    resource: keptResource(instance),
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
