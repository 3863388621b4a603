import { randomBytes } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { isDatabaseUnavailable, isInvalidDataError } from '../domain/errors.js';
import type { Logger } from '../logger.js';
import { CONTENT_SECURITY_POLICY, html, page } from '../shared/html.js';

/**
 * The app's last word on a request no router answered, or whose error no router handled: an answer in
 * the format of the surface the request was for (SCIM error JSON under /scim/v2, JSON for /slack, a
 * plain page elsewhere), never a stack trace, a server path or express's default page. Each router
 * still answers its own errors first (the SCIM router, the invite pages); this catches what is left.
 */
type Surface = 'scim' | 'slack' | 'page';

const SCIM_ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';

function surfaceOf(path: string): Surface {
  if (/^\/scim(\/|$)/.test(path)) return 'scim';
  if (/^\/slack(\/|$)/.test(path)) return 'slack';
  return 'page';
}

/**
 * The status an error deserves. A 4xx that express or a body parser attached keeps its status
 * (a malformed percent-encoding is 400, entity.too.large 413, entity.parse.failed 400); input
 * PostgreSQL refused as data is the caller's 400; an unreachable database is 503; anything else is ours.
 */
export function statusOf(err: unknown): number {
  const e = err as { status?: unknown; statusCode?: unknown } | undefined;
  const status = Number(e?.status ?? e?.statusCode);
  if (status >= 400 && status < 500) return status;
  if (err instanceof URIError || isInvalidDataError(err)) return 400;
  if (isDatabaseUnavailable(err)) return 503;
  return 500;
}

type Answer = { status: number; title: string; detail: string; code: string; scimType?: string };

function answerFor(status: number, err: unknown, ref?: string): Answer {
  switch (status) {
    case 400:
      return isInvalidDataError(err)
        ? {
            status,
            title: 'That input is not accepted',
            detail: 'The request holds a character Roster does not accept, or a number out of range. Nothing was changed.',
            code: 'invalid_input',
            scimType: 'invalidValue',
          }
        : {
            status,
            title: 'That request could not be read',
            detail: 'The request could not be read: its path, query or body is malformed. Nothing was changed.',
            code: 'invalid_request',
            scimType: 'invalidSyntax',
          };
    case 404:
      return { status, title: 'Page not found', detail: 'There is nothing at this address.', code: 'not_found' };
    case 413:
      return {
        status,
        title: 'Too much data',
        detail: 'The request body is larger than Roster accepts. Nothing was changed.',
        code: 'too_large',
        scimType: 'tooLarge',
      };
    case 503:
      return {
        status,
        title: 'Roster is briefly unavailable',
        detail: 'Roster cannot reach its database right now. Nothing was changed; please try again in a minute.',
        code: 'unavailable',
      };
    case 500:
      return {
        status,
        title: 'Something went wrong on our side',
        detail: `Something went wrong on our side${ref ? ` (ref ${ref})` : ''}. Please try again in a moment.`,
        code: 'internal_error',
      };
    default:
      return { status, title: 'That request was refused', detail: 'The request was refused. Nothing was changed.', code: 'refused' };
  }
}

function send(req: Request, res: Response, a: Answer) {
  if (a.status === 503) res.set('Retry-After', '30');
  switch (surfaceOf(req.path)) {
    case 'scim':
      res
        .status(a.status)
        .type('application/scim+json')
        .send(JSON.stringify({ schemas: [SCIM_ERROR_SCHEMA], status: String(a.status), ...(a.scimType ? { scimType: a.scimType } : {}), detail: a.detail }));
      return;
    case 'slack':
      res.status(a.status).json({ ok: false, error: a.code, message: a.detail });
      return;
    case 'page':
      res.set({
        'Cache-Control': 'no-store',
        'X-Content-Type-Options': 'nosniff',
        'Content-Security-Policy': CONTENT_SECURITY_POLICY,
        'Referrer-Policy': 'no-referrer',
      });
      res
        .status(a.status)
        .type('html')
        .send(page(a.title, html`<h1>${a.title}</h1><p>${a.detail}</p>`));
  }
}

/** Mounted after every router: a path nobody serves. */
export function notFoundHandler() {
  return (req: Request, res: Response) => send(req, res, answerFor(404, undefined));
}

/** Mounted last. Logs our own failures with a reference the answer repeats; never the URL (invite links hold tokens). */
export function errorHandler(log?: Logger) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction) => {
    if (res.headersSent) {
      // Half an answer went out: cut it rather than append an error to it.
      if (!res.writableEnded) res.destroy();
      return;
    }
    const status = statusOf(err);
    const ref = status >= 500 ? randomBytes(4).toString('hex') : undefined;
    if (status === 503)
      log?.warn({ err: (err as Error)?.message, ref, method: req.method, surface: surfaceOf(req.path) }, 'request failed: database unavailable');
    else if (status >= 500) log?.error({ err, ref, method: req.method, surface: surfaceOf(req.path) }, 'request failed');
    send(req, res, answerFor(status, err, ref));
  };
}
