import { z } from 'zod';
import { FEED_MAX_PAGE } from '../../domain/feed.js';
import { defineRoute } from '../route.js';
import { orgIdOf, orgParams } from './orgs.js';

/** Opaque to clients, stable across processes and restarts: the last sequence number seen. */
const cursorOf = (seq: number) => Buffer.from(`seq:${seq}`).toString('base64url');
function seqOf(cursor: string | undefined): number | undefined {
  if (!cursor) return 0;
  const m = /^seq:(\d{1,15})$/.exec(Buffer.from(cursor, 'base64url').toString());
  return m ? Number(m[1]) : undefined;
}

const eventSchema = z.object({
  id: z.string().describe('Stable and unique: the same event always has the same id.'),
  type: z.string().describe('e.g. member.role_changed, invite.accepted.'),
  org: z.uuid(),
  sequence: z.number().int().describe("The event's place in its org's order: 1, 2, 3 …"),
  occurredAt: z.iso.datetime(),
  actor: z.object({ type: z.string(), id: z.string().nullable(), label: z.string().nullable(), via: z.string().nullable() }),
  subject: z.object({ type: z.string(), id: z.string().nullable() }),
  data: z.object({ before: z.unknown(), after: z.unknown() }),
});

export const listEvents = defineRoute({
  method: 'get',
  path: '/orgs/:org/events',
  summary: "An organization's events, in order",
  description:
    'Poll with the `next` of the previous answer as `after`: events come oldest first, and polling from a cursor never skips or repeats one, also while several Roster processes write. Events are kept at least 30 days.',
  tags: ['Events'],
  params: orgParams,
  query: z.object({
    after: z
      .string()
      .max(100)
      .optional()
      .refine((c) => seqOf(c) !== undefined, { error: 'is not a cursor this API gave out' })
      .describe('The `next` cursor of the previous answer; none: from the oldest event kept.'),
    types: z.string().max(2000).optional().describe('Comma-separated event types, e.g. member.role_changed,invite.accepted.'),
    limit: z.coerce.number().int().min(1).max(FEED_MAX_PAGE).default(100).describe(`Events per answer, 1–${FEED_MAX_PAGE} (default 100).`),
  }),
  ok: {
    status: 200,
    schema: z.object({ events: z.array(eventSchema), next: z.string() }),
    description: 'Events after the cursor, and the cursor to poll from next.',
  },
  problems: [400, 403, 404, 410],
  handle: async ({ actor, domain, params, query }) => {
    const orgId = await orgIdOf(domain, params.org);
    const types = query.types
      ?.split(',')
      .map((t: string) => t.trim())
      .filter(Boolean);
    const page = await domain.feed.events(actor, orgId, { after: seqOf(query.after) ?? 0, limit: query.limit, ...(types?.length ? { types } : {}) });
    return { events: page.events.map((e) => ({ ...e, occurredAt: e.occurredAt.toISOString() })), next: cursorOf(page.next) };
  },
});
