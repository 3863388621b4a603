import { and, desc, eq, getTableColumns, gte, lt, lte, sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import { auditEvents, eventSeqs, type AuditEventRow } from '../db/schema.js';
import type { Actor, Deps } from './context.js';
import { isDomainError } from './errors.js';
import { requireMembership } from './standing.js';
import { authorize } from './access.js';
import { isUuid, parseInput, safeString } from './validation.js';

export type { EventType as AuditAction, EventTarget as AuditTarget } from './events.js';

const MAX_PAGE = 1000;

/** A date PostgreSQL's timestamps can hold (JavaScript's reach further, both ways). */
const filterDate = z.coerce
  .date()
  .refine((d) => d.getUTCFullYear() >= 1 && d.getUTCFullYear() <= 9999, { message: 'Give a date between the years 1 and 9999.' })
  .optional();

const auditFilterSchema = z.object({
  since: filterDate,
  until: filterDate,
  actorId: safeString().trim().min(1).max(200).optional(),
  targetType: safeString().trim().min(1).max(40).optional(),
  targetId: safeString().trim().min(1).max(200).optional(),
  action: safeString().trim().min(1).max(80).optional(),
  /** Events with an id below this one (paging backwards in time). */
  beforeId: z.number().int().positive().optional(),
  limit: z.number().int().min(1).max(MAX_PAGE).default(100),
});
type AuditFilter = z.input<typeof auditFilterSchema>;

/** A person-readable name an event's payload gives its target, if it gives one. */
function labelFrom(payload: unknown): string | undefined {
  if (!payload || typeof payload !== 'object') return undefined;
  const p = payload as Record<string, unknown>;
  for (const k of ['email', 'userName', 'url', 'domain', 'displayName', 'name'] as const) if (typeof p[k] === 'string' && p[k]) return p[k] as string;
  return undefined;
}

function accountIdFrom(payload: unknown): string | undefined {
  const id = payload && typeof payload === 'object' ? (payload as Record<string, unknown>).accountId : undefined;
  return typeof id === 'string' ? id : undefined;
}

export function createAuditService(deps: Deps) {
  /**
   * Who may read an org's trail: its owners and admins, and the operator. A deleted org's trail is
   * kept (SPEC §2): the operator (a system actor) may still read it by the org's id.
   */
  async function mayRead(actor: Actor, orgId: string): Promise<void> {
    try {
      authorize(await requireMembership(deps.db, actor, orgId), 'audit:read', 'read');
    } catch (err) {
      if (actor.type !== 'system' || !isDomainError(err) || err.code !== 'org_not_found') throw err;
      const [kept] = await deps.db.select({ id: auditEvents.id }).from(auditEvents).where(eq(auditEvents.orgId, orgId)).limit(1);
      if (!kept) throw err;
    }
  }

  async function query(actor: Actor, orgId: string, filter: AuditFilter = {}): Promise<AuditEventRow[]> {
    const f = parseInput(auditFilterSchema, filter);
    await mayRead(actor, orgId);
    const where: SQL[] = [eq(auditEvents.orgId, orgId)];
    if (f.since) where.push(gte(auditEvents.at, f.since));
    if (f.until) where.push(lte(auditEvents.at, f.until));
    if (f.actorId) where.push(eq(auditEvents.actorId, f.actorId));
    if (f.targetType) where.push(eq(auditEvents.targetType, f.targetType));
    if (f.targetId) where.push(eq(auditEvents.targetId, f.targetId));
    if (f.action) where.push(eq(auditEvents.action, f.action));
    if (f.beforeId) where.push(lt(auditEvents.id, f.beforeId));
    return deps.db
      .select({ ...getTableColumns(auditEvents), seq: eventSeqs.seq })
      .from(auditEvents)
      .leftJoin(eventSeqs, eq(eventSeqs.eventId, auditEvents.id))
      .where(and(...where))
      .orderBy(desc(auditEvents.id))
      .limit(f.limit);
  }

  /** Every matching event (at most `max`, if given), newest first, as JSON lines or CSV. */
  async function exportEvents(
    actor: Actor,
    orgId: string,
    format: 'jsonl' | 'csv',
    filter: Omit<AuditFilter, 'limit' | 'beforeId'> & { max?: number | undefined } = {},
  ): Promise<string> {
    const { max, ...rest } = filter;
    const rows: AuditEventRow[] = [];
    let beforeId: number | undefined;
    for (;;) {
      const want = max === undefined ? MAX_PAGE : Math.min(MAX_PAGE, max - rows.length);
      if (want <= 0) break;
      const page = await query(actor, orgId, { ...rest, beforeId, limit: want });
      rows.push(...page);
      if (page.length < want) break;
      beforeId = page[page.length - 1]!.id;
    }
    return format === 'jsonl' ? toJsonLines(rows) : toCsv(rows);
  }

  /**
   * What each event is about, in words a person reads (an email, a userName, a URL, a domain) rather
   * than an id: from the event's own before/after when it says, else looked up (one query per kind).
   * Events read by `query`, so already scoped to an org the caller may read.
   */
  async function targetLabels(rows: AuditEventRow[]): Promise<Map<number, string>> {
    const labels = new Map<number, string>();
    const wanted = {
      membership: new Set<string>(),
      account: new Set<string>(),
      invite: new Set<string>(),
      scim_user: new Set<string>(),
      org: new Set<string>(),
    };
    // A membership that has ended is named by the account its events name (member events carry it).
    const accountOf = new Map<number, string>();
    for (const r of rows) {
      const said = labelFrom(r.after) ?? labelFrom(r.before);
      if (said) labels.set(r.id, said);
      else if (r.targetId && r.targetType in wanted) wanted[r.targetType as keyof typeof wanted].add(r.targetId);
      const accountId = accountIdFrom(r.after) ?? accountIdFrom(r.before);
      if (r.targetType === 'membership' && accountId) {
        accountOf.set(r.id, accountId);
        wanted.account.add(accountId);
      }
    }
    const found = new Map<string, string>();
    const look = async (ids: Set<string>, text: SQL) => {
      const list = [...ids].filter(isUuid);
      if (!list.length) return;
      const r = await deps.db.execute<{ id: string; label: string | null }>(
        sql`${text} (${sql.join(
          list.map((id) => sql`${id}::uuid`),
          sql`, `,
        )})`,
      );
      for (const x of r.rows) if (x.label) found.set(x.id, x.label);
    };
    await look(wanted.membership, sql`select m.id::text as id, a.email as label from memberships m join accounts a on a.id = m.account_id where m.id in`);
    await look(wanted.account, sql`select id::text as id, coalesce(email, display_name) as label from accounts where id in`);
    await look(wanted.invite, sql`select id::text as id, email as label from invites where id in`);
    await look(wanted.scim_user, sql`select id::text as id, user_name as label from scim_users where id in`);
    await look(wanted.org, sql`select id::text as id, name as label from orgs where id in`);
    for (const r of rows) {
      if (labels.has(r.id)) continue;
      const label = (r.targetId && found.get(r.targetId)) || (accountOf.has(r.id) ? found.get(accountOf.get(r.id)!) : undefined);
      if (label) labels.set(r.id, label);
    }
    return labels;
  }

  return { query, export: exportEvents, targetLabels };
}

const csvColumns = ['id', 'at', 'orgId', 'actorType', 'actorId', 'actorLabel', 'via', 'action', 'targetType', 'targetId', 'before', 'after', 'seq'] as const;

function toJsonLines(rows: AuditEventRow[]): string {
  return rows.map((r) => JSON.stringify({ ...r, at: r.at.toISOString() })).join('\n') + (rows.length ? '\n' : '');
}

export function toCsv(rows: AuditEventRow[]): string {
  const header = csvColumns.join(',');
  const lines = rows.map((r) =>
    csvColumns
      .map((c) => {
        const v = r[c];
        if (v === null || v === undefined) return '';
        if (v instanceof Date) return csvCell(v.toISOString());
        return csvCell(typeof v === 'object' ? JSON.stringify(v) : String(v));
      })
      .join(','),
  );
  return [header, ...lines].join('\r\n') + '\r\n';
}

/** Quotes a cell, and defuses spreadsheet formulas (a name like "=HYPERLINK(...)" stays text). */
function csvCell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}
