import express, { type Request, type Response, type Router } from 'express';
import { isDomainError } from '../domain/errors.js';
import type { Domain } from '../domain/index.js';
import type { SlackLinkView } from '../domain/slack-links.js';
import type { Logger } from '../logger.js';
import { html } from '../shared/html.js';
import { messagePage, type Rendered } from './invite-views.js';
import { basePathOf, csrfFor, linkPageErrors, refusalStatus, refusedPost, securityHeaders, sendPage } from './page-kit.js';

export type SlackLinkPageDeps = { domain: Domain; log: Logger; csrfKey: Buffer; publicUrl: string };

/** Two base64url ids, a Unix time and a 43-character signature: anything else is not a link Roster sent. */
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{1,60}\.[A-Za-z0-9_-]{1,60}\.\d{1,12}\.[A-Za-z0-9_-]{43}$/;

/**
 * GET/POST /slack-link/:token — where a Slack user of a workspace Roster does not trust for emails
 * confirms that their Slack email is theirs (slack-links.ts). The page changes nothing until its button
 * is pressed: mail scanners that open links must not confirm for anyone.
 */
export function createSlackLinkPages(deps: SlackLinkPageDeps): Router {
  const { domain, log } = deps;
  const base = basePathOf(deps.publicUrl);
  const csrfOf = (token: string) => csrfFor(deps.csrfKey, 'slack-link', token);

  const router = express.Router();
  router.use(securityHeaders);
  const form = express.urlencoded({ extended: false, limit: '10kb', parameterLimit: 10 });

  router.get('/:token', async (req, res) => {
    const token = tokenParam(req);
    sendPage(res, token ? await statePage(token) : invalidLink());
  });

  router.post('/:token', form, async (req, res) => {
    const token = tokenParam(req);
    if (!token) return sendPage(res, invalidLink());
    const refused = refusedPost(req, csrfOf(token));
    if (refused) return sendPage(res, refused);
    try {
      const { account, view } = await domain.slackLinks.confirm(token);
      log.info({ accountId: account.id, team: view.teamId }, 'Slack user linked by email link');
      sendPage(
        res,
        messagePage(200, 'Address confirmed', `Roster now knows you in Slack as ${view.email}. Go back to Slack and try again. You can close this page.`),
      );
    } catch (err) {
      if (!isDomainError(err)) throw err;
      if (err.code === 'slack_link_invalid') return sendPage(res, invalidLink());
      sendPage(res, messagePage(refusalStatus[err.code], 'That could not be done', `${err.message} Nothing was changed.`));
    }
  });

  router.use((_req: Request, res: Response) => sendPage(res, invalidLink()));
  router.use(linkPageErrors(log, 'Slack link page'));

  async function statePage(token: string): Promise<Rendered> {
    let v: SlackLinkView;
    try {
      v = await domain.slackLinks.lookup(token);
    } catch (err) {
      if (isDomainError(err, 'slack_link_invalid')) return invalidLink();
      throw err;
    }
    if (v.linked) return messagePage(200, 'Already confirmed', `Roster already knows you in Slack as ${v.email}. There is nothing more to do here.`);
    return {
      status: 200,
      title: 'Confirm your email address',
      body: html`
<h1>Confirm your email address</h1>
<p>Roster was asked to connect a Slack user to <strong>${v.email}</strong>:</p>
<dl>
<dt>Slack user</dt><dd>${v.displayName ?? 'unnamed'}</dd>
<dt>Workspace</dt><dd>${v.workspace ?? v.teamId}</dd>
</dl>
<p>Confirm only if that Slack user is you: confirming gives them everything this address has in Roster — its organizations (with their roles, owner included) and its invites.</p>
<p class="note">If it wasn't you, close this page: nothing happens.</p>
<form method="post" action="${base}/slack-link/${token}">
<input type="hidden" name="csrf" value="${csrfOf(token)}">
<div class="actions"><button type="submit" class="primary">Confirm: that Slack user is me</button></div>
</form>`,
    };
  }

  return router;
}

function invalidLink(): Rendered {
  return messagePage(
    410,
    "This link isn't valid",
    'This link is not valid any more: it expired, a newer one was sent, or it was already used. Use Roster in Slack again to get a new one.',
  );
}

function tokenParam(req: Request): string | undefined {
  const t = req.params.token;
  return typeof t === 'string' && TOKEN_SHAPE.test(t) ? t : undefined;
}
