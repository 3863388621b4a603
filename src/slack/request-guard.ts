import { createHmac, timingSafeEqual } from 'node:crypto';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { Domain } from '../domain/index.js';
import type { Logger } from '../logger.js';

export const SLACK_EVENTS_PATH = '/slack/events';
const BODY_LIMIT = '1mb';

/**
 * In front of Bolt's receiver on /slack/events: refuses a request whose timestamp is more than 5
 * minutes away in either direction (Bolt only refuses old ones) or whose signature is wrong, and acts
 * on a correctly signed request at most once, across every Roster process (a replay gets an empty 200
 * and does nothing). Keeps the raw body as req.rawBody, which Bolt then reads and checks again.
 */
export function slackRequestGuard(opts: { signingSecret: string; domain: Domain; log: Logger }): Router {
  const router = express.Router();
  const raw = express.raw({ type: () => true, limit: BODY_LIMIT });
  router.post(SLACK_EVENTS_PATH, (req: Request, res: Response, next: NextFunction) => {
    raw(req, res, (err?: unknown) => {
      if (err) {
        const status = (err as { status?: number }).status;
        return void res.status(status === 413 ? 413 : 400).send();
      }
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      (req as Request & { rawBody?: Buffer }).rawBody = body;
      const refusal = checkSignature(opts.signingSecret, req.headers, body, opts.domain.replay.windowSeconds);
      if (refusal) {
        // debug: anyone can send these, and a warn line each would let them flood the log.
        opts.log.debug({ reason: refusal }, 'Slack request refused');
        return void res.status(401).send();
      }
      opts.domain.replay.firstSeen(String(req.headers['x-slack-signature'])).then(
        (first) => {
          if (first) return next();
          opts.log.warn('a replayed Slack request was ignored (its signature was already used)');
          res.status(200).send();
        },
        (e) => next(e),
      );
    });
  });
  return router;
}

/** Why the request is not Slack's, or undefined when it is. */
function checkSignature(secret: string, headers: Request['headers'], body: Buffer, windowSeconds: number): string | undefined {
  const signature = headers['x-slack-signature'];
  const timestamp = headers['x-slack-request-timestamp'];
  if (typeof signature !== 'string' || typeof timestamp !== 'string') return 'missing signature headers';
  if (!/^\d{1,12}$/.test(timestamp)) return 'invalid timestamp';
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > windowSeconds) return 'timestamp more than 5 minutes away';
  const expected = Buffer.from(`v0=${createHmac('sha256', secret).update(`v0:${timestamp}:`).update(body).digest('hex')}`);
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'signature mismatch';
  return undefined;
}
