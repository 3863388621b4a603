import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  credentialRoles,
  defaultRole,
  describeRole,
  describeStoredRole,
  grantableRoles,
  highestRole,
  initialRole,
  joinApprovalRoles,
  joinRequestDeciders,
  mayDecideJoinRequests,
  mayManageInvite,
  memberActions,
  oneWhoMay,
  ownerRole,
  roleList,
  roleOptions,
  roles,
  whoMay,
  type Role,
} from '../../src/domain/access.js';

const src = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src');

/** Only these files may name a role: the catalogue, and the schema that types the stored role keys (and the SCIM default). */
const catalogueFiles = ['domain/roles/catalogue.ts', 'db/schema/enums.ts', 'db/schema/orgs.ts'];
const allowedFolders = ['db/migrations/'];
/** Strings that happen to be spelled like a role but are not one, with why. */
const notRoles: { file: string; line: RegExp; why: string }[] = [
  { file: 'slack/ids.ts', line: /^\s*(billing|member): '\1',$/, why: 'Slack block_ids of the billing checkbox and the member picker' },
  {
    file: 'cli/commands/members.ts',
    line: /^\s*(const verbs = \[.*'billing'.*\] as const;|case 'billing': \{)$/,
    why: 'the CLI verb `roster members billing` (billing emails on|off)',
  },
];

const roleLiteral = /(['"`])(owner|admin|billing|developer|member)\1/;
const roleListProse = /owner, admin, billing/i;

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    return e.isDirectory() ? filesUnder(full) : /\.(ts|sql)$/.test(e.name) ? [full] : [];
  });
}

describe('the role catalogue is the only place that names a role', () => {
  it('no file in src/ outside the catalogue writes a role name as a string literal (SQL included) or lists the roles', () => {
    const found: string[] = [];
    for (const file of filesUnder(src)) {
      const rel = path.relative(src, file).split(path.sep).join('/');
      if (catalogueFiles.includes(rel) || allowedFolders.some((f) => rel.startsWith(f))) continue;
      readFileSync(file, 'utf8')
        .split('\n')
        .forEach((line, i) => {
          if (!roleLiteral.test(line) && !roleListProse.test(line)) return;
          if (notRoles.some((n) => n.file === rel && n.line.test(line))) return;
          found.push(`src/${rel}:${i + 1}: ${line.trim()}`);
        });
    }
    expect(found, 'ask src/domain/access.ts (the role catalogue and its policy) instead').toEqual([]);
  });

  it('the grep itself finds a literal role, in code and in SQL', () => {
    expect(roleLiteral.test("if (role === 'owner')")).toBe(true);
    expect(roleLiteral.test('sql`case role when "admin" then 1 end`')).toBe(true);
    expect(roleLiteral.test("can(role, 'member:invite')")).toBe(false);
  });
});

describe('the catalogue', () => {
  it('lists the five SPEC roles with their labels, in order', () => {
    expect(roleOptions()).toEqual([
      { value: 'owner', label: 'Owner' },
      { value: 'admin', label: 'Admin' },
      { value: 'billing', label: 'Billing' },
      { value: 'developer', label: 'Developer' },
      { value: 'member', label: 'Member' },
    ]);
    expect(roleList()).toBe('owner, admin, billing, developer, member');
    expect(describeRole('developer')).toBe('Developer');
    expect(roles).toHaveLength(5);
  });

  it('a stored value that is not a role is shown as it is', () => {
    expect(describeStoredRole('admin')).toBe('Admin');
    expect(describeStoredRole('wizard')).toBe('wizard');
  });

  it('the highest-ranked role wins (SCIM groups): owner > admin > developer > billing > member', () => {
    expect(highestRole(['member', 'billing'])).toBe('billing');
    expect(highestRole(['billing', 'developer'])).toBe('developer');
    expect(highestRole(['developer', 'admin', 'member'])).toBe('admin');
    expect(highestRole(['admin', 'owner'])).toBe('owner');
  });

  it('names the roles the domain rules rely on: the owner, the default, and what credentials act as', () => {
    expect(ownerRole).toBe('owner');
    expect(defaultRole).toBe('member');
    expect(credentialRoles).toEqual({ system: 'owner', scim: 'admin', api: 'owner' });
  });
});

describe('who may do what to whom', () => {
  it('says who may, from the permission', () => {
    expect(whoMay('org:update')).toBe('owners');
    expect(whoMay('member:invite')).toBe('owners and admins');
    expect(oneWhoMay('scim:manage')).toBe('an owner');
  });

  it('join requests are decided by owners and admins, and never approved as owner', () => {
    expect(joinRequestDeciders()).toEqual(['owner', 'admin']);
    expect(roles.filter(mayDecideJoinRequests)).toEqual(['owner', 'admin']);
    expect(joinApprovalRoles('owner')).toEqual(['admin', 'billing', 'developer', 'member']);
    expect(joinApprovalRoles('admin')).toEqual(['admin', 'billing', 'developer', 'member']);
    expect(joinApprovalRoles('member')).toEqual([]);
  });

  it('a role menu starts on the default role when it is offered, else on the last one', () => {
    expect(initialRole(grantableRoles('owner'))).toBe('member');
    expect(initialRole(['owner', 'admin'])).toBe('admin');
    expect(initialRole([])).toBeUndefined();
  });

  const member = (role: Role, extra: { isPrimaryOwner?: boolean; billingEmails?: boolean } = {}) => ({
    accountId: `m-${role}`,
    role,
    isPrimaryOwner: extra.isPrimaryOwner ?? false,
    billingEmails: extra.billingEmails ?? false,
  });

  it('nobody gets a menu for themselves', () => {
    expect(memberActions({ accountId: 'me', role: 'owner' }, { ...member('owner'), accountId: 'me' })).toEqual({
      changeRole: false,
      remove: false,
      stopBillingEmails: false,
      sendBillingEmails: false,
    });
  });

  it('an admin manages admins and below but not owners; an owner manages everyone but the primary owner', () => {
    const admin = { accountId: 'a', role: 'admin' as const };
    expect(memberActions(admin, member('owner'))).toEqual({ changeRole: false, remove: false, stopBillingEmails: false, sendBillingEmails: false });
    expect(memberActions(admin, member('admin'))).toEqual({ changeRole: true, remove: true, stopBillingEmails: false, sendBillingEmails: true });
    const owner = { accountId: 'o', role: 'owner' as const };
    expect(memberActions(owner, member('owner', { billingEmails: true }))).toEqual({
      changeRole: true,
      remove: true,
      stopBillingEmails: true,
      sendBillingEmails: false,
    });
    expect(memberActions(owner, member('owner', { isPrimaryOwner: true, billingEmails: true }))).toEqual({
      changeRole: false,
      remove: false,
      stopBillingEmails: false,
      sendBillingEmails: false,
    });
  });

  it('members, developers and billing members manage nobody', () => {
    for (const role of ['member', 'developer', 'billing'] as const) {
      for (const target of roles) {
        expect(memberActions({ accountId: 'v', role }, member(target))).toEqual({
          changeRole: false,
          remove: false,
          stopBillingEmails: false,
          sendBillingEmails: false,
        });
        expect(mayManageInvite(role, target)).toBe(false);
      }
    }
  });

  it('invites: owners manage any, admins all but owner invites', () => {
    expect(roles.filter((r) => mayManageInvite('owner', r))).toEqual([...roles]);
    expect(roles.filter((r) => mayManageInvite('admin', r))).toEqual(['admin', 'billing', 'developer', 'member']);
  });
});
