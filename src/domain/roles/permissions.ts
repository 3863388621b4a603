/**
 * Permissions as data: every action a role may take is declared here, so the compiler rejects an
 * undeclared one. Roles (catalogue.ts) are built from these; access.ts is the one place they are checked.
 */
export const statements = {
  org: ['view', 'update', 'delete'],
  member: ['view', 'invite', 'update', 'remove'],
  owner: ['grant'],
  resources: ['use', 'manage'],
  billing: ['view', 'toggle_emails'],
  scim: ['manage'],
  domain: ['manage'],
  api: ['manage'],
  audit: ['read'],
} as const;

type Statements = typeof statements;
export type Resource = keyof Statements;
export type Permission = { [R in Resource]: `${R}:${Statements[R][number]}` }[Resource];

/**
 * What each permission lets someone do, in words a refusal can use ("You don't have permission to …").
 * `namesHolders`: the refusal also says who may (from the catalogue), for the permissions few roles hold.
 */
export const permissionWords: Record<Permission, { does: string; namesHolders?: true }> = {
  'org:view': { does: 'view this organization' },
  'org:update': { does: 'rename the organization or change its settings', namesHolders: true },
  'org:delete': { does: 'delete the organization', namesHolders: true },
  'member:view': { does: 'view members' },
  'member:invite': { does: 'invite people', namesHolders: true },
  'member:update': { does: "change members' roles", namesHolders: true },
  'member:remove': { does: 'remove members', namesHolders: true },
  'owner:grant': { does: 'grant or revoke the owner role', namesHolders: true },
  'resources:use': { does: 'use organization resources' },
  'resources:manage': { does: 'manage organization resources' },
  'billing:view': { does: 'view billing' },
  'billing:toggle_emails': { does: 'change who receives billing emails', namesHolders: true },
  'scim:manage': { does: 'manage SCIM tokens', namesHolders: true },
  'domain:manage': { does: "manage the organization's verified domains", namesHolders: true },
  'api:manage': { does: 'manage API keys and webhooks', namesHolders: true },
  'audit:read': { does: 'read the audit log', namesHolders: true },
};
