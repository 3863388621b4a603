import { z } from 'zod';
import { isUuid } from '../../domain/validation.js';
import { defineRoute } from '../route.js';
import { memberOut, memberPageSchema, memberSchema } from '../schemas.js';
import { orgIdOf, orgParams } from './orgs.js';

const MAX_LIMIT = 200;

/** Opaque to clients: where the next page starts. */
const cursorOf = (offset: number) => Buffer.from(JSON.stringify({ o: offset })).toString('base64url');
function offsetOf(cursor: string | undefined): number | undefined {
  if (!cursor) return 0;
  try {
    const o = (JSON.parse(Buffer.from(cursor, 'base64url').toString()) as { o?: unknown }).o;
    return typeof o === 'number' && Number.isInteger(o) && o >= 0 && o <= 1_000_000_000 ? o : undefined;
  } catch {
    return undefined;
  }
}

const listQuery = z.object({
  limit: z.coerce.number().int().min(1).max(MAX_LIMIT).default(50).describe(`Members per page, 1–${MAX_LIMIT} (default 50).`),
  after: z
    .string()
    .max(200)
    .optional()
    .refine((c) => offsetOf(c) !== undefined, { error: 'is not a cursor this API gave out' })
    .describe('The `next` cursor of the previous page.'),
});

export const listMembers = defineRoute({
  method: 'get',
  path: '/orgs/:org/members',
  summary: "An organization's members",
  description: 'Owners first, then by role and name; paged with an opaque cursor.',
  tags: ['Members'],
  params: orgParams,
  query: listQuery,
  ok: { status: 200, schema: memberPageSchema, description: 'A page of members.' },
  problems: [400, 404],
  handle: async ({ actor, domain, params, query }) => {
    const orgId = await orgIdOf(domain, params.org);
    const offset = offsetOf(query.after) ?? 0;
    // One more than asked: whether there is a next page.
    const rows = await domain.members.list(actor, orgId, { limit: query.limit + 1, offset });
    const page = rows.slice(0, query.limit);
    return { members: page.map(memberOut), next: rows.length > query.limit ? cursorOf(offset + query.limit) : null };
  },
});

export const memberParams = orgParams.extend({
  member: z.string().min(1).max(320).describe('The member: their account id, or their email address.'),
});

/** A member by account id or email (the path says which: an id is a UUID). */
export function whoOf(member: string): { accountId: string } | { email: string } {
  return isUuid(member) ? { accountId: member } : { email: member };
}

export const getMember = defineRoute({
  method: 'get',
  path: '/orgs/:org/members/:member',
  summary: 'One member',
  tags: ['Members'],
  params: memberParams,
  ok: { status: 200, schema: memberSchema, description: 'The member.' },
  problems: [400, 404],
  handle: async ({ actor, domain, params }) => {
    const orgId = await orgIdOf(domain, params.org);
    return memberOut(await domain.members.find(actor, orgId, whoOf(params.member)));
  },
});
