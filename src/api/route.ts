import { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import type { Router } from 'express';
import { z } from 'zod';
import type { Actor } from '../domain/context.js';
import type { Domain } from '../domain/index.js';
import { problem, sendJson, sendProblem, type Problem } from './problem.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../logger.js';

/**
 * One API route, declared once: the zod schemas that validate its path, query and body are the ones its
 * OpenAPI description is generated from (openapi.ts), so the document cannot drift from what is checked.
 */
export type RouteSpec<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType, R extends z.ZodType> = {
  method: 'get' | 'post' | 'patch' | 'delete';
  /** Express form (`/orgs/:org`); the document shows it as `/orgs/{org}`. */
  path: string;
  summary: string;
  description?: string;
  tags: string[];
  params?: P;
  query?: Q;
  body?: B;
  /** The success answer: its status and schema (undefined schema: no body, e.g. 204). */
  ok: { status: 200 | 201 | 204; schema?: R; description: string };
  /** The problem statuses this route can answer besides 401/429/5xx. */
  problems: number[];
  handle: (ctx: {
    actor: Actor;
    domain: Domain;
    params: z.infer<P>;
    query: z.infer<Q>;
    body: z.infer<B>;
    publicUrl: string;
    /** Deliver what the change queued (invite emails) now, not at the next poll. */
    kickOutbox: () => void;
  }) => Promise<z.input<R> | undefined>;
};

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyRoute = RouteSpec<any, any, any, any>;

export function defineRoute<
  P extends z.ZodType = z.ZodObject,
  Q extends z.ZodType = z.ZodObject,
  B extends z.ZodType = z.ZodUnknown,
  R extends z.ZodType = z.ZodUnknown,
>(spec: RouteSpec<P, Q, B, R>): RouteSpec<P, Q, B, R> {
  return spec;
}

/** A zod failure in a request, said as one sentence that names the field. */
function inputProblem(where: string, err: z.ZodError) {
  const issue = err.issues[0];
  const field = issue?.path.length ? issue.path.join('.') : undefined;
  return problem(
    400,
    'invalid_input',
    `${field ? `${where} field "${field}"` : `The ${where}`}: ${issue?.message ?? 'is not valid'}.`.replace(/\.\.$/, '.'),
    field,
  );
}

export type RouteDeps = { domain: Domain; publicUrl: string; kickOutbox?: (() => void) | undefined; log?: Logger | undefined };

/** A request as a route sees it, whichever HTTP path read it. */
export type RouteRequest = {
  actor: Actor;
  params: unknown;
  query: unknown;
  /** The parsed JSON body (undefined when none was sent). */
  body: unknown;
  /** A body was sent, and whether it was declared JSON. */
  sent: boolean;
  json: boolean;
};

/**
 * One route's work, framework-free: validation first (path, query, media type, body), then the handler
 * with the key's actor; its answer or the problem to send. Errors the handler throws go to the caller.
 */
export async function runRoute(route: AnyRoute, deps: RouteDeps, r: RouteRequest): Promise<{ status: number; json?: unknown } | { problem: Problem }> {
  const params = route.params ? route.params.safeParse(r.params) : { success: true as const, data: {} };
  if (!params.success) return { problem: inputProblem('path', params.error) };
  const query = route.query ? route.query.safeParse(r.query) : { success: true as const, data: {} };
  if (!query.success) return { problem: inputProblem('query', query.error) };
  if (route.body && r.sent && !r.json)
    return { problem: problem(415, 'unsupported_media_type', 'Send the body as JSON, with Content-Type: application/json.') };
  const body = route.body ? route.body.safeParse(r.body ?? {}) : { success: true as const, data: undefined };
  if (!body.success) return { problem: inputProblem('body', body.error) };
  const out = await route.handle({
    actor: r.actor,
    domain: deps.domain,
    params: params.data,
    query: query.data,
    body: body.data,
    publicUrl: deps.publicUrl,
    kickOutbox: deps.kickOutbox ?? (() => {}),
  });
  if (route.ok.status === 204 || out === undefined) return { status: route.ok.status };
  // The change (if any) is committed: an answer that strays from its declared shape is logged, not refused.
  const shaped = route.ok.schema?.safeParse(out);
  if (shaped && !shaped.success)
    deps.log?.warn({ route: `${route.method} ${route.path}`, issue: shaped.error.issues[0]?.message }, 'API answer does not match its schema');
  return { status: route.ok.status, json: shaped?.success ? shaped.data : out };
}

/** Whether the request carries a body (chunked, or a Content-Length other than 0). */
export const bodySent = (req: IncomingMessage) => req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] ?? '0') !== '0';

/** Sends what runRoute answered. */
export function sendAnswer(res: ServerResponse, answer: Awaited<ReturnType<typeof runRoute>>) {
  if ('problem' in answer) return sendProblem(res, answer.problem);
  if (answer.json === undefined) return void res.writeHead(answer.status).end();
  sendJson(res, answer.status, answer.json);
}

/** Mounts the route on express's router (runRoute, on what express parsed). */
export function mount(router: Router, route: AnyRoute, deps: RouteDeps) {
  router[route.method](route.path, async (req, res, next) => {
    try {
      const json = Boolean(req.is(['application/json', 'application/*+json']));
      sendAnswer(
        res,
        await runRoute(route, deps, { actor: res.locals.actor as Actor, params: req.params, query: req.query, body: req.body, sent: bodySent(req), json }),
      );
    } catch (err) {
      next(err);
    }
  });
}

/** The document's form of an express path: `/orgs/:org` → `/orgs/{org}`. */
export function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z_]+)/g, '{$1}');
}

export function register(registry: OpenAPIRegistry, base: string, route: AnyRoute, problemSchema: z.ZodType) {
  // Every route may answer 401 and 429; a route with a body also 413 (over 100 kB) and 415 (not JSON).
  const problems = [...new Set([...route.problems, 401, 429, ...(route.body ? [413, 415] : [])])].sort();
  registry.registerPath({
    method: route.method,
    path: `${base}${openApiPath(route.path)}`,
    summary: route.summary,
    ...(route.description ? { description: route.description } : {}),
    tags: route.tags,
    security: [{ bearer: [] }],
    request: {
      ...(route.params ? { params: route.params } : {}),
      ...(route.query ? { query: route.query } : {}),
      ...(route.body ? { body: { required: true, content: { 'application/json': { schema: route.body } } } } : {}),
    },
    responses: {
      [route.ok.status]: {
        description: route.ok.description,
        ...(route.ok.schema ? { content: { 'application/json': { schema: route.ok.schema } } } : {}),
      },
      ...Object.fromEntries(problems.map((s) => [s, { description: `Problem (${s})`, content: { 'application/problem+json': { schema: problemSchema } } }])),
    },
  });
}
