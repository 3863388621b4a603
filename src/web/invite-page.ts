import { createHmac } from 'node:crypto';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { describeRole, oneWhoMay } from '../domain/access.js';
import { displayNameSchema } from '../domain/accounts.js';
import { systemClock, type Clock } from '../domain/context.js';
import { type ErrorCode, isDomainError, isDatabaseUnavailable, isInvalidDataError } from '../domain/errors.js';
import type { Domain } from '../domain/index.js';
import type { InviteLookup } from '../domain/invites.js';
import { utcDate } from '../shared/text.js';
import { looksLikeToken, sameSecret } from '../domain/tokens.js';
import { withoutUnsafeCharacters } from '../domain/validation.js';
import type { Logger } from '../logger.js';
import { type SafeHtml, html, page } from '../shared/html.js';
import { basePathOf, field, refusalStatus, securityHeaders } from './page-kit.js';
import { declinedPage, expiryText, joinedPage, messagePage, serverErrorPage, unknownPage, type Rendered } from './invite-views.js';

export type InvitePageDeps = {
  domain: Domain;
  log: Logger;
  csrfKey: Buffer;
  publicUrl: string;
  /** Only for the "expires in N days" wording; the domain decides what is expired. */
  clock?: Clock;
};

/** Small forms only: a CSRF value and a name. */
const BODY_LIMIT = '10kb';

/** Refusals that mean "this link is not usable any more": the state page says it best. */
const stateCodes = new Set<ErrorCode>(['invite_not_found', 'invite_expired', 'invite_revoked', 'invite_used', 'invite_declined', 'invite_not_pending']);

/**
 * GET/POST /invites/:token — the page an invitee reaches from the email link. Plain HTML forms (no
 * JavaScript); the token in the path is the credential, so it never reaches a log line, is never sent
 * as a Referer, and the pages are never cached or framed.
 */
export function createInvitePages(deps: InvitePageDeps): Router {
  const { domain, log } = deps;
  const clock = deps.clock ?? systemClock;
  // Behind a proxy PUBLIC_URL may carry a path prefix (https://example.com/roster): links keep it.
  const base = basePathOf(deps.publicUrl);
  const links = {
    page: (token: string) => `${base}/invites/${token}`,
    accept: (token: string) => `${base}/invites/${token}/accept`,
    decline: (token: string) => `${base}/invites/${token}/decline`,
  };
  const csrfFor = (token: string) => createHmac('sha256', deps.csrfKey).update(`invite:${token}`).digest('base64url');

  const router = express.Router();
  router.use(securityHeaders);
  const form = express.urlencoded({ extended: false, limit: BODY_LIMIT, parameterLimit: 10 });

  router.get(['/:token', '/:token/accept', '/:token/decline'], async (req, res) => {
    const token = tokenParam(req);
    if (!token) return send(res, unknownPage());
    send(res, await statePage(token));
  });

  router.post('/:token/accept', form, async (req, res) => {
    const token = tokenParam(req);
    if (!token) return send(res, unknownPage());
    if (!csrfOk(req, token)) return send(res, csrfPage(token));
    const name = field(req, 'name').trim();
    if (name) {
      const parsed = displayNameSchema.safeParse(name);
      // What was typed is shown back to correct it, without the characters that were refused.
      if (!parsed.success)
        return send(
          res,
          await statePage(token, { status: 400, error: parsed.error.issues[0]?.message ?? 'That name is not valid.', name: withoutUnsafeCharacters(name) }),
        );
    }
    try {
      const r = await domain.invites.acceptByToken(token, name ? { displayName: name } : {});
      log.info({ inviteId: r.invite.id, orgId: r.org.id, alreadyMember: r.alreadyMember }, 'invite accepted through the link');
      send(res, joinedPage(r.org.name, describeRole(r.membership.role), r.alreadyMember));
    } catch (err) {
      send(res, await refusalPage(err, token, 'accept'));
    }
  });

  router.post('/:token/decline', form, async (req, res) => {
    const token = tokenParam(req);
    if (!token) return send(res, unknownPage());
    if (!csrfOk(req, token)) return send(res, csrfPage(token));
    try {
      const invite = await domain.invites.declineByToken(token);
      log.info({ inviteId: invite.id, orgId: invite.orgId }, 'invite declined through the link');
      const lookup = await domain.invites.lookupByToken(token);
      send(res, declinedPage(lookup));
    } catch (err) {
      send(res, await refusalPage(err, token, 'decline'));
    }
  });

  // Anything else under /invites (no token, extra path parts, other methods) reads as an unknown link.
  router.use((_req: Request, res: Response) => send(res, unknownPage()));

  // Errors never show a stack trace or the path (which holds the token), and are logged without it.
  router.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const e = err as { status?: number; statusCode?: number; type?: string };
    const status = e?.status ?? e?.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      if (!e.type && status === 400) return send(res, unknownPage()); // a path that does not decode is not a token
      if (status === 413)
        return send(
          res,
          messagePage(413, 'Too much data', 'That was more than this form accepts, so nothing was changed. Go back to your invite link and try again.'),
        );
      return send(res, messagePage(status, 'That request could not be read', 'Nothing was changed. Go back to your invite link and try again.'));
    }
    if (isInvalidDataError(err)) {
      // Validation should have refused it first: worth a line, but it is the visitor's input, not our failure.
      log.warn({ err: (err as Error).message }, 'invite page: the database refused a value');
      return send(
        res,
        messagePage(
          400,
          'That input is not accepted',
          'It holds a character Roster does not accept, so nothing was changed. Go back to your invite link and try again.',
        ),
      );
    }
    if (isDatabaseUnavailable(err)) {
      log.warn({ err: (err as Error).message }, 'invite page: database unavailable');
      res.set('Retry-After', '30');
      return send(res, messagePage(503, 'Roster is briefly unavailable', 'Nothing was changed. Please try your invite link again in a minute.'));
    }
    log.error({ err }, 'invite page failed');
    send(res, serverErrorPage());
  });

  function send(res: Response, r: Rendered) {
    if (res.headersSent) return;
    res.status(r.status).type('html').send(page(r.title, r.body));
  }

  function csrfOk(req: Request, token: string): boolean {
    // Browsers say when a form was posted from another site; no other site has a reason to post here.
    if (req.get('sec-fetch-site') === 'cross-site') return false;
    const given = field(req, 'csrf');
    return given !== '' && sameSecret(given, csrfFor(token));
  }

  async function lookup(token: string): Promise<InviteLookup | undefined> {
    try {
      return await domain.invites.lookupByToken(token);
    } catch (err) {
      if (isDomainError(err, 'invite_not_found')) return undefined;
      throw err;
    }
  }

  async function statePage(token: string, opts: { status?: number; error?: string; name?: string } = {}): Promise<Rendered> {
    const l = await lookup(token);
    if (!l) return unknownPage();
    const r = renderState(l, token, opts);
    // A form error only concerns a pending invite; any other state speaks for itself.
    return opts.status && l.state === 'pending' ? { ...r, status: opts.status } : r;
  }

  function renderState(l: InviteLookup, token: string, opts: { error?: string; name?: string } = {}): Rendered {
    const org = l.org.name;
    const inviter = l.invitedByName;
    switch (l.state) {
      case 'pending':
        return {
          status: 200,
          title: `Join ${org}`,
          body: html`
<h1>Join ${org}</h1>
<p>${inviter ? html`<strong>${inviter}</strong> invited you` : "You're invited"} to join <strong>${org}</strong> on Roster.</p>
${opts.error ? html`<p class="error" role="alert">${opts.error}</p>` : ''}
<dl>
<dt>Organization</dt><dd>${org}</dd>
<dt>Invited by</dt><dd>${inviter ?? `Someone at ${org}`}</dd>
<dt>Role</dt><dd>${describeRole(l.invite.role)}</dd>
<dt>Invite for</dt><dd>${l.invite.email}</dd>
<dt>Expires</dt><dd>${expiryText(l.invite.expiresAt, clock.now())}</dd>
</dl>
${l.invite.billingEmails ? html`<p class="note">You will also receive ${org}'s billing emails.</p>` : ''}
<form method="post" action="${links.accept(token)}">
<input type="hidden" name="csrf" value="${csrfFor(token)}">
<label for="name">Your name <span class="hint">(optional, for people new to Roster)</span></label>
<input type="text" id="name" name="name" maxlength="80" autocomplete="name" value="${opts.name ?? ''}">
<div class="actions"><button type="submit" class="primary">Accept invite</button></div>
</form>
${declineForm(token, 'Not for you?')}`,
        };
      case 'accepted':
        return {
          status: 200,
          title: `You're already in ${org}`,
          body: html`
<h1>You're already in ${org}</h1>
<p>This invite has already been used to join <strong>${org}</strong>, so there is nothing more to do here.</p>
<p class="note">If you did not accept it yourself, tell someone at ${org}.</p>`,
        };
      case 'declined':
        return {
          status: 200,
          title: 'This invite was declined',
          body: html`
<h1>This invite was declined</h1>
<p>The invite to join <strong>${org}</strong> was declined, so this link no longer works.</p>
<p class="note">Changed your mind? Ask ${inviter ?? `someone at ${org}`} to invite you again.</p>`,
        };
      case 'expired':
        return {
          status: 410,
          title: 'This invite has expired',
          body: html`
<h1>This invite has expired</h1>
<p>The invite to join <strong>${org}</strong> expired${l.invite.expiresAt ? ` on ${utcDate(l.invite.expiresAt)}` : ''}, so it can no longer be accepted.</p>
<p>Ask ${inviter ?? `${oneWhoMay('member:invite')} of ${org}`} to send you a new invite.</p>
${declineForm(token, 'Not interested? You can still decline it, so they know.')}`,
        };
      case 'revoked':
        return {
          status: 410,
          title: 'This invite was withdrawn',
          body: html`
<h1>This invite was withdrawn</h1>
<p><strong>${org}</strong> withdrew this invite, so the link no longer works.</p>
<p class="note">If you still need access, ask ${inviter ?? `someone at ${org}`} for a new invite.</p>`,
        };
    }
  }

  function declineForm(token: string, lead: string): SafeHtml {
    return html`
<form method="post" action="${links.decline(token)}">
<input type="hidden" name="csrf" value="${csrfFor(token)}">
<p class="note decline">${lead}</p>
<div class="actions"><button type="submit" class="secondary">Decline invite</button></div>
</form>`;
  }

  function csrfPage(token: string): Rendered {
    return {
      status: 403,
      title: 'Please try again',
      body: html`
<h1>Please try again</h1>
<p>This form could not be verified, so for your safety nothing was changed.</p>
<p><a href="${links.page(token)}">Open the invite again</a> and use its buttons.</p>`,
    };
  }

  /** A refusal from the domain: the link's state page when the link is no longer usable, else the reason. */
  async function refusalPage(err: unknown, token: string, action: 'accept' | 'decline'): Promise<Rendered> {
    if (!isDomainError(err)) throw err;
    const status = refusalStatus[err.code];
    if (stateCodes.has(err.code)) {
      const r = await statePage(token);
      return { ...r, status: err.code === 'invite_not_found' ? 404 : status };
    }
    const l = await lookup(token);
    const org = l?.org.name;
    return {
      status,
      title: action === 'accept' ? 'You could not join yet' : 'The invite could not be declined',
      body: html`
<h1>${action === 'accept' ? (org ? `You could not join ${org} yet` : 'You could not join yet') : 'The invite could not be declined'}</h1>
<p class="error" role="alert">${err.message}</p>
<p>Nothing was changed. <a href="${links.page(token)}">Back to the invite</a></p>`,
    };
  }

  return router;
}

/** The token from the path, or undefined when it is not shaped like a token Roster issues. */
function tokenParam(req: Request): string | undefined {
  const t = req.params.token;
  return typeof t === 'string' && looksLikeToken(t) ? t : undefined;
}
