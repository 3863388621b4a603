import { z } from 'zod';
import { permissionSchema, subjectSchema } from '../../domain/authorization.js';
import type { Domain } from '../../domain/index.js';
import { fail, isDomainError } from '../../domain/errors.js';
import { isUuid } from '../../domain/validation.js';
import { defineRoute } from '../route.js';
import { accessAnswerSchema, orgOut, orgSchema } from '../schemas.js';

export const orgParams = z.object({ org: z.string().min(1).max(100).describe('The org id or URL name (slug).') });

/**
 * The org a path names, by id or slug. An id goes to the domain as it is (which refuses an org the key
 * cannot see with the same 404 as one that does not exist); a slug is looked up first.
 */
export async function orgIdOf(domain: Domain, ref: string): Promise<string> {
  if (isUuid(ref)) return ref.toLowerCase();
  try {
    return (await domain.orgs.findBySlug(ref)).id;
  } catch (err) {
    // The same words as for an org the key may not see (the domain's bare org_not_found): a key cannot
    // learn which URL names exist.
    if (isDomainError(err, 'org_not_found')) fail('org_not_found');
    throw err;
  }
}

export const getOrg = defineRoute({
  method: 'get',
  path: '/orgs/:org',
  summary: 'An organization',
  tags: ['Organizations'],
  params: orgParams,
  ok: { status: 200, schema: orgSchema, description: 'The organization.' },
  problems: [404],
  handle: async ({ actor, domain, params }) => orgOut(await domain.orgs.get(actor, await orgIdOf(domain, params.org))),
});

export const authorizeBody = z.object({ user: subjectSchema, permission: permissionSchema }).strict();

export const authorizeInOrg = defineRoute({
  method: 'post',
  path: '/orgs/:org/authorize',
  summary: 'May this person do this in this organization?',
  description:
    'The call a product makes on every request: the person (by email, account id, or Slack team and user) and a permission. `allowed` is true only for an active member whose role holds the permission; `reason` says why not.',
  tags: ['Authorization'],
  params: orgParams,
  body: authorizeBody,
  ok: { status: 200, schema: accessAnswerSchema, description: 'The answer (a person who is not a member is allowed: false, not an error).' },
  problems: [400, 404],
  handle: async ({ actor, domain, params, body }) => {
    const orgId = await orgIdOf(domain, params.org);
    return domain.authorization.check(actor, orgId, { subject: body.user, permission: body.permission });
  },
});
