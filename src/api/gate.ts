import { RateLimiterMemory } from 'rate-limiter-flexible';
import type { Actor } from '../domain/context.js';
import type { Domain } from '../domain/index.js';
import { retryAfterSeconds, secondsToWait } from '../shared/rate-limit.js';
import { problem, type Refusal } from './problem.js';

export type GateLimits = { perKeyPerMinute: number; authFailuresPerMinute: number };

/** Let in as this actor, or refused with this problem (and how many seconds to wait, for a 429). */
export type GateVerdict = { actor: Actor } | Refusal;

/**
 * `Authorization: Bearer <key>` checked once for every API path (express's middleware and the direct
 * authorize path call the same gate, so they share its limits): an address guessing keys is blocked
 * before any key is looked up, a wrong key is 401, a key past its per-minute budget is 429.
 */
export function createGate(domain: Domain, limits: GateLimits) {
  const failures =
    limits.authFailuresPerMinute > 0
      ? new RateLimiterMemory({ points: limits.authFailuresPerMinute, duration: 60, blockDuration: 300, keyPrefix: 'api-auth' })
      : undefined;
  const perKey = limits.perKeyPerMinute > 0 ? new RateLimiterMemory({ points: limits.perKeyPerMinute, duration: 60, keyPrefix: 'api' }) : undefined;
  const tooMany = (seconds: number): GateVerdict => ({
    problem: problem(429, 'rate_limited', 'Too many requests. Wait as long as Retry-After says, then try again.'),
    retryAfter: seconds,
  });
  return async (ip: string, authorization: string | undefined): Promise<GateVerdict> => {
    const blocked = failures ? await failures.get(ip) : null;
    if (blocked && blocked.consumedPoints > limits.authFailuresPerMinute) return tooMany(retryAfterSeconds(blocked.msBeforeNext));
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    const actor = m ? await domain.apiKeys.authenticate(m[1]!) : undefined;
    if (!actor) {
      const wait = await secondsToWait(failures, ip);
      if (wait !== undefined) return tooMany(wait);
      return {
        problem: problem(401, 'api_unauthorized', m ? 'That API key is wrong, expired or revoked.' : 'Send an API key: Authorization: Bearer <key>.'),
      };
    }
    const wait = await secondsToWait(perKey, actor.keyId);
    return wait === undefined ? { actor } : tooMany(wait);
  };
}

export type Gate = ReturnType<typeof createGate>;
