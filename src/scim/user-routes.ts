import type { Express, NextFunction, Request, Response } from 'express';
import type { ScimUserView } from '../domain/scim/index.js';
import { fromScimUser, type ScimJson } from './mapping.js';
import { sendFailure, sendScim } from './responses.js';
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
      sendScim(res, 200, userResource(user, `${base(req)}/Users`));
    } catch (err) {
      sendFailure(res, ctx.log, err, 'read');
    }
  });

  // PATCH of a user: applied to the user as it is under its row lock, answered like a GET by id.
  router.patch('/Users/:id', async (req, res) => {
    const ctx = ctxOf(req);
    try {
      const user = await ctx.domain.scim.patchUser(ctx.actor, String(req.params.id), (current) => applyUserPatch(req.body as ScimJson, current));
      sendScim(res, 200, userResource(user, `${base(req)}/Users`));
    } catch (err) {
      sendFailure(res, ctx.log, err, 'patch');
    }
  });

  /**
   * POST and PUT of a usual body: read as SCIMMY would read it (Okta's and Entra's everyday creates and
   * Okta's profile updates, where SCIMMY's coercion costs more than the writes). Another body, or an
   * attribute selection, is SCIMMY's to read.
   */
  const write =
    (status: 200 | 201, run: (ctx: ScimContext, input: ReturnType<typeof fromScimUser>, req: Request) => Promise<ScimUserView>) =>
    async (req: Request, res: Response, next: NextFunction) => {
      const instance = selects(req) ? undefined : plainUserInstance(req.body);
      if (!instance) return next();
      const ctx = ctxOf(req);
      try {
        const resource = userResource(await run(ctx, fromScimUser(instance), req), `${base(req)}/Users`);
        // RFC 7644 §3.3: a 201 SHALL carry Location, the same URI as meta.location.
        if (status === 201) res.set('Location', (resource.meta as { location: string }).location);
        sendScim(res, status, resource);
      } catch (err) {
        sendFailure(res, ctx.log, err, status === 201 ? 'create' : 'replace');
      }
    };
  router.post(
    '/Users',
    write(201, (ctx, input) => ctx.domain.scim.createUser(ctx.actor, input)),
  );
  router.put(
    '/Users/:id',
    write(200, (ctx, input, req) => ctx.domain.scim.replaceUser(ctx.actor, String(req.params.id), input)),
  );
}
