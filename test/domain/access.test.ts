import { describe, expect, it } from 'vitest';
import { storedRoles } from '../../src/db/schema.js';
import {
  assertCanGrant,
  assertCanManage,
  authorize,
  can,
  canGrant,
  canManage,
  grantableRoles,
  parseRole,
  roles,
  statements,
  type Permission,
  type Role,
} from '../../src/domain/access.js';
import { DomainError } from '../../src/domain/errors.js';

/** Every permission the code declares, derived from the statements so a new one cannot slip past this file. */
const declaredPermissions = (Object.keys(statements) as (keyof typeof statements)[]).flatMap((resource) =>
  statements[resource].map((action) => `${resource}:${action}` as Permission),
);

const Y = true;
const N = false;

/**
 * SPEC §3, row by row. Columns: owner, admin, billing, developer, member.
 * The SPEC rows that bundle several actions expand into one line per permission.
 */
const matrix: { row: string; permission: Permission; allowed: [boolean, boolean, boolean, boolean, boolean] }[] = [
  { row: 'view org, members, own invites', permission: 'org:view', allowed: [Y, Y, Y, Y, Y] },
  { row: 'view org, members, own invites', permission: 'member:view', allowed: [Y, Y, Y, Y, Y] },
  { row: 'use org resources', permission: 'resources:use', allowed: [Y, Y, N, Y, Y] },
  { row: 'manage org resources (create/delete)', permission: 'resources:manage', allowed: [Y, Y, N, Y, N] },
  { row: 'view billing / manage payment', permission: 'billing:view', allowed: [Y, Y, Y, N, N] },
  { row: 'invite, change roles, remove members', permission: 'member:invite', allowed: [Y, Y, N, N, N] },
  { row: 'invite, change roles, remove members', permission: 'member:update', allowed: [Y, Y, N, N, N] },
  { row: 'invite, change roles, remove members', permission: 'member:remove', allowed: [Y, Y, N, N, N] },
  { row: 'grant or revoke owner', permission: 'owner:grant', allowed: [Y, N, N, N, N] },
  { row: 'toggle billing emails of members', permission: 'billing:toggle_emails', allowed: [Y, Y, N, N, N] },
  { row: 'rename org, settings, SCIM tokens, delete org', permission: 'org:update', allowed: [Y, N, N, N, N] },
  { row: 'rename org, settings, SCIM tokens, delete org', permission: 'org:delete', allowed: [Y, N, N, N, N] },
  { row: 'rename org, settings, SCIM tokens, delete org', permission: 'scim:manage', allowed: [Y, N, N, N, N] },
  { row: 'read audit log', permission: 'audit:read', allowed: [Y, Y, N, N, N] },
  // SPEC §10: owners verify email domains for their org.
  { row: 'verify email domains (SPEC §10)', permission: 'domain:manage', allowed: [Y, N, N, N, N] },
  { row: 'manage API keys and webhooks (issue 14)', permission: 'api:manage', allowed: [Y, N, N, N, N] },
];

const specRoles: Role[] = ['owner', 'admin', 'billing', 'developer', 'member'];

const cases = matrix.flatMap(({ row, permission, allowed }) => specRoles.map((role, i) => ({ row, permission, role, expected: allowed[i]! })));

function thrown(fn: () => unknown): DomainError {
  try {
    fn();
  } catch (err) {
    if (err instanceof DomainError) return err;
    throw err;
  }
  throw new Error('expected a DomainError, nothing was thrown');
}

describe('roles', () => {
  it('the five SPEC roles are exactly the role keys the database schema types', () => {
    expect([...roles]).toEqual(specRoles);
    expect([...storedRoles].sort()).toEqual([...specRoles].sort());
  });

  it('the matrix in this file covers every declared permission exactly once', () => {
    expect(matrix.map((m) => m.permission).sort()).toEqual([...declaredPermissions].sort());
  });
});

describe('SPEC §3 permission matrix', () => {
  it.each(cases)('$role: $permission ($row) → $expected', ({ role, permission, expected }) => {
    expect(can(role, permission)).toBe(expected);
    const active = { role, status: 'active' as const };
    if (expected) {
      expect(() => authorize(active, permission)).not.toThrow();
    } else {
      const err = thrown(() => authorize(active, permission));
      expect(err.code).toBe('forbidden');
      expect(err.message).toMatch(/permission/);
    }
  });

  it('a refusal names what was not allowed and who may do it', () => {
    const err = thrown(() => authorize({ role: 'admin', status: 'active' }, 'org:delete'));
    expect(err.code).toBe('forbidden');
    expect(err.message).toMatch(/delete the organization/);
    expect(err.message).toMatch(/owners only/);
    const audit = thrown(() => authorize({ role: 'member', status: 'active' }, 'audit:read'));
    expect(audit.message).toMatch(/audit log/);
  });
});

describe('suspended members and non-members', () => {
  it.each(specRoles)('a suspended %s can do nothing, not even view the org', (role) => {
    for (const permission of declaredPermissions) {
      const err = thrown(() => authorize({ role, status: 'suspended' }, permission));
      expect(err.code).toBe('forbidden');
    }
  });

  it('someone without a membership is told they are not a member', () => {
    const err = thrown(() => authorize(undefined, 'org:view'));
    expect(err.code).toBe('not_a_member');
    expect(err.message).toMatch(/not a member/);
  });
});

describe('granting roles', () => {
  const grantCases: { granter: Role; target: Role; expected: boolean }[] = specRoles.flatMap((granter) =>
    specRoles.map((target) => ({
      granter,
      target,
      expected: granter === 'owner' || (granter === 'admin' && target !== 'owner'),
    })),
  );

  it.each(grantCases)('a(n) $granter may grant $target → $expected', ({ granter, target, expected }) => {
    expect(canGrant(granter, target)).toBe(expected);
    if (expected) expect(() => assertCanGrant(granter, target)).not.toThrow();
    else expect(thrown(() => assertCanGrant(granter, target)).code).toBe('forbidden');
  });

  it('only owners grant owner', () => {
    expect(specRoles.filter((r) => canGrant(r, 'owner'))).toEqual(['owner']);
    expect(thrown(() => assertCanGrant('admin', 'owner')).message).toMatch(/Only owners can make someone an owner/);
  });

  it('an admin cannot grant owner but grants admin, billing, developer and member', () => {
    expect(canGrant('admin', 'owner')).toBe(false);
    for (const r of ['admin', 'billing', 'developer', 'member'] as const) expect(canGrant('admin', r)).toBe(true);
  });

  it('a refused grant names the role that was asked for', () => {
    const err = thrown(() => assertCanGrant('developer', 'member'));
    expect(err.code).toBe('forbidden');
    expect(err.message).toMatch(/Developer/);
    expect(err.message).toMatch(/Member/);
  });

  it('grantableRoles lists exactly what each role may give', () => {
    expect(grantableRoles('owner')).toEqual(['owner', 'admin', 'billing', 'developer', 'member']);
    expect(grantableRoles('admin')).toEqual(['admin', 'billing', 'developer', 'member']);
    expect(grantableRoles('billing')).toEqual([]);
    expect(grantableRoles('developer')).toEqual([]);
    expect(grantableRoles('member')).toEqual([]);
  });

  it('an admin cannot change or remove an owner, but manages admins and below', () => {
    expect(canManage('admin', 'owner')).toBe(false);
    expect(thrown(() => assertCanManage('admin', 'owner')).message).toMatch(/Only owners can change or remove an owner/);
    for (const r of ['admin', 'billing', 'developer', 'member'] as const) expect(canManage('admin', r)).toBe(true);
    for (const r of specRoles) expect(canManage('owner', r)).toBe(true);
    for (const r of specRoles) expect(canManage('member', r)).toBe(false);
  });
});

describe('parseRole', () => {
  it('accepts " Admin " case-insensitively, trimmed', () => {
    expect(parseRole(' Admin ')).toBe('admin');
    expect(parseRole('OWNER')).toBe('owner');
    for (const r of specRoles) expect(parseRole(r)).toBe(r);
  });

  it.each(['superuser', '', 'admins', 'root', 'own er'])('rejects the unknown role %j with a message listing the roles', (value) => {
    const err = thrown(() => parseRole(value));
    expect(err.code).toBe('invalid_input');
    expect(err.message).toContain('owner, admin, billing, developer, member');
    expect(err.message).toContain(`"${value}" is not a role`);
  });
});
