import { and, desc, eq, gte, lt, lte, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import { auditEvents, type AuditEventRow } from '../db/schema.js';
import type { Actor, Deps } from './context.js';
import { requireMembership } from './standing.js';
import { authorize } from './access.js';
import { parseInput, safeString } from './validation.js';

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

export function createAuditService(deps: Deps) {
  async function query(actor: Actor, orgId: string, filter: AuditFilter = {}): Promise<AuditEventRow[]> {
    const f = parseInput(auditFilterSchema, filter);
    await requireMembership(deps.db, actor, orgId).then((s) => authorize(s, 'audit:read', 'read'));
    const where: SQL[] = [eq(auditEvents.orgId, orgId)];
    if (f.since) where.push(gte(auditEvents.at, f.since));
    if (f.until) where.push(lte(auditEvents.at, f.until));
    if (f.actorId) where.push(eq(auditEvents.actorId, f.actorId));
    if (f.targetType) where.push(eq(auditEvents.targetType, f.targetType));
    if (f.targetId) where.push(eq(auditEvents.targetId, f.targetId));
    if (f.action) where.push(eq(auditEvents.action, f.action));
    if (f.beforeId) where.push(lt(auditEvents.id, f.beforeId));
    return deps.db
      .select()
      .from(auditEvents)
      .where(and(...where))
      .orderBy(desc(auditEvents.id))
      .limit(f.limit);
  }

  /** Every matching event, newest first, as JSON lines or CSV. */
  async function exportEvents(actor: Actor, orgId: string, format: 'jsonl' | 'csv', filter: Omit<AuditFilter, 'limit' | 'beforeId'> = {}): Promise<string> {
    const rows: AuditEventRow[] = [];
    let beforeId: number | undefined;
    for (;;) {
      const page = await query(actor, orgId, { ...filter, beforeId, limit: MAX_PAGE });
      rows.push(...page);
      if (page.length < MAX_PAGE) break;
      beforeId = page[page.length - 1]!.id;
    }
    return format === 'jsonl' ? toJsonLines(rows) : toCsv(rows);
  }

  return { query, export: exportEvents };
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
