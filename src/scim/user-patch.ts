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

/**
 * The user a PATCH makes of `current`; the same input when it changes nothing. Operations that need
 * the user as the ones before left it (an element by type) apply one at a time.
 */
export async function applyUserPatch(body: ScimJson, current: ScimUserView): Promise<ScimUserInput> {
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
