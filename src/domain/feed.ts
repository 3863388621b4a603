import { sql } from 'drizzle-orm';
import { z } from 'zod';
import { auditEvents, eventSeqs, orgEventSeqs, type AuditEventRow } from '../db/schema.js';
import { rowOf } from '../db/rows.js';
import { authorize } from './access.js';
import { numberCommitted } from './event-numbers.js';
import type { Actor, Deps } from './context.js';
import { fail } from './errors.js';
import { requireMembership } from './standing.js';
import { parseInput, safeString } from './validation.js';

/**
 * An org's events in order, for the product to poll: the audit rows, by their number in the org's
 * sequence. Numbers are given only to committed events, one step at a time (event-numbers.ts), so a
 * reader that has seen number n has seen every number before it: polling from a cursor never skips or
 * repeats an event, however many processes write.
 */

export const FEED_MAX_PAGE = 500;
export const FEED_MIN_RETENTION_DAYS = 30;

const feedSchema = z.object({
  after: z.number().int().min(0).default(0),
  types: z.array(safeString().trim().min(1).max(80)).max(50).optional(),
  limit: z.number().int().min(1).max(FEED_MAX_PAGE).default(100),
});

export type FeedEvent = {
  id: string;
  type: string;
  org: string;
  sequence: number;
  occurredAt: Date;
  actor: { type: string; id: string | null; label: string | null; via: string | null };
  subject: { type: string; id: string | null };
  data: { before: unknown; after: unknown };
};

export function eventOf(r: AuditEventRow): FeedEvent {
  return {
    // Stable and unique across orgs: the org and the number.
    id: `evt_${r.orgId}_${r.seq}`,
    type: r.action,
    org: r.orgId!,
    sequence: r.seq!,
    occurredAt: r.at,
    actor: { type: r.actorType, id: r.actorId, label: r.actorLabel, via: r.via },
    subject: { type: r.targetType, id: r.targetId },
    data: { before: r.before ?? null, after: r.after ?? null },
  };
}

export function createFeed(deps: Deps) {
  const { db } = deps;
  /** Numbers every committed event now (the feed and webhooks do it before they read). */
  const number = (): Promise<number> => numberCommitted(deps);

  /** Events after the sequence number `after`, oldest first; `next` is where the following poll starts. */
  async function events(actor: Actor, orgId: string, input: z.input<typeof feedSchema>): Promise<{ events: FeedEvent[]; next: number }> {
    const f = parseInput(feedSchema, input);
    authorize(await requireMembership(db, actor, orgId), 'audit:read', 'read');
    // What committed before this call gets its numbers first, so the reader sees its own changes.
    await number();
    // One statement, one snapshot: the events, and the org's last number committed as of that snapshot
    // (every number up to it is committed: a numbering step commits its numbers and last_seq together).
    const r = await db.execute<Record<string, unknown> & { hwm: string | number | null; oldest: string | number | null }>(sql`
      with h as (
        select last_seq, (select min(seq) from ${eventSeqs} o where o.org_id = ${orgId}) as oldest
        from ${orgEventSeqs} where org_id = ${orgId})
      select e.*, h.last_seq as hwm, h.oldest from h left join lateral (
        select a.*, s.seq from ${eventSeqs} s join ${auditEvents} a on a.id = s.event_id
        where s.org_id = ${orgId} and s.seq > ${f.after}
          ${
            f.types?.length
              ? sql`and a.action in (${sql.join(
                  f.types.map((t) => sql`${t}`),
                  sql`, `,
                )})`
              : sql``
          }
        order by s.seq asc
        limit ${f.limit}) e on true
      order by e.seq asc`);
    // Numbers after the cursor that are gone (pruned): the reader would skip them, so it is told instead.
    const hwm = Number(r.rows[0]?.hwm ?? 0);
    const oldest = r.rows[0]?.oldest === null || r.rows[0]?.oldest === undefined ? undefined : Number(r.rows[0].oldest);
    if (f.after > 0 && (oldest === undefined ? hwm > f.after : oldest > f.after + 1)) fail('feed_cursor_expired');
    const rows = r.rows.filter((row) => row.id !== null).map((row) => ({ ...rowOf(auditEvents, row), seq: Number(row.seq) }));
    const last = rows.at(-1)?.seq ?? f.after;
    // A short page (a types filter that matches rarely, or the end of the feed): nothing matching is left up
    // to the org's committed last number, so the next poll may start there instead of rescanning.
    const next = rows.length < f.limit ? Math.max(last, hwm) : last;
    return { events: rows.map(eventOf), next };
  }

  /**
   * Deletes an org-owned event older than `keepDays` (never fewer than 30: the feed promises a month),
   * a batch at a time; returns how many went. Account-level events (no org) are not the feed's and stay.
   */
  async function prune(keepDays: number, batch = 10_000): Promise<number> {
    const days = Math.max(FEED_MIN_RETENTION_DAYS, Math.trunc(keepDays));
    const cutoff = new Date(deps.clock.now().getTime() - days * 86_400_000);
    let total = 0;
    for (;;) {
      // An event goes with its number (and its place in the numbering queue, were it still waiting).
      const r = await db.execute(sql`
        with gone as (
          delete from ${auditEvents} where id in (select id from ${auditEvents} where ${auditEvents.at} < ${cutoff} and ${auditEvents.orgId} is not null limit ${batch})
          returning id
        ), numbers as (
          delete from ${eventSeqs} where event_id in (select id from gone)
        ), waiting as (
          delete from unnumbered_events where id in (select id from gone)
        )
        select count(*)::int as n from gone`);
      const n = Number((r.rows[0] as { n: number } | undefined)?.n ?? 0);
      total += n;
      if (n < batch) return total;
    }
  }

  /** Waits for this process's background numbering (a CLI run or a stopping server, before it closes the pool). */
  const idle = (): Promise<void> => deps.numberer?.idle() ?? Promise.resolve();
  return { events, prune, number, idle };
}
