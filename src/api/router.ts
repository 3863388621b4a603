import { createRequire } from 'node:module';
import path from 'node:path';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { isDatabaseUnavailable, isDomainError } from '../domain/errors.js';
import type { Domain } from '../domain/index.js';
import type { Logger } from '../logger.js';
import { API_BASE, openApiDocument } from './openapi.js';
import { basePathOf } from '../shared/url.js';
import { problem, problemStatus, sendProblem } from './problem.js';
import { mount, type AnyRoute } from './route.js';
import { getMember, listMembers } from './routes/members.js';
import { authorizeInOrg, getOrg } from './routes/orgs.js';
import { userOrgs } from './routes/users.js';
import { listEvents } from './routes/events.js';
import { deleteMember, patchMember } from './routes/member-changes.js';
import { createInvites, listInvites, revokeInvite } from './routes/invites.js';
import {
  createWebhook,
  deleteWebhook,
  getWebhook,
  listWebhookDeliveries,
  listWebhooks,
  patchWebhook,
  replayWebhook,
  rotateWebhookSecret,
} from './routes/webhooks.js';

export type ApiDeps = {
  domain: Domain;
  log: Logger;
  publicUrl: string;
  version: string;
  kickOutbox?: (() => void) | undefined;
  /** Requests per minute per key (0: no limit); failed key checks per minute per address. */
  limits: { perKeyPerMinute: number; authFailuresPerMinute: number };
};

/** Every route of /api/v1: what is mounted is what the document describes. */
export const apiRoutes: AnyRoute[] = [
  getOrg,
  authorizeInOrg,
  listMembers,
  getMember,
  patchMember,
  deleteMember,
  listInvites,
  createInvites,
  revokeInvite,
  listEvents,
  listWebhooks,
  createWebhook,
  getWebhook,
  patchWebhook,
  deleteWebhook,
  rotateWebhookSecret,
  replayWebhook,
  listWebhookDeliveries,
  userOrgs,
];

/** `Authorization: Bearer <key>`: the key's actor on res.locals, or 401 (429 for an address guessing keys). */
function authenticate(deps: ApiDeps) {
  const failures =
    deps.limits.authFailuresPerMinute > 0
      ? new RateLimiterMemory({ points: deps.limits.authFailuresPerMinute, duration: 60, blockDuration: 300, keyPrefix: 'api-auth' })
      : undefined;
  const perKey = deps.limits.perKeyPerMinute > 0 ? new RateLimiterMemory({ points: deps.limits.perKeyPerMinute, duration: 60, keyPrefix: 'api' }) : undefined;
  const tooMany = (res: Response, ms: number) => {
    res.set('Retry-After', String(Math.max(1, Math.ceil(ms / 1000))));
    sendProblem(res, problem(429, 'rate_limited', 'Too many requests. Wait as long as Retry-After says, then try again.'));
  };
  return async (req: Request, res: Response, next: NextFunction) => {
    // An address blocked for guessing is answered before any key is looked up.
    const blocked = failures ? await failures.get(req.ip ?? 'unknown') : null;
    if (blocked && blocked.consumedPoints > deps.limits.authFailuresPerMinute) return tooMany(res, blocked.msBeforeNext);
    const m = /^Bearer\s+(\S+)\s*$/i.exec(req.get('authorization') ?? '');
    const actor = m ? await deps.domain.apiKeys.authenticate(m[1]!) : undefined;
    if (!actor) {
      const wait = await waitMs(failures, req.ip ?? 'unknown');
      if (wait !== undefined) return tooMany(res, wait);
      return sendProblem(
        res,
        problem(401, 'api_unauthorized', m ? 'That API key is wrong, expired or revoked.' : 'Send an API key: Authorization: Bearer <key>.'),
      );
    }
    const wait = await waitMs(perKey, actor.keyId);
    if (wait !== undefined) return tooMany(res, wait);
    res.locals.actor = actor;
    next();
  };
}

/** Counts one request for the key: undefined when it may go on, else how long to wait (ms). */
async function waitMs(limiter: RateLimiterMemory | undefined, key: string): Promise<number | undefined> {
  if (!limiter) return undefined;
  try {
    await limiter.consume(key);
    return undefined;
  } catch (r) {
    if (r instanceof RateLimiterRes) return r.msBeforeNext;
    throw r;
  }
}

/** /api/v1 (JSON, bearer keys, problem+json errors), /api/v1/openapi.json and the reference page /api/docs. */
export function createApiRouter(deps: ApiDeps): Router {
  const router = express.Router();
  const document = openApiDocument(apiRoutes, { publicUrl: deps.publicUrl, version: deps.version });
  router.get(`${API_BASE}/openapi.json`, (_req, res) => void res.json(document));
  mountDocs(router, deps.publicUrl);

  const api = express.Router();
  // The key first: a caller without one is told so (401), whatever its body.
  api.use(authenticate(deps));
  api.use(express.json({ limit: '100kb', strict: true, type: ['application/json', 'application/*+json'] }));
  for (const route of apiRoutes) mount(api, route, deps);
  api.use((req, res) => sendProblem(res, problem(404, 'not_found', `No API route is ${req.method} ${req.path.slice(0, 100)}.`)));
  api.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (isDomainError(err)) return sendProblem(res, problem(problemStatus[err.code], err.code, err.message, err.field));
    const status = Number((err as { status?: number })?.status);
    if (status === 413) return sendProblem(res, problem(413, 'payload_too_large', 'The body is over 100 kB. Send less at a time (e.g. invites in batches).'));
    if (status >= 400 && status < 500)
      return sendProblem(res, problem(status, 'invalid_request', 'The request could not be read: send JSON (Content-Type: application/json), at most 100 kB.'));
    if (isDatabaseUnavailable(err)) {
      res.set('Retry-After', '30');
      return sendProblem(res, problem(503, 'unavailable', 'Roster is briefly unavailable. Try again in a minute.'));
    }
    deps.log.error({ err }, 'API request failed');
    sendProblem(res, problem(500, 'internal', 'Something went wrong on our side. Nothing was changed.'));
  });
  router.use(API_BASE, api);
  return router;
}

/** /api/docs: the OpenAPI reference rendered by Swagger UI (served from its npm package, no CDN). */
function mountDocs(router: Router, publicUrl: string) {
  const dist = path.dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
  // Behind a proxy PUBLIC_URL may carry a path prefix: the page's links keep it.
  const base = basePathOf(publicUrl);
  router.get('/api/docs', (_req, res) => {
    res
      .type('html')
      .set('Content-Security-Policy', "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'")
      .send(
        `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Roster API</title><link rel="stylesheet" href="${base}/api/docs/assets/swagger-ui.css"></head><body><div id="ui"></div><script src="${base}/api/docs/assets/swagger-ui-bundle.js"></script><script src="${base}/api/docs/init.js"></script></body></html>`,
      );
  });
  router.get('/api/docs/init.js', (_req, res) => {
    res.type('application/javascript').send(`window.ui = SwaggerUIBundle({ url: ${JSON.stringify(`${base}${API_BASE}/openapi.json`)}, dom_id: '#ui' });`);
  });
  router.use('/api/docs/assets', express.static(dist, { index: false, maxAge: '1h' }));
}
