import type { RequestHandler, Response } from 'express';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { secondsToWait } from '../shared/rate-limit.js';

/**
 * The invite page's limit per process (rate-limiter-flexible, in memory: no database round trip per
 * request; with N Roster processes a client can reach N times it). 0 turns it off. SCIM has its own
 * (scim/rate-limit.ts), counted by token after authentication.
 */
export type RateLimitSettings = {
  /** Invite page requests per minute per client address. */
  invitePagePerMinute: number;
};

type Refuse = (res: Response, retryAfterSeconds: number) => void;

/** In front of /invites: a budget per address, answered with a plain page. */
export function invitePageRateLimit(settings: RateLimitSettings, refuse: Refuse): RequestHandler {
  if (settings.invitePagePerMinute <= 0) return (_req, _res, next) => next();
  const limiter = new RateLimiterMemory({ points: settings.invitePagePerMinute, duration: 60, keyPrefix: 'invites' });
  return async (req, res, next) => {
    const wait = await secondsToWait(limiter, req.ip ?? 'unknown');
    if (wait !== undefined) return refuse(res, wait);
    next();
  };
}
