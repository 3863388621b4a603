import { createHash } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { Deps } from './context.js';
import { isDatabaseUnavailable } from './errors.js';

/** Slack signs a request with its timestamp and refuses (we refuse) timestamps more than 5 minutes off. */
const WINDOW_SECONDS = 5 * 60;
/** Rows outlive the window by a margin (clock differences between processes and the database). */
const KEEP_SECONDS = 2 * WINDOW_SECONDS;
const PRUNE_EVERY_MS = 60_000;

/**
 * "Have we acted on this signed request before?" — across every Roster process, through PostgreSQL.
 * A signature is only valid for WINDOW_SECONDS, so keeping what was seen for a little longer is enough
 * to act on a replayed request at most once. While the database is unreachable, this process remembers
 * on its own (the request will most likely fail anyway, and say so).
 */
export function createReplayGuard(deps: Deps) {
  const { db } = deps;
  const local = new Map<string, number>();
  let lastPrune = 0;

  async function firstSeen(signature: string): Promise<boolean> {
    const key = createHash('sha256').update(signature).digest('base64url');
    try {
      const r = await db.execute(sql`insert into slack_seen_requests (signature_hash) values (${key}) on conflict do nothing`);
      // Housekeeping never holds up or fails the request; a failed prune is retried a minute later.
      void prune().catch(() => {});
      return (r.rowCount ?? 0) > 0 && !local.has(key);
    } catch (err) {
      if (!isDatabaseUnavailable(err)) throw err;
      const now = Date.now();
      for (const [k, at] of local) if (now - at > KEEP_SECONDS * 1000) local.delete(k);
      if (local.has(key)) return false;
      local.set(key, now);
      return true;
    }
  }

  async function prune(): Promise<void> {
    const now = Date.now();
    if (now - lastPrune < PRUNE_EVERY_MS) return;
    lastPrune = now;
    await db.execute(sql`delete from slack_seen_requests where seen_at < now() - make_interval(secs => ${KEEP_SECONDS})`);
  }

  return { firstSeen, windowSeconds: WINDOW_SECONDS };
}
