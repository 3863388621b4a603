import type { Invalidation } from '../db/notify.js';

type CachedToken = { tokenId: string; orgId: string; name: string; expiresAt: Date | null; lastUsedAt: Date | null };

/** How long a cached token is trusted at most, even with no notification (a backstop, not the mechanism). */
const TTL_MS = 60_000;
const MAX_ENTRIES = 10_000;

/**
 * Which org a SCIM bearer token (by hash) belongs to, kept between requests so a SCIM request costs one
 * query less. Served only while `changes` is live: every change that can end a token (revoke, rotate,
 * org deletion, in any process) notifies at commit (migration 0006) and empties the cache; this process
 * also empties it itself right after its own such changes. Without `changes`, nothing is cached.
 * Only tokens that authenticated are cached; expiry is checked on every use. The same mechanism keeps
 * found memberships for authorize (authorization.ts), on its own channel.
 */
export function createTokenCache<T extends object = CachedToken>(changes?: Invalidation, opts: { maxEntries?: number } = {}) {
  const maxEntries = opts.maxEntries ?? MAX_ENTRIES;
  const entries = new Map<string, T & { at: number }>();
  let generation = 0;
  const forget = () => {
    generation++;
    entries.clear();
  };
  changes?.onChange(forget);

  return {
    get(hash: string): T | undefined {
      if (!changes?.live()) return undefined;
      const e = entries.get(hash);
      if (e && Date.now() - e.at > TTL_MS) return void entries.delete(hash);
      return e;
    },
    /** The generation before a lookup: what it found is stored only if nothing changed meanwhile. */
    mark: () => generation,
    /** Stores what a lookup found; returns the entry to use from now on (the stored one, if stored). */
    set(hash: string, token: T, mark: number): T {
      if (!changes?.live() || mark !== generation) return token;
      if (entries.size >= maxEntries) entries.clear();
      const entry = { ...token, at: Date.now() };
      entries.set(hash, entry);
      return entry;
    },
    forget,
  };
}

export type TokenCache = ReturnType<typeof createTokenCache<CachedToken>>;
