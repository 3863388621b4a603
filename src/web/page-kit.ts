import { createHmac } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { isDatabaseUnavailable, type ErrorCode } from '../domain/errors.js';
import { sameSecret } from '../domain/tokens.js';
import type { Logger } from '../logger.js';
import { CONTENT_SECURITY_POLICY, page } from '../shared/html.js';
import { messagePage, serverErrorPage, type Rendered } from './invite-views.js';

/** What Roster's link pages (invites, consent requests) share: headers for a page whose URL is a credential, form fields, the path prefix. */

export function securityHeaders(_req: Request, res: Response, next: NextFunction) {
  // The token is in the URL: never send it on as a Referer, never cache or frame the page.
  res.set({
    'Referrer-Policy': 'no-referrer',
    'Cache-Control': 'no-store',
    'X-Frame-Options': 'DENY',
    'X-Content-Type-Options': 'nosniff',
    'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  });
  next();
}

export function sendPage(res: Response, r: Rendered) {
  if (res.headersSent) return;
  res.status(r.status).type('html').send(page(r.title, r.body));
}

/** The CSRF value of a link page's forms: bound to the page's token, so no other page's form fits. */
export function csrfFor(key: Buffer, purpose: string, token: string): string {
  return createHmac('sha256', key).update(`${purpose}:${token}`).digest('base64url');
}

/**
 * A form post this page made: the CSRF value matches, and the browser does not say it came from another
 * site (no other site has a reason to post here). Otherwise the answer for it, which changes nothing.
 */
export function refusedPost(req: Request, expected: string): Rendered | undefined {
  const given = field(req, 'csrf');
  if (req.get('sec-fetch-site') === 'cross-site' || !given || !sameSecret(given, expected))
    return messagePage(
      403,
      'Please try again',
      'This form could not be verified, so for your safety nothing was changed. Open the link from your email again.',
    );
  return undefined;
}

/** The last handler of a link page: never a stack trace or the path (which holds the token). */
export function linkPageErrors(log: Logger, what: string) {
  return (err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const status = Number((err as { status?: number })?.status);
    if (status >= 400 && status < 500)
      return sendPage(res, messagePage(status, 'That request could not be read', 'Nothing was changed. Open the link from your email again.'));
    if (isDatabaseUnavailable(err)) {
      res.set('Retry-After', '30');
      return sendPage(res, messagePage(503, 'Roster is briefly unavailable', 'Nothing was changed. Please try again in a minute.'));
    }
    log.error({ err }, `${what} failed`);
    sendPage(res, serverErrorPage());
  };
}

/** A single form field as a string ('' when missing or repeated). */
export function field(req: Request, name: string): string {
  const v = (req.body as Record<string, unknown> | undefined)?.[name];
  return typeof v === 'string' ? v : '';
}

export { basePathOf } from '../shared/url.js';

/**
 * How each refusal of the domain reads as an HTTP status on these pages (the compiler fails when a code
 * is added and not given one). Codes this page cannot meet still get the status they would mean.
 */
export const refusalStatus: Record<ErrorCode, number> = {
  invalid_input: 400,
  not_found: 404,
  forbidden: 403,
  not_a_member: 403,
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
  scim_unauthorized: 403,
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
