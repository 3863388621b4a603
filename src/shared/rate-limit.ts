import { RateLimiterRes, type RateLimiterMemory } from 'rate-limiter-flexible';

/** Seconds to say in Retry-After for a limiter's wait: whole seconds, at least 1. */
export const retryAfterSeconds = (msBeforeNext: number) => Math.max(1, Math.ceil(msBeforeNext / 1000));

/**
 * Counts one request against `key` (rate-limiter-flexible in memory): undefined when it may go on, else
 * the seconds to wait. No limiter (a limit set to 0): never refused.
 */
export async function secondsToWait(limiter: RateLimiterMemory | undefined, key: string): Promise<number | undefined> {
  if (!limiter) return undefined;
  try {
    await limiter.consume(key);
    return undefined;
  } catch (r) {
    if (r instanceof RateLimiterRes) return retryAfterSeconds(r.msBeforeNext);
    throw r;
  }
}
