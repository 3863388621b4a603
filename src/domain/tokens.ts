import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Invite link tokens. A token is HMAC-SHA256(key, "<inviteId>:<nonce>") — 256 bits that only a holder
 * of the key can produce. The database keeps the nonce and sha256(token), never the token, so a
 * database leak alone reveals no working link, while Roster can re-derive the current link for
 * reminders and "copy link". A new nonce (resend) makes every older link stop working.
 */
export function newNonce(): string {
  return randomBytes(16).toString('base64url');
}

export function deriveToken(key: Buffer, inviteId: string, nonce: string): string {
  return createHmac('sha256', key).update(`${inviteId}:${nonce}`).digest('base64url');
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** 43 base64url characters; anything else is not a token we issued. */
export function looksLikeToken(value: string): boolean {
  return /^[A-Za-z0-9_-]{43}$/.test(value);
}

export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
