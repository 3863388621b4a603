import { and, desc, eq, gte, lt, lte, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import { accounts, auditEvents, type AuditEventRow } from '../db/schema.js';
import type { Actor, Db, Deps, Executor } from './context.js';
import { requireMembership } from './standing.js';
import { authorize } from './access.js';
import { parseInput, safeString } from './validation.js';

export type AuditAction =
  | 'account.created'
  | 'account.renamed'
  | 'account.active_org_changed'
  | 'org.created'
  | 'org.renamed'
  | 'org.settings_changed'
  | 'org.deleted'
  | 'org.primary_owner_transferred'
  | 'member.added'
  | 'member.role_changed'
  | 'member.removed'
  | 'member.left'
  | 'member.billing_emails_changed'
  | 'member.suspended'
  | 'member.restored'
  | 'invite.created'
  | 'invite.resent'
  | 'invite.updated'
  | 'invite.revoked'
  | 'invite.accepted'
  | 'invite.declined'
  | 'invite.expired'
  | 'join_request.created'
  | 'join_request.approved'
  | 'join_request.denied'
  | 'scim_token.created'
  | 'scim_token.revoked'
  | 'scim_token.rotated'
  | 'scim.user_provisioned'
  | 'scim.user_updated'
  | 'scim.user_deprovisioned'
  | 'scim.group_created'
  | 'scim.group_updated'
  | 'scim.group_deleted'
  | 'scim.group_mapped'
  | 'scim.settings_changed';

export type AuditTarget = 'account' | 'org' | 'membership' | 'invite' | 'join_request' | 'scim_token' | 'scim_user' | 'scim_group';

export type AuditEntry = {
  orgId: string | null;
  action: AuditAction;
  targetType: AuditTarget;
  targetId: string | null;
  before?: unknown;
  after?: unknown;
};

/**
 * Events recorded inside a transaction opened through withBatchedAudit wait here and are written in
 * multi-row inserts (AUDIT_BATCH_MAX at most) just before that transaction commits: usually one.
 */
const pendingEvents = new WeakMap<object, (typeof auditEvents.$inferInsert)[]>();
const AUDIT_BATCH_MAX = 1000;

/**
 * The database handle the domain uses: its transactions write their audit events in one batch at the
 * end (a SCIM create records three). Everything else passes straight through.
 */
export function withBatchedAudit(db: Db): Db {
  const transaction: Db['transaction'] = (run, config) =>
    db.transaction(async (tx) => {
      const events: (typeof auditEvents.$inferInsert)[] = [];
      pendingEvents.set(tx, events);
      try {
        const result = await run(tx);
        if (events.length) await tx.insert(auditEvents).values(events);
        return result;
      } finally {
        pendingEvents.delete(tx);
      }
    }, config);
  return new Proxy(db, { get: (target, prop, receiver) => (prop === 'transaction' ? transaction : Reflect.get(target, prop, receiver)) });
}

/** Appends one event. Always called with the transaction that makes the change. */
export async function recordAudit(tx: Executor, actor: Actor, entry: AuditEntry, at: Date): Promise<void> {
  const who = await describeActor(tx, actor);
  const event = {
    at,
    orgId: entry.orgId,
    actorType: actor.type,
    actorId: who.id,
    actorLabel: who.label,
    via: actor.type === 'account' ? actor.via : actor.type === 'scim' ? 'scim' : actor.job === 'cli' ? 'cli' : 'job',
    action: entry.action,
    targetType: entry.targetType,
    targetId: entry.targetId,
    before: entry.before ?? null,
    after: entry.after ?? null,
  };
  const batch = pendingEvents.get(tx);
  if (!batch) return void (await tx.insert(auditEvents).values(event));
  batch.push(event);
  // A statement takes at most 65,535 parameters (11 per event): a large group sync writes as it goes.
  if (batch.length >= AUDIT_BATCH_MAX) await tx.insert(auditEvents).values(batch.splice(0));
}

async function describeActor(tx: Executor, actor: Actor): Promise<{ id: string; label: string }> {
  switch (actor.type) {
    case 'account': {
      const [a] = await tx
        .select({ name: accounts.displayName, email: accounts.email })
        .from(accounts)
        .where(eq(accounts.id, actor.accountId));
      return { id: actor.accountId, label: a ? (a.email ? `${a.name} <${a.email}>` : a.name) : 'unknown account' };
    }
    case 'scim':
      return { id: actor.tokenId, label: `SCIM token ${actor.label}` };
    case 'system':
      return { id: actor.job, label: actor.job === 'cli' ? 'Operator (roster CLI)' : `Roster job ${actor.job}` };
  }
}

const MAX_PAGE = 1000;

/** A date PostgreSQL's timestamps can hold (JavaScript's reach further, both ways). */
const filterDate = z.coerce
  .date()
  .refine((d) => d.getUTCFullYear() >= 1 && d.getUTCFullYear() <= 9999, { message: 'Give a date between the years 1 and 9999.' })
  .optional();

export const auditFilterSchema = z.object({
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
export type AuditFilter = z.input<typeof auditFilterSchema>;

export function createAuditService(deps: Deps) {
  async function query(actor: Actor, orgId: string, filter: AuditFilter = {}): Promise<AuditEventRow[]> {
    const f = parseInput(auditFilterSchema, filter);
    await requireMembership(deps.db, actor, orgId).then((s) => authorize(s, 'audit:read'));
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
  async function exportEvents(
    actor: Actor,
    orgId: string,
    format: 'jsonl' | 'csv',
    filter: Omit<AuditFilter, 'limit' | 'beforeId'> = {},
  ): Promise<string> {
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

const csvColumns = [
  'id',
  'at',
  'orgId',
  'actorType',
  'actorId',
  'actorLabel',
  'via',
  'action',
  'targetType',
  'targetId',
  'before',
  'after',
] as const;

export function toJsonLines(rows: AuditEventRow[]): string {
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
