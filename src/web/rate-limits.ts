import { createHash } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';

/**
 * Request limits per process (rate-limiter-flexible, in memory): they hold back a runaway or hostile
 * client without a database round trip per request. With N Roster processes behind a load balancer,
 * a client can reach N times each limit. 0 turns a limit off.
 */
export type RateLimitSettings = {
  /** SCIM requests per minute per bearer token. */
  scimPerTokenPerMinute: number;
  /** Failed SCIM token checks (401) per minute per client address, before it is refused for 5 minutes. */
  authFailuresPerMinute: number;
  /** Invite page requests per minute per client address. */
  invitePagePerMinute: number;
};

const AUTH_BLOCK_SECONDS = 5 * 60;
const SCIM_ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';

type Refuse = (res: Response, retryAfterSeconds: number) => void;

const retryAfter = (r: RateLimiterRes) => Math.max(1, Math.ceil(r.msBeforeNext / 1000));

function refuseScim(res: Response, seconds: number, detail: string) {
  res
    .status(429)
    .set('Retry-After', String(seconds))
    .type('application/scim+json')
    .send(JSON.stringify({ schemas: [SCIM_ERROR], status: '429', detail }));
}

/** In front of /scim/v2: a budget per token, and a block for addresses that keep presenting bad tokens. */
export function scimRateLimits(settings: RateLimitSettings): RequestHandler {
  const perToken = settings.scimPerTokenPerMinute > 0 ? new RateLimiterMemory({ points: settings.scimPerTokenPerMinute, duration: 60, keyPrefix: 'scim' }) : undefined;
  const failures =
    settings.authFailuresPerMinute > 0
      ? new RateLimiterMemory({ points: settings.authFailuresPerMinute, duration: 60, blockDuration: AUTH_BLOCK_SECONDS, keyPrefix: 'scim-auth' })
      : undefined;
  if (!perToken && !failures) return (_req, _res, next) => next();

  return async (req: Request, res: Response, next: NextFunction) => {
    const address = req.ip ?? 'unknown';
    if (failures) {
      const seen = await failures.get(address);
      if (seen && seen.consumedPoints > settings.authFailuresPerMinute) {
        return refuseScim(res, retryAfter(seen), 'Too many requests with an invalid token from your address. Try again later with a valid token.');
      }
      // Count this request's outcome once it is known: only failed token checks count.
      res.once('finish', () => {
        if (res.statusCode === 401) failures.consume(address).catch(() => {});
      });
    }
    if (perToken) {
      const auth = req.headers.authorization;
      if (auth) {
        const key = createHash('sha256').update(auth).digest('base64url');
        try {
          await perToken.consume(key);
        } catch (r) {
          if (!(r instanceof RateLimiterRes)) throw r;
          return refuseScim(res, retryAfter(r), `Too many requests for this SCIM token: at most ${settings.scimPerTokenPerMinute} a minute. Retry after the time in Retry-After.`);
        }
      }
    }
    next();
  };
}

/** In front of /invites: a budget per address, answered with a plain page. */
export function invitePageRateLimit(settings: RateLimitSettings, refuse: Refuse): RequestHandler {
  if (settings.invitePagePerMinute <= 0) return (_req, _res, next) => next();
  const limiter = new RateLimiterMemory({ points: settings.invitePagePerMinute, duration: 60, keyPrefix: 'invites' });
  return async (req, res, next) => {
    try {
      await limiter.consume(req.ip ?? 'unknown');
    } catch (r) {
      if (!(r instanceof RateLimiterRes)) throw r;
      return refuse(res, retryAfter(r));
    }
    next();
  };
}
