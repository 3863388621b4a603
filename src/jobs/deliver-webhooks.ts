import type { Domain } from '../domain/index.js';
import { WEBHOOK_ATTEMPT_MS, type WebhookClaim, type WebhookTransport as WebhookSender } from '../domain/webhooks/index.js';
import type { Logger } from '../logger.js';

/** Endpoints one run sends to at once (each in order, one request at a time). */
const PARALLEL_ENDPOINTS = 8;
/** Deliveries read per round trip for one endpoint. */
const BATCH = 100;
/**
 * The lease outlasts one attempt with room for the database work around it, and is renewed as it runs
 * low. Short on purpose: a worker killed mid-run holds its endpoints only this long.
 */
const leaseMsFor = (sender: WebhookSender) => 2 * (sender.maxAttemptMs || WEBHOOK_ATTEMPT_MS) + 5_000;

export type WebhookStats = { sent: number; failed: number; endpoints: number };

/**
 * Sends due webhook deliveries: leases endpoints (one worker per endpoint at a time, across processes),
 * and for each sends its due deliveries oldest first until one fails or none is due. Loops while there
 * is work, so a backlog drains in one run.
 */
export async function deliverDueWebhooks(domain: Domain, sender: WebhookSender, log: Logger): Promise<WebhookStats> {
  const stats: WebhookStats = { sent: 0, failed: 0, endpoints: 0 };
  const d = domain.webhooks.delivery;
  // Events committed but not yet numbered (their process died before numbering them) get numbered and
  // queued now.
  await domain.feed.number();
  for (;;) {
    const claims = await d.claim(PARALLEL_ENDPOINTS, leaseMsFor(sender));
    if (!claims.length) return stats;
    stats.endpoints += claims.length;
    await Promise.all(claims.map((c) => drain(domain, sender, log, c, stats)));
  }
}

async function drain(domain: Domain, sender: WebhookSender, log: Logger, c: WebhookClaim, stats: WebhookStats): Promise<void> {
  const d = domain.webhooks.delivery;
  const leaseMs = leaseMsFor(sender);
  let leaseEnds = Date.now() + leaseMs;
  try {
    for (;;) {
      const batch = await d.next(c, BATCH);
      if (!batch?.messages.length) return;
      for (const m of batch.messages) {
        if (leaseEnds - Date.now() < leaseMs / 2) {
          if (!(await d.renew(c, leaseMs))) return;
          leaseEnds = Date.now() + leaseMs;
        }
        const body = JSON.stringify(m.payload);
        const result = await sender.send({ url: batch.endpoint.url, id: m.id, secrets: batch.secrets, body, timestamp: Math.floor(Date.now() / 1000) });
        const goOn = await d.settle(c, batch, m, result);
        if (result.ok) stats.sent++;
        else {
          stats.failed++;
          log.warn({ endpoint: c.endpointId, webhookId: m.id, attempt: m.attempts + 1, status: result.status, error: result.error }, 'webhook delivery failed');
        }
        if (!goOn) return;
      }
      if (batch.messages.length < BATCH) return;
    }
  } finally {
    await d.release(c).catch((err) => log.warn({ err, endpoint: c.endpointId }, 'could not release a webhook endpoint lease; it frees itself'));
  }
}
