import { RateLimiterMemory } from 'rate-limiter-flexible';
import { secondsToWait } from '../shared/rate-limit.js';

/**
 * SCIM's abuse limits, per process (rate-limiter-flexible in memory: no database round trip per
 * request; with N processes a client can reach N times each). 0 turns a limit off.
 */
export type ScimLimitSettings = {
  /** Requests per minute per SCIM token (counted by the token's id, however the header is spelled). */
  scimPerTokenPerMinute: number;
  /** Failed token checks per minute per client address; past it, that address's bad tokens get 429 for 5 minutes. */
  authFailuresPerMinute: number;
};

const AUTH_BLOCK_SECONDS = 5 * 60;

/**
 * Answers, in seconds to wait, whether a request must be refused with 429 — or undefined to serve it.
 * A valid token is only ever held to its own budget: an address that also sends bad tokens (a shared
 * IdP egress address, a NAT) never locks out the good ones.
 */
export function createScimLimits(settings: ScimLimitSettings) {
  const perToken =
    settings.scimPerTokenPerMinute > 0 ? new RateLimiterMemory({ points: settings.scimPerTokenPerMinute, duration: 60, keyPrefix: 'scim' }) : undefined;
  const failures =
    settings.authFailuresPerMinute > 0
      ? new RateLimiterMemory({ points: settings.authFailuresPerMinute, duration: 60, blockDuration: AUTH_BLOCK_SECONDS, keyPrefix: 'scim-auth' })
      : undefined;

  return {
    settings,
    /** A request with a valid token: its token's budget. */
    tokenUsed: (tokenId: string) => secondsToWait(perToken, tokenId),
    /** A request whose token did not authenticate: counted against its address at once. */
    tokenRefused: (address: string) => secondsToWait(failures, address),
  };
}
