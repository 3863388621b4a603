import { z } from 'zod';
import { roles } from '../domain/access.js';

/** What the API answers with: the host product's view of Roster's records (no internal columns). */

const roleEnum = z.enum(roles as [string, ...string[]]).describe('A role key, e.g. owner, admin, member.');
const statusEnum = z.enum(['active', 'suspended', 'pending']);
const isoDate = z.iso.datetime();

export const problemSchema = z.object({
  type: z.string(),
  status: z.number().int(),
  code: z.string().describe("The domain's error code, stable across versions (e.g. member_not_found, last_owner)."),
  title: z.string(),
  detail: z.string().describe('What went wrong and what to do, in words for a person.'),
  field: z.string().optional(),
});

export const orgSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  slug: z.string().describe('The URL name; any endpoint takes it in place of the id.'),
  primaryOwnerId: z.uuid(),
  inviteExpiryHours: z.number().int().nullable(),
  seatLimit: z.number().int().nullable(),
  createdAt: isoDate,
});

export const memberSchema = z.object({
  accountId: z.uuid(),
  email: z.string().nullable(),
  displayName: z.string(),
  role: roleEnum,
  status: statusEnum,
  billingEmails: z.boolean(),
  source: z.string().describe('How they joined: creator, invite, join_request, scim, cli, domain.'),
  managedByIdp: z.boolean().describe("Whether the org's identity provider (SCIM) manages this membership or its role."),
  isPrimaryOwner: z.boolean(),
  joinedAt: isoDate,
});

export const memberPageSchema = z.object({
  members: z.array(memberSchema),
  next: z.string().nullable().describe('Pass as `after` for the next page; null on the last page.'),
});

export const accessAnswerSchema = z.object({
  allowed: z.boolean(),
  role: roleEnum.nullable(),
  status: statusEnum.nullable(),
  reason: z.enum(['allowed', 'not_a_member', 'pending', 'suspended', 'missing_permission']),
});

export const userOrgsSchema = z.object({
  orgs: z.array(z.object({ id: z.uuid(), name: z.string(), slug: z.string(), role: roleEnum, status: statusEnum, joinedAt: isoDate })),
});

type OrgLike = { id: string; name: string; slug: string; primaryOwnerId: string; inviteExpiryHours: number | null; seatLimit: number | null; createdAt: Date };
export function orgOut(o: OrgLike): z.input<typeof orgSchema> {
  return {
    id: o.id,
    name: o.name,
    slug: o.slug,
    primaryOwnerId: o.primaryOwnerId,
    inviteExpiryHours: o.inviteExpiryHours,
    seatLimit: o.seatLimit,
    createdAt: o.createdAt.toISOString(),
  };
}

type MemberLike = {
  accountId: string;
  email: string | null;
  displayName: string;
  role: string;
  status: 'active' | 'suspended' | 'pending';
  billingEmails: boolean;
  source: string;
  scimBaseRole: string | null;
  isPrimaryOwner: boolean;
  joinedAt: Date;
};
export function memberOut(m: MemberLike): z.input<typeof memberSchema> {
  return {
    accountId: m.accountId,
    email: m.email,
    displayName: m.displayName,
    role: m.role,
    status: m.status,
    billingEmails: m.billingEmails,
    source: m.source,
    managedByIdp: m.source === 'scim' || m.scimBaseRole !== null,
    isPrimaryOwner: m.isPrimaryOwner,
    joinedAt: m.joinedAt.toISOString(),
  };
}
