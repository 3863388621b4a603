import { randomBytes } from 'node:crypto';
import { and, asc, count, desc, eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import { webhookDeliveries, webhookEndpoints, type WebhookEndpointRow } from '../../db/schema.js';
import { authorize } from '../access.js';
import type { Actor, Deps, Executor } from '../context.js';
import { fail } from '../errors.js';
import { isEventType } from '../event-types.js';
import { numberCommitted } from '../event-numbers.js';
import { emit } from '../events.js';
import { seal } from '../sealed.js';
import { lockOrgFor, requireMembership } from '../standing.js';
import { isUuid, parseInput, safeString } from '../validation.js';

/**
 * An org's webhook endpoints: where its events are POSTed (signed, per Standard Webhooks), managed by
 * its owners (api:manage) from the API, the CLI or Slack. Each has its own secret, shown once.
 */

export const MAX_ENDPOINTS_PER_ORG = 20;
/** After a rotation the previous secret keeps signing this long, so receivers can switch without a gap. */
export const SECRET_OVERLAP_HOURS = 24;

const urlSchema = safeString({ what: 'URL' })
  .trim()
  .max(2000, { error: 'The URL is too long (2,000 characters at most).' })
  .refine(
    (u) => {
      if (!URL.canParse(u)) return false;
      const url = new URL(u);
      return (url.protocol === 'https:' || url.protocol === 'http:') && url.hostname !== '';
    },
    { error: 'The URL must be an http:// or https:// address, e.g. https://example.com/roster-webhooks.' },
  )
  .refine((u) => !URL.canParse(u) || new URL(u).hash === '', { error: 'The URL must not have a #fragment.' });

const eventsSchema = z
  .array(z.string().trim())
  .max(100, { error: 'Subscribe to 100 event types at most (or none: every type).' })
  .superRefine((types, ctx) => {
    const unknown = types.filter((t) => !isEventType(t));
    if (unknown.length)
      ctx.addIssue({
        code: 'custom',
        message: `Unknown event type${unknown.length > 1 ? 's' : ''}: ${unknown.slice(0, 5).join(', ').slice(0, 200)}. Event types look like member.role_changed or invite.accepted.`,
      });
  })
  .transform((types) => [...new Set(types)].sort());

const descriptionSchema = safeString({ what: 'description' }).trim().max(200, { error: 'The description is too long (200 characters at most).' });

const createSchema = z.object({ url: urlSchema, events: eventsSchema.default([]), description: descriptionSchema.optional() });
const updateSchema = z.object({
  url: urlSchema.optional(),
  events: eventsSchema.optional(),
  description: descriptionSchema.nullable().optional(),
  enabled: z.boolean().optional(),
});

export type WebhookEndpointView = {
  id: string;
  orgId: string;
  url: string;
  description: string | null;
  /** Empty: every event type. */
  events: string[];
  enabled: boolean;
  disabledReason: string | null;
  failingSince: Date | null;
  createdAt: Date;
  /** Deliveries waiting to be sent to it. */
  pending?: number;
};

export type WebhookDeliveryView = {
  id: string;
  eventId: string;
  sequence: number;
  status: string;
  attempts: number;
  nextAttemptAt: Date | null;
  lastAttemptAt: Date | null;
  lastStatus: number | null;
  lastError: string | null;
  deliveredAt: Date | null;
};

/** A new signing secret: whsec_ and 32 random bytes in base64 (Standard Webhooks). */
function newSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

export function createWebhookEndpoints(deps: Deps) {
  const { db, clock } = deps;

  function sealKey(): Buffer {
    const key = deps.settings.webhookSecretKey;
    if (!key) throw new Error('webhooks need settings.webhookSecretKey (derived from APP_SECRET)');
    return key;
  }
  /** Sealed to its endpoint: a sealed secret copied onto another endpoint's row does not open there. */
  const sealSecret = (endpointId: string, secret: string) => seal(sealKey(), secret, `webhook:${endpointId}`);

  async function findLocked(tx: Executor, orgId: string, id: string): Promise<WebhookEndpointRow> {
    if (!isUuid(id)) fail('webhook_not_found');
    const [row] = await tx
      .select()
      .from(webhookEndpoints)
      .where(and(eq(webhookEndpoints.id, id), eq(webhookEndpoints.orgId, orgId)))
      // Not FOR UPDATE: changing an endpoint must not block the numbering step's key-share lock on it
      // (event-numbers.ts), which every org's feed waits for. Deleting it still does, briefly.
      .for('no key update');
    if (!row) fail('webhook_not_found');
    return row;
  }

  async function create(
    actor: Actor,
    orgId: string,
    input: { url?: unknown; events?: unknown; description?: unknown },
  ): Promise<{ secret: string; endpoint: WebhookEndpointView }> {
    const given = parseInput(createSchema, input);
    return db.transaction(async (tx) => {
      await lockOrgFor(tx, actor, orgId, 'api:manage');
      const [n] = await tx.select({ n: count() }).from(webhookEndpoints).where(eq(webhookEndpoints.orgId, orgId));
      if ((n?.n ?? 0) >= MAX_ENDPOINTS_PER_ORG)
        fail('webhook_limit_reached', `An organization may have ${MAX_ENDPOINTS_PER_ORG} webhook endpoints. Remove one first.`);
      const id = crypto.randomUUID();
      const secret = newSecret();
      const [row] = await tx
        .insert(webhookEndpoints)
        .values({
          id,
          orgId,
          url: given.url,
          description: given.description ?? null,
          eventTypes: given.events,
          secretSealed: sealSecret(id, secret),
          createdById: actor.type === 'account' ? actor.accountId : null,
          createdAt: clock.now(),
        })
        .returning();
      await emit(tx, actor, { orgId, action: 'webhook.created', targetType: 'webhook', targetId: id, after: eventView(row!) }, clock.now());
      return { secret, endpoint: viewOf(row!) };
    });
  }

  async function list(actor: Actor, orgId: string): Promise<WebhookEndpointView[]> {
    authorize(await requireMembership(db, actor, orgId), 'api:manage', 'read');
    // What committed is numbered (and so queued) first: `pending` counts every event waiting.
    await numberCommitted(deps);
    const rows = await db
      .select({
        e: webhookEndpoints,
        pending: sql<number>`(select count(*)::int from webhook_deliveries d where d.endpoint_id = webhook_endpoints.id and d.status = 'pending')`,
      })
      .from(webhookEndpoints)
      .where(eq(webhookEndpoints.orgId, orgId))
      .orderBy(asc(webhookEndpoints.createdAt), asc(webhookEndpoints.id));
    return rows.map((r) => ({ ...viewOf(r.e), pending: r.pending }));
  }

  async function get(actor: Actor, orgId: string, id: string): Promise<WebhookEndpointView> {
    authorize(await requireMembership(db, actor, orgId), 'api:manage', 'read');
    const found = (await list(actor, orgId)).find((e) => e.id === id);
    if (!found) fail('webhook_not_found');
    return found;
  }

  /**
   * The endpoint a person names on a command line or in Slack: its id, the first characters of its id
   * (as lists show them, at least 4), or its URL exactly.
   */
  async function find(actor: Actor, orgId: string, ref: string): Promise<WebhookEndpointView> {
    const all = await list(actor, orgId);
    const text = ref.trim().toLowerCase();
    const byId = all.find((e) => e.id === text);
    if (byId) return byId;
    const matches = /^[0-9a-f-]{4,36}$/.test(text) ? all.filter((e) => e.id.startsWith(text)) : all.filter((e) => e.url.toLowerCase() === text);
    if (matches.length === 1) return matches[0]!;
    if (matches.length > 1)
      fail('invalid_input', `${matches.length} webhook endpoints match "${ref.slice(0, 80)}". Give more of the id.`, { field: 'webhook' });
    return fail('webhook_not_found');
  }

  /** Changes its URL, event types, description, or enables or disables it (enabling clears its failure). */
  async function update(
    actor: Actor,
    orgId: string,
    id: string,
    input: { url?: unknown; events?: unknown; description?: unknown; enabled?: unknown },
  ): Promise<WebhookEndpointView> {
    const change = parseInput(updateSchema, input);
    return db.transaction(async (tx) => {
      await lockOrgFor(tx, actor, orgId, 'api:manage');
      const before = await findLocked(tx, orgId, id);
      const now = clock.now();
      const enabling = change.enabled === true && !before.enabled;
      const disabling = change.enabled === false && before.enabled;
      const [after] = await tx
        .update(webhookEndpoints)
        .set({
          ...(change.url !== undefined ? { url: change.url } : {}),
          ...(change.events !== undefined ? { eventTypes: change.events } : {}),
          ...(change.description !== undefined ? { description: change.description } : {}),
          ...(enabling ? { enabled: true, disabledReason: null, disabledAt: null, failingSince: null } : {}),
          ...(disabling ? { enabled: false, disabledReason: 'disabled by hand', disabledAt: now } : {}),
        })
        .where(eq(webhookEndpoints.id, id))
        .returning();
      if (enabling) {
        // Its waiting deliveries go now, not at a retry time set while it was failing.
        await tx
          .update(webhookDeliveries)
          .set({ nextAttemptAt: now })
          .where(and(eq(webhookDeliveries.endpointId, id), eq(webhookDeliveries.status, 'pending')));
        await emit(tx, actor, { orgId, action: 'webhook.enabled', targetType: 'webhook', targetId: id }, now);
      }
      const b = eventView(before);
      const a = eventView(after!);
      if (b.url !== a.url || b.events.join() !== a.events.join() || disabling || before.description !== after!.description)
        await emit(tx, actor, { orgId, action: 'webhook.updated', targetType: 'webhook', targetId: id, before: b, after: a }, now);
      return viewOf(after!);
    });
  }

  /** Removes it and its queued deliveries. */
  async function remove(actor: Actor, orgId: string, id: string): Promise<void> {
    await db.transaction(async (tx) => {
      await lockOrgFor(tx, actor, orgId, 'api:manage');
      const row = await findLocked(tx, orgId, id);
      await tx.delete(webhookEndpoints).where(eq(webhookEndpoints.id, id));
      await emit(tx, actor, { orgId, action: 'webhook.deleted', targetType: 'webhook', targetId: id, before: eventView(row) }, clock.now());
    });
  }

  /** A new secret, shown once; the previous one also signs for 24 hours. */
  async function rotateSecret(actor: Actor, orgId: string, id: string): Promise<{ secret: string; previousValidUntil: Date }> {
    return db.transaction(async (tx) => {
      await lockOrgFor(tx, actor, orgId, 'api:manage');
      const row = await findLocked(tx, orgId, id);
      const now = clock.now();
      const previousValidUntil = new Date(now.getTime() + SECRET_OVERLAP_HOURS * 3_600_000);
      const secret = newSecret();
      await tx
        .update(webhookEndpoints)
        .set({ secretSealed: sealSecret(id, secret), previousSecretSealed: row.secretSealed, previousSecretExpiresAt: previousValidUntil })
        .where(eq(webhookEndpoints.id, id));
      await emit(tx, actor, { orgId, action: 'webhook.secret_rotated', targetType: 'webhook', targetId: id, before: { previousValidUntil } }, now);
      return { secret, previousValidUntil };
    });
  }

  /**
   * Sends again what did not arrive since `since`: its failed deliveries go back in the queue (same
   * webhook-id), and events it never got queued (it was created later, or they predate a type it now
   * takes) are queued. Delivered ones are not sent twice.
   */
  async function replay(actor: Actor, orgId: string, id: string, since: Date): Promise<{ queued: number }> {
    if (!(since instanceof Date) || Number.isNaN(since.getTime()))
      fail('invalid_input', 'since must be a date and time, e.g. 2026-12-01T00:00:00Z.', { field: 'since' });
    return db.transaction(async (tx) => {
      await lockOrgFor(tx, actor, orgId, 'api:manage');
      const row = await findLocked(tx, orgId, id);
      const now = clock.now();
      const r = await tx.execute(sql`
        insert into webhook_deliveries (endpoint_id, event_id, seq, next_attempt_at, created_at)
        select ${id}, a.id, s.seq, ${now}, ${now}
        from event_seqs s join audit_events a on a.id = s.event_id
        where s.org_id = ${orgId} and a.org_id = ${orgId} and a.at >= ${since}
          and (cardinality(${sql.param(row.eventTypes)}::text[]) = 0 or a.action = any(${sql.param(row.eventTypes)}::text[]))
        on conflict (endpoint_id, event_id) do update
          set status = 'pending', attempts = 0, next_attempt_at = excluded.next_attempt_at, last_error = null
          where webhook_deliveries.status = 'failed'`);
      const queued = r.rowCount ?? 0;
      await emit(tx, actor, { orgId, action: 'webhook.replayed', targetType: 'webhook', targetId: id, after: { since, queued } }, now);
      return { queued };
    });
  }

  /** Its latest deliveries, newest first: what was sent, what failed and why. */
  async function deliveries(actor: Actor, orgId: string, id: string, limit = 50): Promise<WebhookDeliveryView[]> {
    authorize(await requireMembership(db, actor, orgId), 'api:manage', 'read');
    if (!isUuid(id)) fail('webhook_not_found');
    // What committed is numbered (and so queued) first: the list shows every event sent or waiting.
    await numberCommitted(deps);
    const [endpoint] = await db
      .select({ id: webhookEndpoints.id })
      .from(webhookEndpoints)
      .where(and(eq(webhookEndpoints.id, id), eq(webhookEndpoints.orgId, orgId)));
    if (!endpoint) fail('webhook_not_found');
    const rows = await db
      .select()
      .from(webhookDeliveries)
      .where(eq(webhookDeliveries.endpointId, id))
      .orderBy(desc(webhookDeliveries.seq))
      .limit(Math.min(Math.max(1, Math.trunc(limit)), 500));
    return rows.map((d) => ({
      id: messageIdOf(d.id),
      eventId: `evt_${orgId}_${d.seq}`,
      sequence: d.seq,
      status: d.status,
      attempts: d.attempts,
      nextAttemptAt: d.status === 'pending' ? d.nextAttemptAt : null,
      lastAttemptAt: d.lastAttemptAt,
      lastStatus: d.lastStatus,
      lastError: d.lastError,
      deliveredAt: d.deliveredAt,
    }));
  }

  return { create, list, get, find, update, remove, rotateSecret, replay, deliveries };
}

/** How lists show an endpoint's id: enough of it to name it in a command. */
export function shortIdOf(endpointId: string): string {
  return endpointId.slice(0, 8);
}

/** The webhook-id of a delivery: the same on every attempt, and on a replay. */
export function messageIdOf(deliveryId: string): string {
  return `msg_${deliveryId.replaceAll('-', '')}`;
}

function eventView(r: WebhookEndpointRow) {
  return { url: r.url, events: r.eventTypes, enabled: r.enabled };
}

function viewOf(r: WebhookEndpointRow): WebhookEndpointView {
  return {
    id: r.id,
    orgId: r.orgId,
    url: r.url,
    description: r.description,
    events: r.eventTypes,
    enabled: r.enabled,
    disabledReason: r.disabledReason,
    failingSince: r.failingSince,
    createdAt: r.createdAt,
  };
}
