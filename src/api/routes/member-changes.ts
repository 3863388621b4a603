import { z } from 'zod';
import { defineRoute } from '../route.js';
import { memberOut, memberSchema } from '../schemas.js';
import { memberParams, whoOf } from './members.js';
import { orgIdOf } from './orgs.js';

/** Changes to a member, through the same domain functions (same rules, same audit, `via: api`) as Slack and the CLI. */

const forceQuery = z.object({
  force: z
    .enum(['true', 'false'])
    .optional()
    .describe("true: change what the org's identity provider (SCIM) manages anyway (the same override an owner has in Slack)."),
});

export const patchMemberBody = z
  .object({
    role: z.string().min(1).max(40).optional().describe('A role key, e.g. admin.'),
    billingEmails: z.boolean().optional().describe('Whether they receive billing emails.'),
  })
  .strict()
  // One change per request, each in its own transaction: a refused one leaves nothing half done.
  .refine((b) => (b.role === undefined) !== (b.billingEmails === undefined), { error: 'Send either role or billingEmails (one change per request).' });

export const patchMember = defineRoute({
  method: 'patch',
  path: '/orgs/:org/members/:member',
  summary: "Change a member's role, or whether they receive billing emails",
  tags: ['Members'],
  params: memberParams,
  query: forceQuery,
  body: patchMemberBody,
  ok: { status: 200, schema: memberSchema, description: 'The member as they are now.' },
  problems: [400, 403, 404, 409],
  handle: async ({ actor, domain, params, query, body }) => {
    const orgId = await orgIdOf(domain, params.org);
    const target = await domain.members.find(actor, orgId, whoOf(params.member));
    const now =
      body.role !== undefined
        ? await domain.members.changeRole(actor, orgId, target.accountId, body.role, { force: query.force === 'true' })
        : await domain.members.setBillingEmails(actor, orgId, target.accountId, body.billingEmails!);
    return memberOut(now);
  },
});

export const deleteMember = defineRoute({
  method: 'delete',
  path: '/orgs/:org/members/:member',
  summary: 'Remove a member',
  description: 'Their access ends at once. The primary owner and the last owner cannot be removed.',
  tags: ['Members'],
  params: memberParams,
  query: forceQuery,
  ok: { status: 204, description: 'Removed.' },
  problems: [403, 404, 409],
  handle: async ({ actor, domain, params, query }) => {
    const orgId = await orgIdOf(domain, params.org);
    const target = await domain.members.find(actor, orgId, whoOf(params.member));
    await domain.members.remove(actor, orgId, target.accountId, { force: query.force === 'true' });
    return undefined;
  },
});
