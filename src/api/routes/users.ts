import { z } from 'zod';
import { emailSchema } from '../../domain/validation.js';
import { defineRoute } from '../route.js';
import { userOrgsSchema } from '../schemas.js';

export const userOrgs = defineRoute({
  method: 'get',
  path: '/users/:email/orgs',
  summary: "A person's organizations (operator keys)",
  description: 'Every organization the person with this email belongs to, with role and status. Needs an operator key: an org key sees one org only.',
  tags: ['Users'],
  params: z.object({ email: emailSchema.describe('Their email address.') }),
  ok: { status: 200, schema: userOrgsSchema, description: 'Their organizations (none: an empty list).' },
  problems: [400, 403],
  handle: async ({ actor, domain, params }) => {
    const rows = await domain.authorization.orgsOf(actor, { subject: { email: params.email } });
    return { orgs: rows.map((r) => ({ id: r.orgId, name: r.name, slug: r.slug, role: r.role, status: r.status, joinedAt: r.joinedAt.toISOString() })) };
  },
});
