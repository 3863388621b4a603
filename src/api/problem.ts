import type { ServerResponse } from 'node:http';
import { isDatabaseUnavailable, isDomainError, type ErrorCode } from '../domain/errors.js';
import type { Logger } from '../logger.js';

/**
 * Domain refusals as RFC 9457 problem details (application/problem+json): the HTTP status each code
 * means here (the compiler fails when a code is added without one), the code itself as `code`, the
 * domain's message as `detail`, and the input field when the domain named one.
 */
export const problemStatus: Record<ErrorCode, number> = {
  invalid_input: 400,
  not_found: 404,
  forbidden: 403,
  not_a_member: 404,
  no_active_org: 409,
  org_not_found: 404,
  slug_taken: 409,
  confirmation_mismatch: 400,
  member_not_found: 404,
  primary_owner_protected: 409,
  last_owner: 409,
  sole_member: 409,
  use_leave: 409,
  primary_owner_billing: 409,
  transfer_target_not_owner: 409,
  already_member: 409,
  single_membership: 409,
  seat_limit: 409,
  invite_pending: 409,
  invite_not_found: 404,
  invite_not_pending: 409,
  invite_expired: 410,
  invite_revoked: 410,
  invite_used: 409,
  invite_declined: 409,
  invite_wrong_email: 403,
  join_request_not_found: 404,
  join_request_decided: 409,
  join_request_pending: 409,
  own_request: 403,
  scim_token_not_found: 404,
  scim_token_name_taken: 409,
  scim_unauthorized: 401,
  scim_user_not_found: 404,
  scim_group_not_found: 404,
  scim_uniqueness: 409,
  scim_managed: 409,
  scim_no_email: 400,
  invalid_filter: 400,
  invalid_domain: 400,
  domain_not_claimable: 400,
  domain_already_added: 409,
  domain_not_found: 404,
  domain_taken: 409,
  domain_not_verified: 409,
  webhook_not_found: 404,
  webhook_limit_reached: 409,
  feed_cursor_expired: 410,
  consent_not_found: 404,
  consent_not_pending: 409,
  membership_pending: 403,
  api_key_not_found: 404,
  api_key_name_taken: 409,
  api_unauthorized: 401,
  slack_email_unconfirmed: 403,
  slack_link_invalid: 410,
};

export type Problem = { status: number; code: string; title: string; detail: string; field?: string | undefined };

const titles: Record<number, string> = {
  400: 'Bad request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not found',
  405: 'Method not allowed',
  409: 'Conflict',
  410: 'Gone',
  413: 'Payload too large',
  415: 'Unsupported media type',
  429: 'Too many requests',
  500: 'Internal server error',
  503: 'Service unavailable',
};

export function problem(status: number, code: string, detail: string, field?: string): Problem {
  return { status, code, title: titles[status] ?? 'Error', detail, ...(field ? { field } : {}) };
}

/**
 * Writes a problem on any Node response (express's included: both the routed and the direct path answer
 * with this one writer). Headers set before (Retry-After) are kept.
 */
export function sendProblem(res: ServerResponse, p: Problem) {
  if (res.headersSent) return;
  if (p.status === 401) res.setHeader('WWW-Authenticate', 'Bearer realm="roster-api"');
  write(res, p.status, 'application/problem+json; charset=utf-8', JSON.stringify({ type: 'about:blank', ...p }));
}

/** A JSON answer (no ETag: API answers are not cached). */
export function sendJson(res: ServerResponse, status: number, value: unknown) {
  if (res.headersSent) return;
  write(res, status, 'application/json; charset=utf-8', JSON.stringify(value));
}

function write(res: ServerResponse, status: number, type: string, text: string) {
  res.statusCode = status;
  res.setHeader('Content-Type', type);
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}

export const bodyTooLarge = () => problem(413, 'payload_too_large', 'The body is over 100 kB. Send less at a time (e.g. invites in batches).');
export const bodyUnreadable = (status = 400) =>
  problem(status, 'invalid_request', 'The request could not be read: send JSON (Content-Type: application/json), at most 100 kB.');

/**
 * What a request that threw is answered: a domain refusal as its problem, an unreadable body as 4xx, the
 * database being away as 503 (retry in 30 s); anything else is logged and is a 500 that says nothing changed.
 */
export function problemOf(err: unknown, log: Logger): Refusal {
  if (isDomainError(err)) return { problem: problem(problemStatus[err.code], err.code, err.message, err.field) };
  const status = Number((err as { status?: number })?.status);
  if (status === 413) return { problem: bodyTooLarge() };
  if (status >= 400 && status < 500) return { problem: bodyUnreadable(status) };
  if (isDatabaseUnavailable(err)) return { problem: problem(503, 'unavailable', 'Roster is briefly unavailable. Try again in a minute.'), retryAfter: 30 };
  log.error({ err }, 'API request failed');
  return { problem: problem(500, 'internal', 'Something went wrong on our side. Nothing was changed.') };
}

/** A refusal: its problem, and for 429 and 503 the seconds to say in Retry-After. */
export type Refusal = { problem: Problem; retryAfter?: number };

export function sendRefusal(res: ServerResponse, r: Refusal) {
  if (r.retryAfter !== undefined && !res.headersSent) res.setHeader('Retry-After', String(r.retryAfter));
  sendProblem(res, r.problem);
}

/** problemOf, sent. */
export const sendError = (res: ServerResponse, err: unknown, log: Logger) => sendRefusal(res, problemOf(err, log));
