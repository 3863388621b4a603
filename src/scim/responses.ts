import type { Response } from 'express';
import type { Logger } from '../logger.js';
import { scimError } from './mapping.js';

/** SCIM's error answers (RFC 7644 §3.12), shared by the router and its routes. */

const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';

/** A resource (or list) as SCIM's JSON, with its status. */
export function sendScim(res: Response, status: number, body: unknown) {
  res.status(status).type('application/scim+json').send(JSON.stringify(body));
}

export function sendError(res: Response, status: number, detail: string, scimType?: string) {
  sendScim(res, status, { schemas: [ERROR_SCHEMA], status: String(status), ...(scimType ? { scimType } : {}), detail });
}

/** 429 in SCIM's error form; Okta and Entra wait as long as Retry-After says. */
export function tooMany(res: Response, retryAfterSeconds: number, detail: string) {
  res.set('Retry-After', String(retryAfterSeconds));
  sendError(res, 429, detail);
}

/** A failed request answered as a SCIM error: our own trouble is logged, and a 503 says when to retry. */
export function sendFailure(res: Response, log: Logger, err: unknown, what: string) {
  const e = scimError(err);
  if (e.status >= 500) log.error({ err }, `SCIM ${what} failed`);
  if (e.status === 503) res.set('Retry-After', '30');
  sendError(res, e.status, e.message, e.scimType);
}
