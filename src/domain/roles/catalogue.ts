import type { StoredRole } from '../../db/schema.js';
import { fail } from '../errors.js';
import type { Permission } from './permissions.js';

/**
 * The built-in roles, the only place in src/ that names a role. Everything else asks this
 * catalogue or the policy in access.ts. Order is the order roles are listed in (menus, help texts).
 *
 * - rank: when several sources grant roles (SCIM groups), the highest wins.
 * - listGroup: member lists show owners, then admins, then everyone else (by name within a group).
 * - grantedWith: the permission needed to give someone this role, or change or remove someone who has it.
 */
const everyone: Permission[] = ['org:view', 'member:view'];

const builtInRoles = [
  {
    key: 'owner',
    label: 'Owner',
    plural: 'owners',
    article: 'an',
    rank: 5,
    listGroup: 0,
    grantedWith: 'owner:grant',
    permissions: [
      ...everyone,
      'org:update',
      'org:delete',
      'member:invite',
      'member:update',
      'member:remove',
      'owner:grant',
      'resources:use',
      'resources:manage',
      'billing:view',
      'billing:toggle_emails',
      'scim:manage',
      'domain:manage',
      'api:manage',
      'audit:read',
    ],
  },
  {
    key: 'admin',
    label: 'Admin',
    plural: 'admins',
    article: 'an',
    rank: 4,
    listGroup: 1,
    grantedWith: 'member:update',
    permissions: [
      ...everyone,
      'member:invite',
      'member:update',
      'member:remove',
      'resources:use',
      'resources:manage',
      'billing:view',
      'billing:toggle_emails',
      'audit:read',
    ],
  },
  {
    key: 'billing',
    label: 'Billing',
    plural: 'billing members',
    article: 'a',
    rank: 2,
    listGroup: 2,
    grantedWith: 'member:update',
    permissions: [...everyone, 'billing:view'],
  },
  {
    key: 'developer',
    label: 'Developer',
    plural: 'developers',
    article: 'a',
    rank: 3,
    listGroup: 2,
    grantedWith: 'member:update',
    permissions: [...everyone, 'resources:use', 'resources:manage'],
  },
  {
    key: 'member',
    label: 'Member',
    plural: 'members',
    article: 'a',
    rank: 1,
    listGroup: 2,
    grantedWith: 'member:update',
    permissions: [...everyone, 'resources:use'],
  },
] as const satisfies readonly RoleDefinition<string>[];

type RoleDefinition<K extends string = Role> = {
  key: K;
  label: string;
  /** How a sentence names the holders of this role: "Only owners can …". */
  plural: string;
  article: 'a' | 'an';
  rank: number;
  listGroup: number;
  grantedWith: Permission;
  permissions: readonly Permission[];
};

export type Role = (typeof builtInRoles)[number]['key'];

// The database stores a role's key (db/schema/enums.ts): the built-in keys must be the same two lists.
const _storedRolesMatch: [Exclude<Role, StoredRole>, Exclude<StoredRole, Role>] extends [never, never] ? true : never = true;
void _storedRolesMatch;

const byKey = new Map<string, RoleDefinition>(builtInRoles.map((r) => [r.key, r]));

/** Every role, in listing order. */
export const roles: readonly Role[] = builtInRoles.map((r) => r.key);

export function roleDefinition(role: Role): RoleDefinition {
  const d = byKey.get(role);
  if (!d) throw new Error(`The database holds the role key "${String(role)}", which the role catalogue does not define.`);
  return d;
}

/**
 * The role that holds the org: its creator gets it, an org always keeps one active, primary ownership
 * moves only between its holders, and SCIM grants it only where the org allows.
 */
export const ownerRole: Role = 'owner';

/** The role an invite, a join approval or a CLI command gives when none is chosen. */
export const defaultRole: Role = 'member';

/** The role help texts use in examples ("/org role @ana admin"). */
export const exampleRole: Role = 'admin';

/**
 * The standing a credential that is not a person acts with: the operator and jobs, an org's IdP, and an
 * API key (an owner's rights within its org; a read key only reads, see Standing.readOnly).
 */
export const credentialRoles: { system: Role; scim: Role; api: Role } = { system: 'owner', scim: 'admin', api: 'owner' };

export function isRole(value: string): value is Role {
  return byKey.has(value);
}

/** The roles, as a person would type them: "owner, admin, billing, developer, member". */
export function roleList(): string {
  return roles.join(', ');
}

export function parseRole(value: string): Role {
  const v = value.trim().toLowerCase();
  if (!isRole(v)) fail('invalid_input', `"${value}" is not a role. Choose one of: ${roleList()}.`);
  return v;
}

/** A role's label, for people ("Admin"). */
export function describeRole(role: Role): string {
  return roleDefinition(role).label;
}

/** A role's label when a stored value may be a role (e.g. an event payload), or the value itself. */
export function describeStoredRole(value: unknown): string {
  return typeof value === 'string' && isRole(value) ? describeRole(value) : String(value);
}

/** A role with its article, for a sentence: "an owner", "a developer". */
export function aRole(role: Role): string {
  const d = roleDefinition(role);
  return `${d.article} ${d.label.toLowerCase()}`;
}

/** Role choices for a menu: value and label, in listing order. */
export function roleOptions(of: readonly Role[] = roles): { value: Role; label: string }[] {
  return of.map((r) => ({ value: r, label: describeRole(r) }));
}

const roleRank: Record<Role, number> = Object.fromEntries(builtInRoles.map((r) => [r.key, r.rank])) as Record<Role, number>;

/** The role that ranks highest (SCIM: several groups grant roles, the highest wins). */
export function highestRole(of: readonly Role[]): Role {
  return of.reduce((a, b) => (roleRank[b] > roleRank[a] ? b : a));
}
