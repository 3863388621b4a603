import type { Deps } from '../context.js';
import { createWebhookDeliveries } from './deliveries.js';
import { createWebhookEndpoints } from './endpoints.js';

export function createWebhookService(deps: Deps) {
  return { ...createWebhookEndpoints(deps), delivery: createWebhookDeliveries(deps) };
}

export type { AttemptResult, WebhookBatch, WebhookClaim, WebhookMessage, WebhookRequest, WebhookTransport } from './deliveries.js';
export { RETRY_DELAYS_MS, WEBHOOK_ATTEMPT_MS } from './deliveries.js';
export type { WebhookDeliveryView, WebhookEndpointView } from './endpoints.js';
export { MAX_ENDPOINTS_PER_ORG, SECRET_OVERLAP_HOURS, messageIdOf, shortIdOf } from './endpoints.js';
