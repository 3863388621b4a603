import { and, eq, inArray, sql } from 'drizzle-orm';
import { auditEvents, memberships, webhookDeliveries, webhookEndpoints } from '../../db/schema.js';
import { rowOf } from '../../db/rows.js';
import { holdersOf } from '../access.js';
import { systemActor, type Deps, type Executor } from '../context.js';
import { emit } from '../events.js';
import { eventOf, type FeedEvent } from '../feed.js';
import { unseal } from '../sealed.js';
import { messageIdOf } from './endpoints.js';

/**
 * The webhook outbox, as the sender sees it. Deliveries to one endpoint go in the order of their events,
 * one at a time: a worker leases the endpoint (SKIP LOCKED, like the notification outbox), sends its due
 * deliveries oldest first, and stops at the first failure (the next retry sends that one again first).
 * Retries follow a Svix-like schedule over about three days; then, or when the endpoint answers 410,
 * the delivery fails, the endpoint is disabled and the org's owners are told.
 */

/** Waits after each failed attempt (then ±20% jitter): about 2.7 days in all, 10 attempts. */
export const RETRY_DELAYS_MS = [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000, 50_400_000, 86_400_000];
/** The longest one attempt may take (connecting, sending, the answer). */
export const WEBHOOK_ATTEMPT_MS = 15_000;
/** A Retry-After longer than this is cut to it. */
const MAX_RETRY_AFTER_MS = 86_400_000;

const deliverer = systemActor('deliver-webhooks');

export type WebhookClaim = { endpointId: string; claim: number };

/** One delivery, ready to sign and send. */
export type WebhookMessage = {
  deliveryId: string;
  /** webhook-id: the same on every attempt. */
  id: string;
  attempts: number;
  type: string;
  /** The Standard Webhooks payload: {type, timestamp, data}; data is the event as the feed gives it. */
  payload: { type: string; timestamp: string; data: FeedEvent };
};

export type WebhookBatch = {
  endpoint: { id: string; orgId: string; url: string; wasFailing: boolean };
  /** Signing secrets: the current one, and a rotated-out one still in its overlap. */
  secrets: string[];
  messages: WebhookMessage[];
};

/** How an attempt went, as the sender saw it. */
/** One signed POST to make. */
export type WebhookRequest = { url: string; id: string; secrets: string[]; body: string; timestamp: number };

/** The way webhooks are sent (delivery/webhook-http.ts): never throws, the result says how it went. */
export type WebhookTransport = {
  send: (req: WebhookRequest) => Promise<AttemptResult>;
  /** The longest one send() takes (WEBHOOK_ATTEMPT_MS unless configured shorter). */
  maxAttemptMs: number;
};

export type AttemptResult =
  { ok: true; status: number } | { ok: false; status: number | null; error: string; retryAfterMs?: number | undefined; gone?: boolean };

export function createWebhookDeliveries(deps: Deps) {
  const { db, clock } = deps;
  const key = () => {
    const k = deps.settings.webhookSecretKey;
    if (!k) throw new Error('webhooks need settings.webhookSecretKey');
    return k;
  };

  /** Leases up to `limit` enabled endpoints whose oldest waiting delivery is due. */
  async function claim(limit: number, leaseMs: number): Promise<WebhookClaim[]> {
    const now = clock.now();
    const r = await db.execute<{ id: string; claims: number }>(sql`
      update webhook_endpoints set locked_until = ${new Date(now.getTime() + leaseMs)}, claims = claims + 1
      where id in (
        select e.id from webhook_endpoints e
        where e.enabled and (e.locked_until is null or e.locked_until <= ${now})
          and (select d.next_attempt_at from webhook_deliveries d
               where d.endpoint_id = e.id and d.status = 'pending' order by d.seq limit 1) <= ${now}
        limit ${limit}
        for no key update skip locked)
      returning id, claims`);
    return r.rows.map((x) => ({ endpointId: x.id, claim: Number(x.claims) }));
  }

  const stillMine = (c: WebhookClaim) => and(eq(webhookEndpoints.id, c.endpointId), eq(webhookEndpoints.claims, c.claim), eq(webhookEndpoints.enabled, true));

  /** Extends the lease from now; false: the endpoint is no longer this worker's (or was disabled). */
  async function renew(c: WebhookClaim, leaseMs: number): Promise<boolean> {
    const r = await db
      .update(webhookEndpoints)
      .set({ lockedUntil: new Date(clock.now().getTime() + leaseMs) })
      .where(stillMine(c))
      .returning({ id: webhookEndpoints.id });
    return r.length > 0;
  }

  async function release(c: WebhookClaim): Promise<void> {
    await db
      .update(webhookEndpoints)
      .set({ lockedUntil: null })
      .where(and(eq(webhookEndpoints.id, c.endpointId), eq(webhookEndpoints.claims, c.claim)));
  }

  /**
   * The endpoint's next due deliveries in order (at most `limit`), with its URL and secrets as they are
   * now. Stops before the first one not yet due (a failed one waiting for its retry holds back the rest).
   */
  async function next(c: WebhookClaim, limit: number): Promise<WebhookBatch | undefined> {
    const now = clock.now();
    const [e] = await db.select().from(webhookEndpoints).where(stillMine(c));
    if (!e) return undefined;
    const r = await db.execute<Record<string, unknown> & { delivery_id: string; attempts: number; due: Date | string }>(sql`
      select a.*, d.seq, d.id as delivery_id, d.attempts, d.next_attempt_at as due
      from webhook_deliveries d join audit_events a on a.id = d.event_id
      where d.endpoint_id = ${c.endpointId} and d.status = 'pending'
      order by d.seq
      limit ${limit}`);
    const messages: WebhookMessage[] = [];
    for (const row of r.rows) {
      if (new Date(row.due).getTime() > now.getTime()) break;
      const event = eventOf({ ...rowOf(auditEvents, row), seq: Number(row.seq) });
      messages.push({
        deliveryId: row.delivery_id,
        id: messageIdOf(row.delivery_id),
        attempts: Number(row.attempts),
        type: event.type,
        payload: { type: event.type, timestamp: event.occurredAt.toISOString(), data: event },
      });
    }
    const bound = `webhook:${e.id}`;
    const secrets = [unseal(key(), e.secretSealed, bound)];
    if (e.previousSecretSealed && e.previousSecretExpiresAt && e.previousSecretExpiresAt > now) secrets.push(unseal(key(), e.previousSecretSealed, bound));
    return { endpoint: { id: e.id, orgId: e.orgId, url: e.url, wasFailing: e.failingSince !== null }, secrets, messages };
  }

  /**
   * Records an attempt. Returns whether the endpoint may go on to its next delivery. Settles only while
   * the claim holds, so a worker whose lease ran out cannot overwrite the newer claim's work.
   */
  async function settle(c: WebhookClaim, batch: WebhookBatch, m: WebhookMessage, result: AttemptResult): Promise<boolean> {
    const now = clock.now();
    const attempts = m.attempts + 1;
    if (result.ok) {
      const r = await db.execute(sql`
        update webhook_deliveries d set status = 'sent', attempts = ${attempts}, delivered_at = ${now}, last_attempt_at = ${now},
          last_status = ${result.status}, last_error = null
        where d.id = ${m.deliveryId} and d.status = 'pending'
          and exists (select 1 from webhook_endpoints e where e.id = ${c.endpointId} and e.claims = ${c.claim})`);
      if (batch.endpoint.wasFailing) {
        await db.update(webhookEndpoints).set({ failingSince: null }).where(eq(webhookEndpoints.id, c.endpointId));
        batch.endpoint.wasFailing = false;
      }
      return (r.rowCount ?? 0) > 0;
    }
    const error = result.error.slice(0, 500);
    const final = result.gone === true || attempts > RETRY_DELAYS_MS.length;
    if (!final) {
      const wait = Math.min(MAX_RETRY_AFTER_MS, Math.max(jittered(RETRY_DELAYS_MS[attempts - 1]!), result.retryAfterMs ?? 0));
      await db.transaction(async (tx) => {
        if (!(await holds(tx, c))) return;
        await tx
          .update(webhookDeliveries)
          .set({ attempts, lastAttemptAt: now, lastStatus: result.status, lastError: error, nextAttemptAt: new Date(now.getTime() + wait) })
          .where(and(eq(webhookDeliveries.id, m.deliveryId), eq(webhookDeliveries.status, 'pending')));
        await tx.execute(sql`update webhook_endpoints set failing_since = coalesce(failing_since, ${now}) where id = ${c.endpointId}`);
      });
      batch.endpoint.wasFailing = true;
      return false;
    }
    const reason = result.gone
      ? `it answered 410 Gone (the receiver asked for no more deliveries)`
      : `its deliveries failed for about three days (last: ${error.slice(0, 200)})`;
    await db.transaction(async (tx) => {
      if (!(await holds(tx, c))) return;
      await tx
        .update(webhookDeliveries)
        .set({ status: 'failed', attempts, lastAttemptAt: now, lastStatus: result.status, lastError: error })
        .where(and(eq(webhookDeliveries.id, m.deliveryId), eq(webhookDeliveries.status, 'pending')));
      await tx
        .update(webhookEndpoints)
        .set({ enabled: false, disabledReason: reason, disabledAt: now, lockedUntil: null })
        .where(eq(webhookEndpoints.id, c.endpointId));
      const owners = await tx
        .select({ accountId: memberships.accountId })
        .from(memberships)
        .where(and(eq(memberships.orgId, batch.endpoint.orgId), eq(memberships.status, 'active'), inArray(memberships.role, holdersOf('api:manage'))));
      await emit(
        tx,
        deliverer,
        {
          orgId: batch.endpoint.orgId,
          action: 'webhook.disabled',
          targetType: 'webhook',
          targetId: c.endpointId,
          after: { url: batch.endpoint.url, reason },
          notify: owners.map((o) => ({
            kind: 'webhook.disabled' as const,
            recipientAccountId: o.accountId,
            payload: { endpointId: c.endpointId, url: batch.endpoint.url, reason },
            dedupeKey: `webhook.disabled:${c.endpointId}:${now.getTime()}:${o.accountId}`,
          })),
        },
        now,
      );
    });
    return false;
  }

  async function holds(tx: Executor, c: WebhookClaim): Promise<boolean> {
    const [e] = await tx
      .select({ id: webhookEndpoints.id })
      .from(webhookEndpoints)
      .where(and(eq(webhookEndpoints.id, c.endpointId), eq(webhookEndpoints.claims, c.claim)))
      .for('no key update');
    return e !== undefined;
  }

  /** For /metrics and the operator: deliveries waiting, and endpoints disabled. */
  async function stats(): Promise<{ pending: number; disabledEndpoints: number }> {
    const r = await db.execute<{ pending: number; disabled: number }>(sql`
      select (select count(*)::int from webhook_deliveries where status = 'pending') as pending,
             (select count(*)::int from webhook_endpoints where not enabled) as disabled`);
    return { pending: r.rows[0]?.pending ?? 0, disabledEndpoints: r.rows[0]?.disabled ?? 0 };
  }

  return { claim, renew, release, next, settle, stats };
}

/** ±20%, so endpoints that failed together do not all retry in the same second. */
function jittered(ms: number): number {
  return Math.round(ms * (0.8 + Math.random() * 0.4));
}
