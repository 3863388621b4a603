import { z } from 'zod';
import type { WebhookDeliveryView, WebhookEndpointView } from '../../domain/webhooks/index.js';
import { defineRoute } from '../route.js';
import { orgIdOf, orgParams } from './orgs.js';

const endpointSchema = z.object({
  id: z.uuid(),
  url: z.string(),
  description: z.string().nullable(),
  events: z.array(z.string()).describe('Event types sent to it; empty: every type.'),
  enabled: z.boolean(),
  disabledReason: z.string().nullable().describe('Why Roster stopped sending to it (or "disabled by hand").'),
  failingSince: z.iso.datetime().nullable(),
  createdAt: z.iso.datetime(),
  pending: z.number().int().optional().describe('Deliveries waiting to be sent.'),
});

function endpointOut(e: WebhookEndpointView) {
  return {
    id: e.id,
    url: e.url,
    description: e.description,
    events: e.events,
    enabled: e.enabled,
    disabledReason: e.disabledReason,
    failingSince: e.failingSince?.toISOString() ?? null,
    createdAt: e.createdAt.toISOString(),
    ...(e.pending !== undefined ? { pending: e.pending } : {}),
  };
}

const iso = (d: Date | null) => d?.toISOString() ?? null;
function deliveryOut(d: WebhookDeliveryView) {
  return {
    ...d,
    status: d.status as 'pending' | 'sent' | 'failed',
    nextAttemptAt: iso(d.nextAttemptAt),
    lastAttemptAt: iso(d.lastAttemptAt),
    deliveredAt: iso(d.deliveredAt),
  };
}

const endpointParams = orgParams.extend({ webhook: z.uuid({ error: 'The webhook id is a UUID.' }) });
const url = z.string().max(2000).describe('Where events are POSTed: an http:// or https:// URL on a public address.');
const events = z.array(z.string().max(80)).max(100).describe('Event types, e.g. ["member.role_changed", "invite.accepted"]; none or empty: every type.');

export const listWebhooks = defineRoute({
  method: 'get',
  path: '/orgs/:org/webhooks',
  summary: "An organization's webhook endpoints",
  tags: ['Webhooks'],
  params: orgParams,
  ok: { status: 200, schema: z.object({ webhooks: z.array(endpointSchema) }), description: 'Its endpoints, oldest first.' },
  problems: [403, 404],
  handle: async ({ actor, domain, params }) => {
    const orgId = await orgIdOf(domain, params.org);
    return { webhooks: (await domain.webhooks.list(actor, orgId)).map(endpointOut) };
  },
});

export const createWebhook = defineRoute({
  method: 'post',
  path: '/orgs/:org/webhooks',
  summary: 'Add a webhook endpoint',
  description:
    'Events of the organization are POSTed to it as they happen, in order, signed per Standard Webhooks (headers webhook-id, webhook-timestamp, webhook-signature; body {type, timestamp, data}, data as the events feed gives it). The answer holds its signing secret (whsec_…): it is shown only here.',
  tags: ['Webhooks'],
  params: orgParams,
  body: z.object({ url, events: events.optional(), description: z.string().max(200).optional() }).strict(),
  ok: { status: 201, schema: endpointSchema.extend({ secret: z.string().describe('whsec_…: verify signatures with it. Shown once.') }), description: 'Added.' },
  problems: [400, 403, 404, 409],
  handle: async ({ actor, domain, params, body }) => {
    const orgId = await orgIdOf(domain, params.org);
    const made = await domain.webhooks.create(actor, orgId, body);
    return { ...endpointOut(made.endpoint), secret: made.secret };
  },
});

export const getWebhook = defineRoute({
  method: 'get',
  path: '/orgs/:org/webhooks/:webhook',
  summary: 'A webhook endpoint',
  tags: ['Webhooks'],
  params: endpointParams,
  ok: { status: 200, schema: endpointSchema, description: 'The endpoint.' },
  problems: [400, 403, 404],
  handle: async ({ actor, domain, params }) => {
    const orgId = await orgIdOf(domain, params.org);
    return endpointOut(await domain.webhooks.get(actor, orgId, params.webhook));
  },
});

export const patchWebhook = defineRoute({
  method: 'patch',
  path: '/orgs/:org/webhooks/:webhook',
  summary: 'Change a webhook endpoint',
  description: 'Its URL, event types or description; `enabled: true` turns on again an endpoint Roster disabled (its waiting deliveries then go, in order).',
  tags: ['Webhooks'],
  params: endpointParams,
  body: z
    .object({ url: url.optional(), events: events.optional(), description: z.string().max(200).nullable().optional(), enabled: z.boolean().optional() })
    .strict(),
  ok: { status: 200, schema: endpointSchema, description: 'The endpoint as it is now.' },
  problems: [400, 403, 404],
  handle: async ({ actor, domain, params, body }) => {
    const orgId = await orgIdOf(domain, params.org);
    return endpointOut(await domain.webhooks.update(actor, orgId, params.webhook, body));
  },
});

export const deleteWebhook = defineRoute({
  method: 'delete',
  path: '/orgs/:org/webhooks/:webhook',
  summary: 'Remove a webhook endpoint',
  description: 'Nothing more is sent to it, and its waiting deliveries are dropped.',
  tags: ['Webhooks'],
  params: endpointParams,
  ok: { status: 204, description: 'Removed.' },
  problems: [400, 403, 404],
  handle: async ({ actor, domain, params }) => {
    const orgId = await orgIdOf(domain, params.org);
    await domain.webhooks.remove(actor, orgId, params.webhook);
    return undefined;
  },
});

export const rotateWebhookSecret = defineRoute({
  method: 'post',
  path: '/orgs/:org/webhooks/:webhook/rotate-secret',
  summary: "Rotate a webhook endpoint's secret",
  description:
    'A new secret, shown once. For 24 hours deliveries carry signatures by both the new and the previous secret, so the receiver can switch without missing one.',
  tags: ['Webhooks'],
  params: endpointParams,
  ok: { status: 200, schema: z.object({ secret: z.string(), previousValidUntil: z.iso.datetime() }), description: 'The new secret.' },
  problems: [400, 403, 404],
  handle: async ({ actor, domain, params }) => {
    const orgId = await orgIdOf(domain, params.org);
    const r = await domain.webhooks.rotateSecret(actor, orgId, params.webhook);
    return { secret: r.secret, previousValidUntil: r.previousValidUntil.toISOString() };
  },
});

export const replayWebhook = defineRoute({
  method: 'post',
  path: '/orgs/:org/webhooks/:webhook/replay',
  summary: 'Send again what an endpoint missed',
  description:
    'Queues again, in order and with their original webhook-id, the deliveries to this endpoint that failed since `since`, and the events since then it never got. Delivered ones are not sent twice.',
  tags: ['Webhooks'],
  params: endpointParams,
  query: z.object({
    since: z.iso.datetime({ offset: true, error: 'since is a date and time, e.g. 2026-12-01T00:00:00Z' }).describe('e.g. 2026-12-01T00:00:00Z'),
  }),
  ok: { status: 200, schema: z.object({ queued: z.number().int() }), description: 'How many deliveries were queued.' },
  problems: [400, 403, 404],
  handle: async ({ actor, domain, params, query }) => {
    const orgId = await orgIdOf(domain, params.org);
    return domain.webhooks.replay(actor, orgId, params.webhook, new Date(query.since));
  },
});

export const listWebhookDeliveries = defineRoute({
  method: 'get',
  path: '/orgs/:org/webhooks/:webhook/deliveries',
  summary: "An endpoint's latest deliveries",
  tags: ['Webhooks'],
  params: endpointParams,
  query: z.object({ limit: z.coerce.number().int().min(1).max(500).default(50) }),
  ok: {
    status: 200,
    schema: z.object({
      deliveries: z.array(
        z.object({
          id: z.string().describe('The webhook-id header it was (or will be) sent with.'),
          eventId: z.string(),
          sequence: z.number().int(),
          status: z.enum(['pending', 'sent', 'failed']),
          attempts: z.number().int(),
          nextAttemptAt: z.iso.datetime().nullable(),
          lastAttemptAt: z.iso.datetime().nullable(),
          lastStatus: z.number().int().nullable(),
          lastError: z.string().nullable(),
          deliveredAt: z.iso.datetime().nullable(),
        }),
      ),
    }),
    description: 'Newest first.',
  },
  problems: [400, 403, 404],
  handle: async ({ actor, domain, params, query }) => {
    const orgId = await orgIdOf(domain, params.org);
    const list = await domain.webhooks.deliveries(actor, orgId, params.webhook, query.limit);
    return { deliveries: list.map(deliveryOut) };
  },
});
