import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import SCIMMY from 'scimmy';
import SCIMMYRouters from 'scimmy-routers';
import type { Actor } from '../domain/context.js';
import type { Domain } from '../domain/index.js';
import { MAX_PAGE, type ScimGroupInput } from '../domain/scim/index.js';
import type { Logger } from '../logger.js';
import { createScimLimits, type ScimLimitSettings } from './rate-limit.js';
import { MAX_JSON_DEPTH, refuseDeepJson } from './json-depth.js';
import { checkAttributes, checkFilter, filterTerms, normalizedAttributes } from './filters.js';
import { fromScimGroup, fromScimUser, normalizeBooleans, normalizePatch, patchProblem, type ScimJson, scimError, toScimGroup } from './mapping.js';
import { sendError, sendFailure, sendScim, tooMany } from './responses.js';
import { toScimUser, userResource } from './user-resource.js';
import { userRoutes } from './user-routes.js';

type ScimDeps = {
  domain: Domain;
  log: Logger;
  publicUrl: string;
  limits?: ScimLimitSettings | undefined;
  /** Deliver queued notifications soon (a person asked for consent hears of it in seconds, not at the next tick). */
  kickOutbox?: (() => void) | undefined;
};

/**
 * What each request carries into SCIMMY's handlers: SCIMMY's registry is process-wide, this is not.
 * For a group PATCH, SCIMMY reads the group (egress), applies the operations and writes it back
 * (ingress); what it read is kept here so the domain writes only what the PATCH changed (domain
 * PatchBase). A user PATCH is applied under the user's row lock instead (user-routes.ts).
 */
export type ScimContext = {
  actor: Actor;
  domain: Domain;
  log: Logger;
  patching: boolean;
  /** The response, so a handler can answer 503 itself (SCIMMY's error messages cannot carry it). */
  res: Response;
  groupBase?: ScimGroupInput;
};

const BODY_LIMIT = '1mb';
const DEFAULT_COUNT = 100;
const LIST_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';

/** Runs a domain call inside a SCIMMY handler: domain errors become SCIM errors, never SCIMMY's catch-all 404. */
async function guarded<T>(ctx: ScimContext, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    const e = scimError(err);
    // SCIMMY's error messages only allow RFC 7644's statuses, which have no 503: answer it here, and
    // the error SCIMMY then tries to send finds the response already sent (see the handler below).
    if (e.status === 503) {
      if (!ctx.res.headersSent) {
        ctx.res.set('Retry-After', '30');
        sendError(ctx.res, 503, e.message);
      }
      throw new SCIMMY.Types.Error(500, null as never, e.message);
    }
    if (e.status >= 500) ctx.log.error({ err }, 'SCIM handler failed');
    throw e;
  }
}

/**
 * Looks at the JSON SCIMMY is about to send (it sends strings or objects) before it goes: `look` may set
 * headers, and returns a replacement body, or undefined to send it as it is.
 */
function beforeSend(res: Response, look: (body: unknown) => unknown) {
  const send = res.send.bind(res);
  res.send = (body?: unknown) => {
    // Once: res.json (an object) calls res.send again with the string, which needs no second look.
    res.send = send;
    let parsed: unknown;
    try {
      parsed = typeof body === 'string' ? JSON.parse(body) : Buffer.isBuffer(body) ? JSON.parse(body.toString('utf8')) : body;
    } catch {
      return send(body);
    }
    const replaced = look(parsed);
    return send(replaced === undefined ? body : typeof body === 'object' && !Buffer.isBuffer(body) ? replaced : JSON.stringify(replaced));
  };
}

/** A 4xx that express or a body parser attached to an error (a path that does not decode is 400). */
function clientErrorStatus(err: unknown): number | undefined {
  const e = err as { status?: unknown; statusCode?: unknown } | undefined;
  const status = Number(e?.status ?? e?.statusCode);
  if (status >= 400 && status < 500) return status;
  return err instanceof URIError ? 400 : undefined;
}

let declared = false;
/** SCIMMY's resource registry is global: declare once, with handlers that take everything from ctx. */
export function declareResources() {
  if (declared) return;
  declared = true;
  // RFC 7643 §7: canonical values are suggestions. SCIMMY lists none for roles[].type and
  // x509Certificates[].type (an empty list) and so refuses every value, Entra's
  // "WindowsAzureActiveDirectoryRole" included: take any.
  for (const path of ['roles.type', 'x509Certificates.type']) SCIMMY.Schemas.User.definition.attribute(path).config.canonicalValues = false;
  // What the IdP should know before it maps attributes: Roster keys people by email.
  const emails = SCIMMY.Schemas.User.definition.attribute('emails').config as { description: string };
  emails.description +=
    ' Roster keys each person by one email (the primary one, else a work one, else any; else a userName that is an email): two users of one organization with the same email are refused with 409 uniqueness. A user with no email is kept with no membership until one is known.';
  SCIMMY.Resources.declare(SCIMMY.Resources.User)
    .extend(SCIMMY.Schemas.EnterpriseUser, false)
    .ingress((resource, instance, ctx: ScimContext) =>
      guarded(ctx, async () => {
        const input = fromScimUser(instance as ScimJson);
        const view = resource.id ? await ctx.domain.scim.replaceUser(ctx.actor, resource.id, input) : await ctx.domain.scim.createUser(ctx.actor, input);
        return toScimUser(view) as never;
      }),
    )
    .egress((resource, ctx: ScimContext) =>
      guarded(ctx, async () => {
        if (!resource.id) throw new SCIMMY.Types.Error(501, null as never, 'Use GET /Users to list users.');
        return toScimUser(await ctx.domain.scim.getUser(ctx.actor, resource.id)) as never;
      }),
    )
    .degress((resource, ctx: ScimContext) => guarded(ctx, () => ctx.domain.scim.deleteUser(ctx.actor, resource.id!)));

  SCIMMY.Resources.declare(SCIMMY.Resources.Group)
    .ingress((resource, instance, ctx: ScimContext) =>
      guarded(ctx, async () => {
        const input = fromScimGroup(instance as ScimJson);
        const view = resource.id
          ? await ctx.domain.scim.replaceGroup(ctx.actor, resource.id, input, { base: ctx.groupBase })
          : await ctx.domain.scim.createGroup(ctx.actor, input);
        return toScimGroup(view) as never;
      }),
    )
    .egress((resource, ctx: ScimContext) =>
      guarded(ctx, async () => {
        if (!resource.id) throw new SCIMMY.Types.Error(501, null as never, 'Use GET /Groups to list groups.');
        const out = toScimGroup(await ctx.domain.scim.getGroup(ctx.actor, resource.id));
        if (ctx.patching) ctx.groupBase = fromScimGroup(out);
        return out as never;
      }),
    )
    .degress((resource, ctx: ScimContext) => guarded(ctx, () => ctx.domain.scim.deleteGroup(ctx.actor, resource.id!)));
}

/**
 * /scim/v2 for Okta, Entra ID and any RFC 7644 client. The bearer token decides the org; lists are
 * filtered and paged in SQL; the user reads and writes IdPs make most are answered without SCIMMY's
 * coercion (user-routes.ts); the rest goes through SCIMMY (groups, unusual bodies, discovery).
 */
export function createScimRouter(deps: ScimDeps): Router {
  declareResources();
  // An app of its own, mounted under the server's: express would otherwise send weak ETags and answer
  // If-None-Match with 304, while /ServiceProviderConfig says (truly) that ETags are not supported.
  const router = express();
  router.set('etag', false);
  router.disable('x-powered-by');

  // express 5 re-parses req.query on every read, which loses SCIMMY's numeric startIndex/count: pin it once.
  router.use((req, _res, next) => {
    Object.defineProperty(req, 'query', { value: { ...req.query }, writable: true, configurable: true, enumerable: true });
    next();
  });

  const limits = deps.limits ? createScimLimits(deps.limits) : undefined;
  router.use(async (req, res, next) => {
    const header = req.get('authorization') ?? '';
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    let principal: Awaited<ReturnType<typeof deps.domain.scimTokens.authenticate>>;
    try {
      principal = match ? await deps.domain.scimTokens.authenticate(match[1]!) : undefined;
    } catch (err) {
      // Never a 401 for our own trouble: an IdP that sees 401 may stop provisioning altogether.
      sendFailure(res, deps.log, err, 'token check');
      return;
    }
    if (!principal) {
      // Counted here, before answering: concurrent guesses and dropped connections count too.
      const wait = await limits?.tokenRefused(req.ip ?? 'unknown');
      if (wait) return tooMany(res, wait, 'Too many requests with an invalid token from your address. Try again later with a valid token.');
      res.set('WWW-Authenticate', 'Bearer realm="Roster SCIM"');
      sendError(
        res,
        401,
        match
          ? 'The bearer token is not valid: it may be wrong, revoked or expired. Create a new one with `/org scim create`.'
          : 'Send the SCIM token as "Authorization: Bearer <token>".',
      );
      return;
    }
    const wait = await limits?.tokenUsed(principal.tokenId);
    if (wait)
      return tooMany(
        res,
        wait,
        `Too many requests for this SCIM token: at most ${limits!.settings.scimPerTokenPerMinute} a minute. Retry after the time in Retry-After.`,
      );
    const ctx: ScimContext = {
      actor: { type: 'scim', tokenId: principal.tokenId, orgId: principal.orgId, label: principal.name },
      domain: deps.domain,
      log: deps.log,
      patching: req.method === 'PATCH',
      res,
    };
    (req as Request & { scim?: ScimContext }).scim = ctx;
    // A user created, or given a first email, may have been asked for consent (an address off the org's
    // verified domains): deliver that notice now, not at the next poll.
    if (deps.kickOutbox && (req.method === 'POST' || req.method === 'PUT' || req.method === 'PATCH'))
      res.on('finish', () => res.statusCode < 300 && deps.kickOutbox!());
    next();
  });

  router.use((req, res, next) => {
    if (['POST', 'PUT', 'PATCH'].includes(req.method) && !req.is(['application/scim+json', 'application/json'])) {
      sendError(res, 415, 'Send the body as application/scim+json (or application/json).', 'invalidSyntax');
      return;
    }
    next();
  });

  router.use(express.json({ type: ['application/scim+json', 'application/json'], limit: BODY_LIMIT, strict: true, verify: refuseDeepJson }));
  router.use((err: { type?: string; status?: number; message?: string }, _req: Request, res: Response, next: NextFunction) => {
    if (err?.type === 'entity.too.large') return sendError(res, 413, `The request body is larger than ${BODY_LIMIT}.`, 'tooLarge');
    if (err?.type === 'entity.parse.failed') return sendError(res, 400, 'The request body is not valid JSON.', 'invalidSyntax');
    if (err?.type === 'entity.too.deep')
      return sendError(res, 400, `The request body nests arrays and objects more than ${MAX_JSON_DEPTH} levels deep.`, 'invalidSyntax');
    if (err?.status && err.status < 500) return sendError(res, err.status, err.message ?? 'Bad request.', 'invalidSyntax');
    next(err);
  });
  router.use((req, _res, next) => {
    if (req.body && typeof req.body === 'object') req.body = req.method === 'PATCH' ? normalizePatch(req.body) : normalizeBooleans(req.body);
    next();
  });
  // attributes/excludedAttributes become SCIMMY filters (lists and reads, ours and SCIMMY's): checked first.
  // So is a filter sent with a write: SCIMMY parses it (and can fail with a TypeError, a 500), ours ignores it.
  router.use((req, res, next) => {
    const q = req.query as Record<string, unknown>;
    try {
      if (req.method !== 'GET' && q.filter !== undefined) {
        if (typeof q.filter !== 'string' || !q.filter.trim())
          throw new SCIMMY.Types.Error(400, 'invalidFilter', 'Send one filter expression, e.g. filter=userName eq "ada@example.com".');
        checkFilter(q.filter);
      }
      checkAttributes('attributes', q.attributes);
      checkAttributes('excludedAttributes', q.excludedAttributes);
      for (const k of ['attributes', 'excludedAttributes'] as const) if (typeof q[k] === 'string' && q[k]) q[k] = normalizedAttributes(q[k] as string);
    } catch (err) {
      return sendFailure(res, deps.log, err, 'attribute check');
    }
    next();
  });
  router.patch('/:type/:id', (req, res, next) => {
    const problem = patchProblem(req.body);
    if (problem) return sendError(res, 400, problem.detail, problem.scimType);
    next();
  });

  const ctxOf = (req: Request) => (req as Request & { scim: ScimContext }).scim;
  const base = (req: Request) => `${deps.publicUrl}${req.baseUrl}`;

  /** GET list: filter → SQL, page in SQL, then SCIMMY shapes each resource (attributes/excludedAttributes). */
  function listRoute(kind: 'Users' | 'Groups') {
    return async (req: Request, res: Response) => {
      const ctx = ctxOf(req);
      try {
        const q = req.query as Record<string, string | undefined>;
        const Resource = kind === 'Users' ? SCIMMY.Resources.User : SCIMMY.Resources.Group;
        const params = Object.fromEntries(
          (['filter', 'attributes', 'excludedAttributes'] as const).filter((k) => typeof q[k] === 'string' && q[k] !== '').map((k) => [k, q[k]]),
        );
        if (params.filter) checkFilter(params.filter);
        const shape = new Resource(params as never);
        const startIndex = Math.max(1, Number.parseInt(q.startIndex ?? '1', 10) || 1);
        const count = Math.min(MAX_PAGE, Math.max(0, Number.parseInt(q.count ?? String(DEFAULT_COUNT), 10) || (q.count === '0' ? 0 : DEFAULT_COUNT)));
        const query = { anyOf: filterTerms(shape.filter, kind), startIndex, count, withMembers: !/\bmembers\b/i.test(q.excludedAttributes ?? '') };
        const page = kind === 'Users' ? await ctx.domain.scim.listUsers(ctx.actor, query) : await ctx.domain.scim.listGroups(ctx.actor, query);
        const location = `${base(req)}/${kind}`;
        const plain = !params.attributes && !params.excludedAttributes;
        const Resources = (page.items as never[]).map((item) =>
          kind === 'Users'
            ? plain
              ? userResource(item, location)
              : new SCIMMY.Schemas.User(toScimUser(item) as never, 'out', location, shape.attributes as never)
            : new SCIMMY.Schemas.Group(toScimGroup(item) as never, 'out', location, shape.attributes as never),
        );
        sendScim(res, 200, { schemas: [LIST_SCHEMA], totalResults: page.total, startIndex, itemsPerPage: Resources.length, Resources });
      } catch (err) {
        sendFailure(res, ctx.log, err, 'list');
      }
    };
  }
  router.get('/Users', listRoute('Users'));
  userRoutes(router, { ctxOf, base });
  router.get('/Groups', listRoute('Groups'));
  router.post(['/.search', '/Users/.search', '/Groups/.search'], (_req, res) => sendError(res, 501, 'POST .search is not supported; use GET with a filter.'));
  // SCIMMY would look the token's actor type up as a user id (a 404 "no such user"): a token is no user.
  router.all('/Me', (_req, res) => sendError(res, 501, 'The SCIM token belongs to the organization, not to a user: /Me is not supported.'));

  // RFC 7644 §3.3: a 201 SHALL carry Location, the resource's URI, the same as its meta.location.
  router.post(['/Users', '/Groups'], (_req, res, next) => {
    beforeSend(res, (body) => {
      const location = res.statusCode === 201 ? (body as { meta?: { location?: unknown } } | undefined)?.meta?.location : undefined;
      if (typeof location === 'string' && !res.get('Location')) res.set('Location', location);
      return undefined;
    });
    next();
  });
  // SCIMMY answers its discovery lists with itemsPerPage 20 whatever they hold: it is what this page holds.
  router.get(['/ResourceTypes', '/Schemas'], (_req, res, next) => {
    beforeSend(res, (body) => {
      const list = body as { Resources?: unknown; itemsPerPage?: unknown } | undefined;
      return res.statusCode === 200 && Array.isArray(list?.Resources) ? { ...list, itemsPerPage: list.Resources.length } : undefined;
    });
    next();
  });

  const scimmy = new SCIMMYRouters({
    type: 'bearer',
    docUri: `${deps.publicUrl}/docs/scim`,
    handler: async (req: Request) => ctxOf(req).actor.type,
    context: (req: Request) => ctxOf(req),
    baseUri: () => deps.publicUrl,
  });
  // Tell clients only what is true (SCIMMYRouters advertises sort and bulk by default).
  SCIMMY.Config.set({
    patch: true,
    filter: { supported: true, maxResults: MAX_PAGE },
    sort: false,
    bulk: false,
    etag: false,
    changePassword: false,
  });
  router.use(scimmy);
  // The SCIM surface's last error handler: whatever is left (a path that does not decode, a failure
  // outside a handler) is a SCIM error, never an HTML page. SCIMMY hands 5xx errors on after answering;
  // express would then cut the connection.
  router.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (res.headersSent) {
      // SCIMMY answered already (a 500 from inside it): the cause is still ours to see.
      if (!clientErrorStatus(err)) deps.log.error({ err }, 'SCIM request failed after its answer was sent');
      return;
    }
    const status = clientErrorStatus(err);
    if (status)
      return sendError(
        res,
        status,
        status === 400 ? 'The request could not be read: its path or query is malformed.' : 'The request was refused.',
        status === 400 ? 'invalidSyntax' : undefined,
      );
    sendFailure(res, deps.log, err, 'request');
  });
  return router as unknown as Router;
}
