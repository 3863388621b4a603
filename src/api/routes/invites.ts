import { z } from 'zod';
import type { InviteRow } from '../../db/schema.js';
import { inviteUrl } from '../../domain/invites/state.js';
import { defineRoute } from '../route.js';
import { orgIdOf, orgParams } from './orgs.js';

const inviteSchema = z.object({
  id: z.uuid(),
  email: z.string(),
  role: z.string(),
  billingEmails: z.boolean(),
  state: z.enum(['pending', 'expired', 'accepted', 'declined', 'revoked']),
  expiresAt: z.iso.datetime().nullable(),
  createdAt: z.iso.datetime(),
});

function inviteOut(i: InviteRow & { state?: string }) {
  return {
    id: i.id,
    email: i.email,
    role: i.role,
    billingEmails: i.billingEmails,
    state: (i.state ?? i.status) as z.infer<typeof inviteSchema>['state'],
    expiresAt: i.expiresAt ? i.expiresAt.toISOString() : null,
    createdAt: i.createdAt.toISOString(),
  };
}

export const listInvites = defineRoute({
  method: 'get',
  path: '/orgs/:org/invites',
  summary: "An organization's pending invites",
  tags: ['Invites'],
  params: orgParams,
  ok: { status: 200, schema: z.object({ invites: z.array(inviteSchema) }), description: 'Pending invites, oldest first.' },
  problems: [403, 404],
  handle: async ({ actor, domain, params }) => {
    const orgId = await orgIdOf(domain, params.org);
    return { invites: (await domain.invites.listPending(actor, orgId)).map(inviteOut) };
  },
});

export const createInvitesBody = z
  .object({
    emails: z.array(z.string().max(320)).min(1).max(100).describe('Up to 100 addresses.'),
    role: z.string().min(1).max(40).optional().describe('A role key (default: member).'),
    billingEmails: z.boolean().optional(),
  })
  .strict();

export const createInvites = defineRoute({
  method: 'post',
  path: '/orgs/:org/invites',
  summary: 'Invite people',
  description:
    'One result per address: the invite (with its link, which accepts it: share it only with that person), or why that address was refused. Each invitee is emailed.',
  tags: ['Invites'],
  params: orgParams,
  body: createInvitesBody,
  ok: {
    status: 200,
    schema: z.object({
      results: z.array(
        z.union([
          z.object({ email: z.string(), ok: z.literal(true), invite: inviteSchema, url: z.string() }),
          z.object({ email: z.string(), ok: z.literal(false), code: z.string(), detail: z.string() }),
        ]),
      ),
    }),
    description: 'A result per address.',
  },
  problems: [400, 403, 404, 409],
  handle: async ({ actor, domain, params, body, publicUrl, kickOutbox }) => {
    const orgId = await orgIdOf(domain, params.org);
    const results = await domain.invites.create(actor, orgId, {
      emails: body.emails,
      ...(body.role ? { role: body.role } : {}),
      billingEmails: body.billingEmails ?? false,
    });
    kickOutbox();
    return {
      results: results.map((r) =>
        r.ok
          ? { email: r.email, ok: true as const, invite: inviteOut({ ...r.invite, state: 'pending' }), url: inviteUrl(publicUrl, r.token) }
          : { email: r.email, ok: false as const, code: r.code, detail: r.message },
      ),
    };
  },
});

export const revokeInvite = defineRoute({
  method: 'delete',
  path: '/orgs/:org/invites/:invite',
  summary: 'Revoke an invite',
  description: 'Its link stops working at once.',
  tags: ['Invites'],
  params: orgParams.extend({ invite: z.uuid({ error: 'The invite id is a UUID.' }) }),
  ok: { status: 204, description: 'Revoked.' },
  problems: [400, 403, 404, 409],
  handle: async ({ actor, domain, params }) => {
    const orgId = await orgIdOf(domain, params.org);
    await domain.invites.revoke(actor, params.invite, { orgId });
    return undefined;
  },
});
