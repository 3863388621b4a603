import { createHmac, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from './config.js';

/**
 * The application secret: APP_SECRET, or for local use a random one generated on first start and kept
 * in DATA_DIR/app-secret, so invite links survive restarts.
 */
export function appSecret(config: Config): string {
  if (config.appSecret) return config.appSecret;
  const file = path.resolve(config.dataDir, 'app-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(path.dirname(file), { recursive: true });
  const secret = randomBytes(32).toString('hex');
  try {
    writeFileSync(file, secret + '\n', { mode: 0o600, flag: 'wx' });
    return secret;
  } catch {
    // Another process wrote it first.
    return readFileSync(file, 'utf8').trim();
  }
}

/** Separate keys per purpose, derived from the one secret. */
export function deriveKey(secret: string, purpose: 'invite-token' | 'csrf' | 'slack-installations' | 'slack-oauth-state' | 'webhook-secrets'): Buffer {
  return createHmac('sha256', secret).update(`roster:${purpose}`).digest();
}
