import { sql, type SQL } from 'drizzle-orm';
import type { Deps } from '../context.js';
import { emitFromRows, notifyFromRows } from '../events.js';

const expireJob = { type: 'system', job: 'expire-invites' } as const;

/** What the jobs do to invites: expire the due ones, queue the due reminders; set-based, safe on several workers. */
export function createInviteSweeps(deps: Deps) {
  const { db, clock } = deps;

  /**
   * Marks up to `limit` pending invites past their expiry as expired, with their audit events, in one
   * statement. Set-based and SKIP LOCKED, so several workers (or several callers in one worker) can run it
   * at once: each locks a different set of due invites, and the update re-checks `status = 'pending'`,
   * so an invite is expired, and its event emitted, once (numbered in its org's sequence after commit). Returns how many it expired.
   *
   * Any due invites will do (no `order by expires_at`: all of them are expired in the end, and the order
   * made every batch walk the dead entries earlier batches left in the expiry index). The locked rows are
   * updated by their ctid (a TID scan) rather than joined back by id, which hashed the whole table per
   * batch. Measured on 1M due invites in bench/expire.ts.
   */
  async function expireDue(limit = 10_000): Promise<number> {
    const now = clock.now();
    const r = await db.execute<{ n: number }>(sql`
      with expired as (
        update invites set status = 'expired', updated_at = ${now}
        where ctid = any(array(
            select ctid from invites
            where status = 'pending' and expires_at <= ${now}
            limit ${limit}
            for update skip locked))
          and status = 'pending'
        returning id, org_id, expires_at
      ), expired_events as (
        select org_id, id::text as target_id, jsonb_build_object('status', 'pending', 'expiresAt', expires_at) as before from expired
      ), ${emitFromRows('expired_events', expireJob, 'invite.expired', 'invite', now)}
      select count(*)::int as n from expired`);
    const n = r.rows[0]?.n ?? 0;
    if (n) deps.numberer?.soon();
    return n;
  }

  /**
   * Queues reminders for invites whose next reminder step (hours before expiry, per org) has come.
   * One set-based statement; a step is recorded on the invite when queued, and the dedupe key makes a
   * step's reminder exist once, so two workers never remind twice. If several steps came due at once
   * (a worker was down), one reminder goes out. Never for invites that don't expire.
   */
  async function remindDue(limit = 10_000): Promise<number> {
    const now = clock.now();
    // A step is due once its moment has come, and only if that moment is after the invite was sent:
    // a 72 h invite is not "reminded" 72 h before expiry, i.e. the instant it goes out.
    const stepDue = (h: SQL) =>
      sql`${now}::timestamptz >= i.expires_at - make_interval(hours => ${h}) and i.expires_at - make_interval(hours => ${h}) > i.last_sent_at`;
    const r = await db.execute<{ n: number }>(sql`
      with due as (
        select i.id, i.org_id, i.email, i.token_nonce,
          array(select h from unnest(o.reminder_hours) h where ${stepDue(sql`h`)}) as due_steps,
          (select min(h) from unnest(o.reminder_hours) h
             where ${stepDue(sql`h`)} and not (h = any(i.reminders_sent))) as step
        from invites i join orgs o on o.id = i.org_id
        where i.status = 'pending' and i.expires_at is not null and i.expires_at > ${now}
          and exists (select 1 from unnest(o.reminder_hours) h
                      where ${stepDue(sql`h`)} and not (h = any(i.reminders_sent)))
        order by i.expires_at
        limit ${limit}
        for update of i skip locked
      ), marked as (
        update invites set reminders_sent = array(select distinct x from unnest(invites.reminders_sent || due.due_steps) x order by x desc), updated_at = ${now}
        from due where invites.id = due.id
        returning invites.id
      ), reminders as (
        select due.org_id, due.email as recipient_email,
               jsonb_build_object('inviteId', due.id, 'nonce', due.token_nonce, 'hoursBeforeExpiry', due.step) as payload,
               'invite.reminder:' || due.id || ':' || due.token_nonce || ':' || due.step as dedupe_key
        from due
      ), ${notifyFromRows('reminders', 'invite.reminder', now)}
      select count(*)::int as n from marked`);
    return r.rows[0]?.n ?? 0;
  }

  return { expireDue, remindDue };
}
