import { sql, type SQL } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import type { Deps } from './context.js';
import { writeWithNext } from '../db/pipeline.js';

/**
 * Events get their org's numbers after they commit, not while they are written: a change records its
 * events unnumbered (no org-wide lock on the write path, so one org's changes do not commit one after
 * another), and a numbering step, one at a time across every process (an advisory lock), gives the
 * committed unnumbered events the next numbers of their orgs in the order they were written (id) and
 * queues their webhook deliveries in the same statement. Audit rows are never rewritten: the events
 * waiting are listed in `unnumbered_events` (a trigger adds each org event as it is written) and a
 * number is a row of `event_seqs` (migration 0025).
 *
 * Why readers never skip or repeat: a number is only ever given to an event already committed and
 * visible, by a step that commits all its numbers at once, and each step starts from the numbers the
 * previous one committed (it takes the lock before its snapshot). So once a reader has seen number n,
 * every number given later is above n. Causal order holds too: a change that waited on another's row
 * lock writes its events after that one committed, so they have higher ids.
 *
 * Who numbers: the process that committed, right after its commit (coalesced: one step at a time per
 * process, another after it if more commits came meanwhile); every feed read and webhook run first
 * (so a reader sees what committed before it asked); and so a process that died between its commit and
 * its step leaves nothing unnumbered for longer than the next reader or worker run.
 */

/** Any constant of Roster's own: the lock that makes numbering one step at a time. */
export const NUMBERING_LOCK = 0x52_6f_73_74; // "Rost"
/** Events numbered per statement (a backlog, such as an expiry sweep's, takes several). */
const BATCH = 10_000;

/**
 * Numbers every committed unnumbered event; returns how many it numbered. `waiting`: the caller knows
 * there are some (it has just committed events), so the look first is skipped.
 */
export async function numberEvents(db: Db, opts: { waiting?: boolean } = {}): Promise<number> {
  let total = 0;
  let waiting = opts.waiting ?? false;
  for (;;) {
    // Cheap when there is nothing to do (the queue of unnumbered org events is short), and outside the
    // lock, so readers that find nothing never wait on each other.
    if (!waiting && !(await db.execute(sql`select 1 from unnumbered_events limit 1`)).rows.length) return total;
    const n = await db.transaction(async (tx) => {
      // BEGIN, the lock and the numbering go out together (one round trip, then the COMMIT).
      await writeWithNext(tx, sql`select pg_advisory_xact_lock(${NUMBERING_LOCK})`);
      // A statement of its own after the lock: its snapshot sees what the previous step committed.
      // The audit rows are only read (for the webhooks' types and times): numbering writes narrow rows.
      const r = await tx.execute(sql`
        with ready as (
          select id, org_id from unnumbered_events order by id limit ${BATCH}
        ), counts as (
          select org_id, count(*)::bigint as n from ready group by org_id
        ), taken as (
          insert into org_event_seqs (org_id, last_seq)
          select org_id, n from counts order by org_id
          on conflict (org_id) do update set last_seq = org_event_seqs.last_seq + excluded.last_seq
          returning org_id, last_seq
        ), given as (
          insert into event_seqs (event_id, org_id, seq)
          select r.id, r.org_id, t.last_seq - c.n + r.rn
          from (select id, org_id, row_number() over (partition by org_id order by id) as rn from ready) r
          join counts c on c.org_id = r.org_id join taken t on t.org_id = r.org_id
          returning event_id, org_id, seq
        ), dequeued as (
          -- By range, which any plan does in one pass (a join to \`ready\`, planned on the stats of a queue that
          -- was empty when last analysed, became a nested loop: 8,000 events took 9 s). The range holds
          -- exactly \`ready\`: the first events visible to this statement's snapshot, in id order, and no
          -- other step runs meanwhile (the lock).
          delete from unnumbered_events where id between (select min(id) from ready) and (select max(id) from ready)
        ), numbered as (
          select g.event_id as id, a.at, g.org_id, a.action, g.seq from given g join audit_events a on a.id = g.event_id
        ), ${queueWebhooks('numbered')}
        select count(*)::int as n from given`);
      return Number((r.rows[0] as { n: number } | undefined)?.n ?? 0);
    });
    total += n;
    if (n < BATCH) return total;
    waiting = true;
  }
}

/**
 * The webhook outbox: one delivery per event for each of its org's endpoints that takes the event's type
 * (disabled ones too: they get them in order when enabled again), in the statement that numbers the
 * event, so none is lost. `from` names a CTE of numbered events (id, at, org_id, action, seq). The
 * endpoints' types are those of numbering time (a moment after the event's commit).
 */
function queueWebhooks(from: string): SQL {
  // The endpoints are key-share locked, in id order (org deletion locks them in the same order): an
  // endpoint being deleted is waited for and then left out (READ COMMITTED re-checks a locked row), so
  // the insert never meets a vanished endpoint; changes to one (FOR NO KEY UPDATE) do not block this.
  // An endpoint gets the events numbered from its own webhook.created on, in the feed's order: not those
  // committed before it (even if numbered after it was made). Its creation event is numbered by an
  // earlier step, by this one (in `from`), or — beyond this step's batch — later, after all of this
  // batch; one gone with the audit retention means an old endpoint, which takes everything.
  const from_ = sql.identifier(from);
  return sql`
    endpoints as (
      select w.id, w.org_id, w.event_types,
        (select min(e.id) from audit_events e
         where e.org_id = w.org_id and e.target_type = 'webhook' and e.target_id = w.id::text and e.action = 'webhook.created') as created_event
      from webhook_endpoints w
      where w.org_id in (select distinct org_id from ${from_})
      order by w.id
      for key share of w
    ), queued as (
      insert into webhook_deliveries (endpoint_id, event_id, seq, next_attempt_at, created_at)
      select w.id, r.id, r.seq, r.at, r.at
      from ${from_} r join endpoints w on w.org_id = r.org_id
      where r.seq >= case when w.created_event is null then 0 else coalesce(
              (select n.seq from ${from_} n where n.id = w.created_event),
              (select e.seq from event_seqs e where e.event_id = w.created_event),
              9223372036854775807) end
        and (cardinality(w.event_types) = 0 or r.action = any(w.event_types))
    )`;
}

export type EventNumberer = {
  /** Numbers what has committed, and waits for it: before reading the feed or sending webhooks. */
  now: () => Promise<number>;
  /** Numbers soon, in the background (after a commit): at most one step at a time in this process. */
  soon: () => void;
  /** Resolves when this process's background step is done (before closing the database). */
  idle: () => Promise<void>;
};

/**
 * How long a background step waits after the commit that asks for it, so that the commits of the next
 * moments are numbered in the same step: each step is one statement and one lock however many events
 * it numbers (at 250 SCIM creates a second, ~3.5 creates a step without the wait). Readers are not
 * delayed by it: the feed and the webhook worker number what has committed before they read.
 */
export const NUMBERING_COALESCE_MS = 20;

export function createEventNumberer(db: Db, onError: (err: unknown) => void = () => {}): EventNumberer {
  let running: Promise<void> | undefined;
  let again = false;
  const loop = async () => {
    do {
      await new Promise((resolve) => setTimeout(resolve, NUMBERING_COALESCE_MS));
      again = false;
      await numberEvents(db, { waiting: true });
    } while (again);
  };
  const soon = () => {
    if (running) {
      again = true;
      return;
    }
    running = loop()
      .catch(onError)
      .finally(() => {
        running = undefined;
        // A commit that came after the loop's last look but before this: its step is not lost.
        if (again) soon();
      });
  };
  return { now: () => numberEvents(db), soon, idle: async () => void (await running) };
}

/** Numbers what has committed, through the domain's numberer (or directly, for a bare Deps). */
export function numberCommitted(deps: Pick<Deps, 'db' | 'numberer'>): Promise<number> {
  return deps.numberer ? deps.numberer.now() : numberEvents(deps.db);
}
