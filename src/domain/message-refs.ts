import { and, eq } from 'drizzle-orm';
import { slackMessages } from '../db/schema.js';
import type { Deps } from './context.js';

/**
 * Where Roster posted messages about something (e.g. one join-request DM per admin), so an adapter can
 * update all of them once it is decided. Bookkeeping only: no rule lives here.
 */
export function createMessageRefService({ db }: Deps) {
  async function remember(kind: string, refId: string, channel: string, ts: string): Promise<void> {
    await db.insert(slackMessages).values({ kind, refId, channel, ts });
  }
  async function find(kind: string, refId: string): Promise<{ channel: string; ts: string }[]> {
    return db
      .select({ channel: slackMessages.channel, ts: slackMessages.ts })
      .from(slackMessages)
      .where(and(eq(slackMessages.kind, kind), eq(slackMessages.refId, refId)));
  }
  return { remember, find };
}
