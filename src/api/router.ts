import { createRequire } from 'node:module';
import path from 'node:path';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { Domain } from '../domain/index.js';
import type { Logger } from '../logger.js';
import { API_BASE, openApiDocument } from './openapi.js';
import { basePathOf } from '../shared/url.js';
import { problem, sendError, sendProblem, sendRefusal } from './problem.js';
import { createGate, type Gate, type GateLimits } from './gate.js';
import { directAuthorize, type DirectRoute } from './direct.js';
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
  limits: GateLimits;
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

/** The gate as express middleware: the key's actor on res.locals, or the gate's problem. */
function authenticate(gate: Gate) {
  return async (req: Request, res: Response, next: NextFunction) => {
    const verdict = await gate(req.ip ?? 'unknown', req.get('authorization'));
    if (!('actor' in verdict)) return sendRefusal(res, verdict);
    res.locals.actor = verdict.actor;
    next();
  };
}

/** /api/v1 (JSON, bearer keys, problem+json errors), /api/v1/openapi.json and the reference page /api/docs. */
export function createApi(deps: ApiDeps): { router: Router; direct: DirectRoute } {
  const gate = createGate(deps.domain, deps.limits);
  return { router: createApiRouter(deps, gate), direct: directAuthorize(deps, gate) };
}

function createApiRouter(deps: ApiDeps, gate: Gate): Router {
  const router = express.Router();
  const document = openApiDocument(apiRoutes, { publicUrl: deps.publicUrl, version: deps.version });
  router.get(`${API_BASE}/openapi.json`, (_req, res) => void res.json(document));
  mountDocs(router, deps.publicUrl);

  const api = express.Router();
  // The key first: a caller without one is told so (401), whatever its body.
  api.use(authenticate(gate));
  api.use(express.json({ limit: '100kb', strict: true, type: ['application/json', 'application/*+json'] }));
  for (const route of apiRoutes) mount(api, route, deps);
  api.use((req, res) => sendProblem(res, problem(404, 'not_found', `No API route is ${req.method} ${req.path.slice(0, 100)}.`)));
  api.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => sendError(res, err, deps.log));
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
