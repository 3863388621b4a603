import type { Role } from '../db/schema.js';
import { fail } from './errors.js';

/**
 * Permissions as data (SPEC §3). Every action a role may take is declared here, roles are built from
 * these statements, and authorize() is the one place they are checked.
 */
export const statements = {
  org: ['view', 'update', 'delete'],
  member: ['view', 'invite', 'update', 'remove'],
  owner: ['grant'],
  resources: ['use', 'manage'],
  billing: ['view', 'toggle_emails'],
  scim: ['manage'],
  audit: ['read'],
} as const;

type Statements = typeof statements;
export type Resource = keyof Statements;
export type Permission = { [R in Resource]: `${R}:${Statements[R][number]}` }[Resource];

export const roles = ['owner', 'admin', 'billing', 'developer', 'member'] as const satisfies readonly Role[];
export type { Role };

const everyone: Permission[] = ['org:view', 'member:view'];

export const rolePermissions: Record<Role, ReadonlySet<Permission>> = {
  owner: new Set<Permission>([
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
    'audit:read',
  ]),
  admin: new Set<Permission>([
    ...everyone,
    'member:invite',
    'member:update',
    'member:remove',
    'resources:use',
    'resources:manage',
    'billing:view',
    'billing:toggle_emails',
    'audit:read',
  ]),
  billing: new Set<Permission>([...everyone, 'billing:view']),
  developer: new Set<Permission>([...everyone, 'resources:use', 'resources:manage']),
  member: new Set<Permission>([...everyone, 'resources:use']),
};

/** Rank used when several sources grant roles (e.g. SCIM groups): the highest wins. */
export const roleRank: Record<Role, number> = { owner: 5, admin: 4, developer: 3, billing: 2, member: 1 };

export const roleLabels: Record<Role, string> = {
  owner: 'Owner',
  admin: 'Admin',
  billing: 'Billing',
  developer: 'Developer',
  member: 'Member',
};

export function isRole(value: string): value is Role {
  return (roles as readonly string[]).includes(value);
}

export function parseRole(value: string): Role {
  const v = value.trim().toLowerCase();
  if (!isRole(v)) fail('invalid_input', `"${value}" is not a role. Choose one of: ${roles.join(', ')}.`);
  return v;
}

export function can(role: Role, permission: Permission): boolean {
  return rolePermissions[role].has(permission);
}

export type Standing = { role: Role; status: 'active' | 'suspended' };

/** The single permission check. Suspended members can do nothing. */
export function authorize(standing: Standing | undefined, permission: Permission): void {
  if (!standing) fail('not_a_member');
  if (standing.status !== 'active') {
    fail('forbidden', 'Your membership in this organization is suspended by your identity provider. Ask your IT admin to reactivate it.');
  }
  if (!can(standing.role, permission)) {
    fail('forbidden', `${forbiddenMessage(permission)}`);
  }
}

/** Whether someone with `role` may give `target` to anyone (invite as, change to). */
export function canGrant(role: Role, target: Role): boolean {
  if (target === 'owner') return can(role, 'owner:grant');
  return can(role, 'member:update');
}

/** Whether someone with `role` may change or remove a member who currently has `targetRole`. */
export function canManage(role: Role, targetRole: Role): boolean {
  return canGrant(role, targetRole);
}

export function grantableRoles(role: Role): Role[] {
  return roles.filter((r) => canGrant(role, r));
}

export function assertCanGrant(role: Role, target: Role): void {
  if (!canGrant(role, target)) {
    fail(
      'forbidden',
      target === 'owner'
        ? 'Only owners can make someone an owner.'
        : `Your role (${roleLabels[role]}) cannot give the ${roleLabels[target]} role.`,
    );
  }
}

export function assertCanManage(role: Role, targetRole: Role): void {
  if (!canManage(role, targetRole)) {
    fail(
      'forbidden',
      targetRole === 'owner' ? 'Only owners can change or remove an owner.' : "You can't manage that member.",
    );
  }
}

const permissionWords: Record<Permission, string> = {
  'org:view': 'view this organization',
  'org:update': 'rename the organization or change its settings (owners only)',
  'org:delete': 'delete the organization (owners only)',
  'member:view': 'view members',
  'member:invite': 'invite people (owners and admins only)',
  'member:update': "change members' roles (owners and admins only)",
  'member:remove': 'remove members (owners and admins only)',
  'owner:grant': 'grant or revoke the owner role (owners only)',
  'resources:use': 'use organization resources',
  'resources:manage': 'manage organization resources',
  'billing:view': 'view billing',
  'billing:toggle_emails': 'change who receives billing emails (owners and admins only)',
  'scim:manage': 'manage SCIM tokens (owners only)',
  'audit:read': 'read the audit log (owners and admins only)',
};

function forbiddenMessage(permission: Permission): string {
  return `You don't have permission to ${permissionWords[permission]}.`;
}
