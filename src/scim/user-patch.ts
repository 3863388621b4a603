import SCIMMY from 'scimmy';
import type { ScimUserInput, ScimUserView } from '../domain/scim/index.js';
import { fromScimUser, type ScimJson } from './mapping.js';
import { ENTERPRISE_USER, toScimUser } from './user-resource.js';

/**
 * PATCH /Users/{id} (RFC 7644 §3.5.2), applied by SCIMMY to the user as it is under its row lock (the
 * domain's patchUser), after Entra ID's forms are read as what they mean:
 * - `add`/`replace` on `phoneNumbers[type eq "work"].value` (or addresses, emails…) when the user has no
 *   such element yet adds one (Entra sends it for every new phone number; RFC 7644 leaves it open);
 * - the enterprise `manager` given as the manager's id string is `{"value": id}` (Entra's form).
 */
type Operation = { op: string; path?: string; value?: unknown };

const MANAGER_PATH = `${ENTERPRISE_USER}:manager`.toLowerCase();
/** attr[filter].sub, where the filter is one or more `x eq "y"` joined by and. */
const elementPath = /^([A-Za-z][\w-]*)\[((?:\s*[A-Za-z][\w-]*\s+eq\s+"(?:[^"\\]|\\.)*"\s*(?:\band\b)?)+)\]\.([A-Za-z][\w$-]*)$/i;
const equality = /([A-Za-z][\w-]*)\s+eq\s+"((?:[^"\\]|\\.)*)"/gi;

function managerValue(value: unknown): unknown {
  return typeof value === 'string' ? { value } : value;
}

function entraForm(op: Operation, current: ScimJson): Operation {
  const verb = op.op.toLowerCase();
  if (verb === 'remove') return op;
  if (op.path === undefined && op.value && typeof op.value === 'object' && !Array.isArray(op.value)) {
    const value = Object.fromEntries(Object.entries(op.value).map(([k, v]) => [k, k.toLowerCase() === MANAGER_PATH ? managerValue(v) : v]));
    return { ...op, value };
  }
  if (typeof op.path !== 'string') return op;
  if (op.path.toLowerCase() === MANAGER_PATH) return { ...op, value: managerValue(op.value) };
  const m = elementPath.exec(op.path.trim());
  if (!m) return op;
  const [, attr, filter, sub] = m as unknown as [string, string, string, string];
  const key = Object.keys(current).find((k) => k.toLowerCase() === attr.toLowerCase()) ?? attr;
  const existing = Array.isArray(current[key]) ? (current[key] as unknown[]) : [];
  let matches: unknown[];
  try {
    matches = new SCIMMY.Types.Filter(filter).match(existing);
  } catch {
    return op; // SCIMMY says what is wrong with it
  }
  if (matches.length) return op;
  const element: Record<string, unknown> = {};
  for (const [, name, v] of filter.matchAll(equality)) element[name!] = v!.replace(/\\(.)/g, '$1');
  element[sub] = op.value;
  return { op: 'add', path: key, value: [element] };
}

/** SCIMMY numbers the operations of the one-operation PatchOp it applied: say which one of the request it was. */
function renumbered(err: unknown, n: number): unknown {
  if (err instanceof SCIMMY.Types.Error) err.message = err.message.replace(/of operation 1 in PatchOp/, `of operation ${n} in PatchOp`);
  return err;
}

const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

/**
 * Single-valued attributes a PATCH can set without SCIMMY: what IdPs change most (Okta's and Entra's
 * deactivation is `replace active`), with their canonical names and types. Anything else goes through
 * SCIMMY; a property test holds the two to the same result.
 */
const simple = new Map<string, { path: string[]; type: 'boolean' | 'string'; required?: boolean }>(
  (
    [
      ['active', 'boolean'],
      ['userName', 'string', true],
      ['externalId', 'string'],
      ['displayName', 'string'],
      ['nickName', 'string'],
      ['title', 'string'],
      ['userType', 'string'],
      ['preferredLanguage', 'string'],
      ['locale', 'string'],
      ['timezone', 'string'],
      ['name.formatted', 'string'],
      ['name.familyName', 'string'],
      ['name.givenName', 'string'],
      ['name.middleName', 'string'],
    ] as const
  ).map(([name, type, required]) => [name.toLowerCase(), { path: name.split('.'), type, required }]),
);

/** `ops` applied straight to the user, or undefined when one of them needs SCIMMY. */
function appliedSimply(body: ScimJson, current: ScimUserView): ScimUserInput | undefined {
  if (!Array.isArray(body.schemas) || body.schemas.length !== 1 || body.schemas[0] !== PATCH_SCHEMA) return undefined;
  const user = toScimUser(current);
  const sets: [string, unknown][] = [];
  for (const op of body.Operations as Operation[]) {
    const verb = op.op.toLowerCase();
    if (verb === 'remove') {
      const attr = typeof op.path === 'string' ? simple.get(op.path.trim().toLowerCase()) : undefined;
      if (!attr || attr.required || op.value !== undefined) return undefined;
      sets.push([op.path!.trim().toLowerCase(), undefined]);
      continue;
    }
    const pairs: [string, unknown][] =
      op.path === undefined ? Object.entries(op.value as object) : typeof op.path === 'string' ? [[op.path.trim(), op.value]] : [];
    for (const [key, value] of pairs) {
      const attr = simple.get(key.toLowerCase());
      if (!attr || typeof value !== attr.type || (attr.required && value === '')) return undefined;
      sets.push([key.toLowerCase(), value]);
    }
  }
  for (const [key, value] of sets) {
    const { path } = simple.get(key)!;
    if (path.length === 1) user[path[0]!] = value;
    else {
      const parent = { ...((user[path[0]!] as Record<string, unknown> | undefined) ?? {}) };
      parent[path[1]!] = value;
      user[path[0]!] = parent;
    }
  }
  return fromScimUser(user);
}

/**
 * The user a PATCH makes of `current`; the same input when it changes nothing. Simple operations apply
 * directly; the others through SCIMMY, those that need the user as the ones before left it (an
 * element by type) one at a time.
 */
export async function applyUserPatch(body: ScimJson, current: ScimUserView, opts: { viaScimmy?: boolean } = {}): Promise<ScimUserInput> {
  const direct = opts.viaScimmy ? undefined : appliedSimply(body, current);
  if (direct) return direct;
  return appliedByScimmy(body, current);
}

async function appliedByScimmy(body: ScimJson, current: ScimUserView): Promise<ScimUserInput> {
  let resource = new SCIMMY.Schemas.User(toScimUser(current) as never, 'out');
  const operations = body.Operations as Operation[];
  const stepwise = operations.some((op) => typeof op.path === 'string' && elementPath.test(op.path.trim()));
  const steps = stepwise ? operations.map((op) => [op]) : [operations];
  for (const [i, step] of steps.entries()) {
    const plain = JSON.parse(JSON.stringify(resource)) as ScimJson;
    const patch = new SCIMMY.Messages.PatchOp({ ...body, Operations: step.map((op) => entraForm(op, plain)) } as never);
    try {
      resource = ((await patch.apply(resource as never)) as typeof resource | undefined) ?? resource;
    } catch (err) {
      throw stepwise ? renumbered(err, i + 1) : err;
    }
  }
  return fromScimUser(resource as unknown as ScimJson);
}
