import express, { type Request, type Response, type Router } from 'express';
import type { ConsentAnswer, ConsentRequest } from '../domain/consents.js';
import { isDomainError } from '../domain/errors.js';
import type { Domain } from '../domain/index.js';
import type { Logger } from '../logger.js';
import { html } from '../shared/html.js';
import { messagePage, type Rendered } from './invite-views.js';
import { basePathOf, csrfFor, linkPageErrors, refusalStatus, refusedPost, securityHeaders, sendPage } from './page-kit.js';

export type ConsentPageDeps = { domain: Domain; log: Logger; csrfKey: Buffer; publicUrl: string };

/** A membership id, a dot, a 43-character signature: anything else is not a link Roster sent. */
const TOKEN_SHAPE = /^[0-9a-f-]{36}\.[A-Za-z0-9_-]{43}$/;

/**
 * GET/POST /consent/:token — where a person asked by another org's identity provider answers: the page
 * names the org and the address it claimed, and changes nothing until a button is pressed. Plain forms,
 * no JavaScript; the same header rules as the invite page (the token in the path is the credential).
 */
export function createConsentPages(deps: ConsentPageDeps): Router {
  const { domain, log } = deps;
  const base = basePathOf(deps.publicUrl);
  const action = (token: string, how: ConsentAnswer) => `${base}/consent/${token}/${how}`;
  const csrfOf = (token: string) => csrfFor(deps.csrfKey, 'consent', token);

  const router = express.Router();
  router.use(securityHeaders);
  const form = express.urlencoded({ extended: false, limit: '10kb', parameterLimit: 10 });

  router.get(['/:token', '/:token/accept', '/:token/decline'], async (req, res) => {
    const token = tokenParam(req);
    sendPage(res, token ? await statePage(token) : unknownConsent());
  });

  for (const how of ['accept', 'decline'] as const) {
    router.post(`/:token/${how}`, form, async (req, res) => {
      const token = tokenParam(req);
      if (!token) return sendPage(res, unknownConsent());
      const refused = refusedPost(req, csrfOf(token));
      if (refused) return sendPage(res, refused);
      try {
        const { org } = await domain.consents.answerByToken(token, how);
        log.info({ orgId: org.id, answer: how }, 'consent answered through the link');
        sendPage(
          res,
          how === 'accept'
            ? messagePage(200, `You joined ${org.name}`, `You accepted, so you are now a member of ${org.name}. You can close this page.`)
            : messagePage(
                200,
                'Declined',
                `You declined. ${org.name} does not get you as a member, and its identity provider cannot add you again without asking.`,
              ),
        );
      } catch (err) {
        if (!isDomainError(err)) throw err;
        if (err.code === 'consent_not_found' || err.code === 'consent_not_pending') return sendPage(res, await statePage(token));
        sendPage(res, messagePage(refusalStatus[err.code], 'That could not be done', `${err.message} Nothing was changed.`));
      }
    });
  }

  router.use((_req: Request, res: Response) => sendPage(res, unknownConsent()));

  router.use(linkPageErrors(log, 'consent page'));

  async function statePage(token: string): Promise<Rendered> {
    let r: ConsentRequest;
    try {
      r = await domain.consents.lookupByToken(token);
    } catch (err) {
      if (isDomainError(err, 'consent_not_found')) return unknownConsent();
      throw err;
    }
    if (!r.pending) return messagePage(200, `You're a member of ${r.orgName}`, `You already accepted, so there is nothing more to do here.`);
    return {
      status: 200,
      title: `Join ${r.orgName}?`,
      body: html`
<h1>Join ${r.orgName}?</h1>
<p>The identity provider of <strong>${r.orgName}</strong> asked Roster to add you as a member.</p>
<dl>
<dt>Organization</dt><dd>${r.orgName}</dd>
<dt>Your address</dt><dd>${r.email ?? 'the address this email was sent to'}</dd>
</dl>
<p class="note">Your address is not on a domain ${r.orgName} has verified, so you join only if you accept. If you don't know ${r.orgName}, decline.</p>
<form method="post" action="${action(token, 'accept')}">
<input type="hidden" name="csrf" value="${csrfOf(token)}">
<div class="actions"><button type="submit" class="primary">Accept and join</button></div>
</form>
<form method="post" action="${action(token, 'decline')}">
<input type="hidden" name="csrf" value="${csrfOf(token)}">
<div class="actions"><button type="submit" class="secondary">Decline</button></div>
</form>`,
    };
  }

  return router;
}

function unknownConsent(): Rendered {
  return messagePage(404, "This link isn't valid", 'This link is not valid any more: the request may have been answered, or withdrawn by the organization.');
}

function tokenParam(req: Request): string | undefined {
  const t = req.params.token;
  return typeof t === 'string' && TOKEN_SHAPE.test(t) ? t : undefined;
}
