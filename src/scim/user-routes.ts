import type { Express, Request, Response } from 'express';
import { fromScimUser, type ScimJson } from './mapping.js';
import { sendFailure } from './responses.js';
import type { ScimContext } from './router.js';
import { plainUserInstance } from './user-ingress.js';
import { applyUserPatch } from './user-patch.js';
import { userResource } from './user-resource.js';

/**
 * The /Users routes an IdP calls most, answered without SCIMMY's coercion (it costs more than the
 * database work): GET by id, PATCH, and POST and PUT of a body of the usual shape. Each answer is SCIMMY's
 * exact output (userResource; property tests hold both readings and writings equal). Everything else
 * falls through to SCIMMY.
 */
export function userRoutes(router: Express, { ctxOf, base }: { ctxOf: (req: Request) => ScimContext; base: (req: Request) => string }): void {
  const selects = (req: Request) => {
    const q = req.query as Record<string, unknown>;
    return q.attributes !== undefined || q.excludedAttributes !== undefined;
  };

  // GET by id without attribute selection: the IdP's read before each change, answered like a list item.
  router.get('/Users/:id', async (req, res, next) => {
    if (selects(req)) return next();
    const ctx = ctxOf(req);
    try {
      const user = await ctx.domain.scim.getUser(ctx.actor, String(req.params.id));
      send(res, 200, userResource(user, `${base(req)}/Users`));
    } catch (err) {
      sendFailure(res, ctx.log, err, 'read');
    }
  });

  // PATCH of a user: applied to the user as it is under its row lock, answered like a GET by id.
  router.patch('/Users/:id', async (req, res) => {
    const ctx = ctxOf(req);
    try {
      const user = await ctx.domain.scim.patchUser(ctx.actor, String(req.params.id), (current) => applyUserPatch(req.body as ScimJson, current));
      send(res, 200, userResource(user, `${base(req)}/Users`));
    } catch (err) {
      sendFailure(res, ctx.log, err, 'patch');
    }
  });

  // POST of a usual body: read as SCIMMY would read it, created by the domain, answered with Location
  // (RFC 7644 §3.3). Another body (or an attribute selection) is SCIMMY's to read.
  router.post('/Users', async (req, res, next) => {
    const instance = selects(req) ? undefined : plainUserInstance(req.body);
    if (!instance) return next();
    const ctx = ctxOf(req);
    try {
      const user = await ctx.domain.scim.createUser(ctx.actor, fromScimUser(instance));
      const resource = userResource(user, `${base(req)}/Users`);
      res.set('Location', (resource.meta as { location: string }).location);
      send(res, 201, resource);
    } catch (err) {
      sendFailure(res, ctx.log, err, 'create');
    }
  });

  // PUT (Okta's profile updates) of a usual body: the user becomes what it says, as through SCIMMY.
  router.put('/Users/:id', async (req, res, next) => {
    const instance = selects(req) ? undefined : plainUserInstance(req.body);
    if (!instance) return next();
    const ctx = ctxOf(req);
    try {
      const user = await ctx.domain.scim.replaceUser(ctx.actor, String(req.params.id), fromScimUser(instance));
      send(res, 200, userResource(user, `${base(req)}/Users`));
    } catch (err) {
      sendFailure(res, ctx.log, err, 'replace');
    }
  });
}

function send(res: Response, status: number, body: unknown) {
  res.status(status).type('application/scim+json').send(JSON.stringify(body));
}
