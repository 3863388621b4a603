import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * Secrets at rest (Slack bot and refresh tokens): AES-256-GCM under a key derived from APP_SECRET, so a
 * database dump alone reveals no token. Sealed form: v1.<iv>.<tag>.<ciphertext>, base64url.
 */
export function seal(key: Buffer, plaintext: string, boundTo = ''): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  // Bound to what it belongs to (a workspace): a sealed value copied onto another row does not open there.
  cipher.setAAD(Buffer.from(boundTo));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return ['v1', iv, cipher.getAuthTag(), body].map((p) => (typeof p === 'string' ? p : p.toString('base64url'))).join('.');
}

/** The plaintext, or an error when the key is not the one it was sealed with (APP_SECRET changed) or it was altered. */
export function unseal(key: Buffer, sealed: string, boundTo = ''): string {
  const [v, iv, tag, body] = sealed.split('.');
  if (v !== 'v1' || !iv || !tag || body === undefined) throw new Error('not a sealed value');
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
  decipher.setAAD(Buffer.from(boundTo));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
}
