import { fail } from './errors.js';
import { defaultRole, ownerRole, roleDefinition, roles, type Role } from './roles/catalogue.js';
import { permissionWords, type Permission } from './roles/permissions.js';

/**
 * Who may do what to whom: the one policy every domain function checks (authorize, assertCan…) and
 * every adapter asks (can, grantableRoles, memberActions, …) instead of naming roles.
 */
export { statements, type Permission, type Resource } from './roles/permissions.js';
export {
  credentialRoles,
  defaultRole,
  describeRole,
  describeStoredRole,
  aRole,
  exampleRole,
  highestRole,
  isRole,
  ownerRole,
  parseRole,
  roleList,
  roleOptions,
  roles,
  type Role,
} from './roles/catalogue.js';

const permissionsOf = new Map<Role, ReadonlySet<Permission>>(roles.map((r) => [r, new Set(roleDefinition(r).permissions)]));

export function can(role: Role, permission: Permission): boolean {
  return permissionsOf.get(role)!.has(permission);
}

/** The roles that hold a permission, in listing order. */
export function holdersOf(permission: Permission): Role[] {
  return roles.filter((r) => can(r, permission));
}

/** Who may, for a sentence: "owners", "owners and admins". */
export function whoMay(permission: Permission): string {
  const names = holdersOf(permission).map((r) => roleDefinition(r).plural);
  return names.length <= 1 ? (names[0] ?? 'nobody') : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
}

/** One who may, for a sentence: "an owner", "an owner or admin". */
export function oneWhoMay(permission: Permission): string {
  const held = holdersOf(permission);
  if (!held.length) return 'nobody';
  return `${roleDefinition(held[0]!).article} ${held.map((r) => roleDefinition(r).label.toLowerCase()).join(' or ')}`;
}

/** How someone stands in an org; `orgName` (a person's membership) lets refusals name the org they are about. */
export type Standing = { role: Role; status: 'active' | 'suspended' | 'pending'; orgName?: string; readOnly?: boolean };

/**
 * What a check guards: a change (the default), or a read. A read-only standing (an API key with scope
 * read) passes only reads, so a function that forgets to say it only reads refuses such a key.
 */
export type Access = 'read' | 'change';

/** The single permission check. Suspended members can do nothing. */
export function authorize(standing: Standing | undefined, permission: Permission, access: Access = 'change'): void {
  if (!standing) fail('not_a_member');
  if (standing.readOnly && access !== 'read') fail('forbidden', 'This API key may only read (its scope is read). Use a key with scope write.');
  if (standing.status === 'pending') fail('membership_pending');
  if (standing.status !== 'active') {
    fail(
      'forbidden',
      `Your membership in ${standing.orgName ?? 'this organization'} is suspended by your identity provider. Ask your IT admin to reactivate it.`,
    );
  }
  if (!can(standing.role, permission)) fail('forbidden', forbiddenMessage(permission, standing.orgName));
}

function forbiddenMessage(permission: Permission, orgName: string | undefined): string {
  const { does, namesHolders } = permissionWords[permission];
  const refusal = `have permission to ${does}${namesHolders ? ` (${whoMay(permission)} only)` : ''}.`;
  return orgName ? `In ${orgName}, you don't ${refusal}` : `You don't ${refusal}`;
}

/** Whether a role needs more than the permission to change members' roles (owner: owner:grant). */
function needsMoreThanMemberUpdate(target: Role): boolean {
  return roleDefinition(target).grantedWith !== 'member:update';
}

/** Whether someone with `role` may give `target` to anyone (invite as, change to). */
export function canGrant(role: Role, target: Role): boolean {
  return can(role, roleDefinition(target).grantedWith);
}

/** Whether someone with `role` may change or remove a member who currently has `targetRole`. */
export function canManage(role: Role, targetRole: Role): boolean {
  return canGrant(role, targetRole);
}

/** The roles someone with `role` may give (invite as, change to), in listing order. */
export function grantableRoles(role: Role): Role[] {
  return roles.filter((r) => canGrant(role, r));
}

/** The roles a join request may be approved as: what the approver may grant, never the owner role at once. */
export function joinApprovalRoles(role: Role): Role[] {
  return grantableRoles(role).filter((r) => r !== ownerRole);
}

/** The role a role menu starts on: the default role when offered, else the last (least) one. */
export function initialRole(offered: readonly Role[]): Role | undefined {
  return offered.includes(defaultRole) ? defaultRole : offered.at(-1);
}

/** Who decides join requests: those who may invite. */
export const joinRequestPermission: Permission = 'member:invite';

export function mayDecideJoinRequests(role: Role): boolean {
  return can(role, joinRequestPermission);
}

/** The roles whose active members are asked to decide a join request. */
export function joinRequestDeciders(): Role[] {
  return holdersOf(joinRequestPermission);
}

export function assertCanGrant(role: Role, target: Role): void {
  if (canGrant(role, target)) return;
  const t = roleDefinition(target);
  fail(
    'forbidden',
    needsMoreThanMemberUpdate(target)
      ? `Only ${whoMay(t.grantedWith)} can make someone ${t.article} ${t.label.toLowerCase()}.`
      : `Your role (${roleDefinition(role).label}) cannot give the ${t.label} role.`,
  );
}

export function assertCanManage(role: Role, targetRole: Role): void {
  if (canManage(role, targetRole)) return;
  const t = roleDefinition(targetRole);
  fail(
    'forbidden',
    needsMoreThanMemberUpdate(targetRole)
      ? `Only ${whoMay(t.grantedWith)} can change or remove ${t.article} ${t.label.toLowerCase()}.`
      : "You can't manage that member.",
  );
}

/** Overriding the IdP (SCIM) on a member it manages takes the permission to manage SCIM. */
export function assertMayOverrideIdp(role: Role): void {
  if (!can(role, 'scim:manage')) fail('forbidden', `Only ${oneWhoMay('scim:manage')} can override your identity provider (SCIM).`);
}

/** The people a menu is about: a viewer and a member of the same org. */
type MenuViewer = { accountId: string; role: Role };
type MenuMember = { accountId: string; role: Role; isPrimaryOwner: boolean; billingEmails: boolean };

/** What a viewer may do to another member; the domain functions check the same rules again. */
export function memberActions(
  viewer: MenuViewer,
  m: MenuMember,
): { changeRole: boolean; remove: boolean; stopBillingEmails: boolean; sendBillingEmails: boolean } {
  const other = m.accountId !== viewer.accountId;
  const manages = other && canManage(viewer.role, m.role);
  const billing = manages && can(viewer.role, 'billing:toggle_emails');
  return {
    changeRole: manages && can(viewer.role, 'member:update') && !m.isPrimaryOwner,
    remove: manages && can(viewer.role, 'member:remove') && !m.isPrimaryOwner,
    stopBillingEmails: billing && m.billingEmails && !m.isPrimaryOwner,
    sendBillingEmails: billing && !m.billingEmails,
  };
}

/** Whether a viewer may act on a pending or expired invite for `inviteRole` (change, resend, revoke). */
export function mayManageInvite(viewerRole: Role, inviteRole: Role): boolean {
  return can(viewerRole, 'member:invite') && canManage(viewerRole, inviteRole);
}
