import { defaultRole, parseRole, type Role, type Standing } from '../access.js';
import { displayNameSchema } from '../account-by-email.js';
import type { Actor, Deps, Tx } from '../context.js';
import { inSavepoint } from '../events.js';
import { fail, isDomainError, type ErrorCode } from '../errors.js';
import type { OrgRow } from '../../db/schema.js';
import { lockOrgFor } from '../standing.js';
import { normalizeEmail } from '../validation.js';
import { emailProblem, inviteOneIn, refusalOf } from './invite-one.js';

/**
 * Importing invites from a file (a CSV of people), a chunk of rows at a time: the same checks and the
 * same invite, event and notification as inviting one email, each row with its own verdict.
 */

/**
 * Rows per call. Each row runs in its own savepoint, and PostgreSQL keeps up to 64 subtransactions of a
 * transaction in memory before it spills them to disk and slows down.
 */
export const MAX_IMPORT_CHUNK = 50;

/** One row as the file has it: the cells as text (billing emails: yes/no, true/false, 1/0, on/off). */
export type ImportRow = { email: string; role?: string | undefined; billingEmails?: string | boolean | undefined; name?: string | undefined };

export type ImportOptions = {
  /** Check every row as if it were invited, then undo it all: nothing changes, nobody is told. */
  dryRun?: boolean | undefined;
  /** A dry run's invites planned by earlier chunks of the same file: they hold seats here too. */
  plannedSeats?: number | undefined;
  /** The role of rows that name none (default: the default role). */
  role?: string | undefined;
  /** Billing emails for rows that leave the cell empty (default: no). */
  billingEmails?: boolean | undefined;
};

/** The cell a refusal is about, when it is about one. */
export type ImportField = 'email' | 'role' | 'billing_emails' | 'name';

/**
 * What became of a row: new (invited, or would be in a dry run), done already (a member, or invited:
 * importing the same file again changes nothing), or failed (with why).
 */
export type ImportVerdict =
  | { kind: 'new'; code: 'invited'; email: string; role: Role; billingEmails: boolean }
  | { kind: 'done'; code: 'already_member' | 'invite_pending'; email: string; message: string }
  | { kind: 'failed'; code: ErrorCode | 'duplicate_row'; email: string; message: string; field?: ImportField };

const yes = new Set(['yes', 'true', '1', 'on']);
const no = new Set(['no', 'false', '0', 'off']);

/** A billing-emails cell: yes or no in its usual spellings, empty for the fallback, undefined for anything else. */
function billingOf(cell: string | boolean | undefined, fallback: boolean): boolean | undefined {
  if (typeof cell === 'boolean') return cell;
  const v = (cell ?? '').trim().toLowerCase();
  if (!v) return fallback;
  if (yes.has(v)) return true;
  if (no.has(v)) return false;
  return undefined;
}

/** The verdict of a row whose email an earlier row of the same file has (any case). */
export function duplicateVerdict(email: string, earlierRow: number): ImportVerdict {
  return { kind: 'failed', code: 'duplicate_row', email, field: 'email', message: `Row ${earlierRow} has the same email; a person is invited once.` };
}

export function createInviteImport(deps: Deps) {
  const { db, clock, settings } = deps;

  /**
   * Imports one chunk of rows (at most MAX_IMPORT_CHUNK) in one transaction: the org is locked once and
   * each row is invited in its own savepoint, so a refused row undoes only itself. A dry run does the
   * same and rolls the whole chunk back, so its verdicts are the ones a real run would give.
   */
  async function importRows(actor: Actor, orgId: string, rows: readonly ImportRow[], opts: ImportOptions = {}): Promise<ImportVerdict[]> {
    if (rows.length > MAX_IMPORT_CHUNK) fail('invalid_input', `Import at most ${MAX_IMPORT_CHUNK} rows at a time (this chunk has ${rows.length}).`);
    const fallback = { role: opts.role === undefined ? defaultRole : parseRole(opts.role), billingEmails: opts.billingEmails ?? false };
    // Only a dry run has seats planned elsewhere: a real run's earlier invites are in the database.
    const plannedSeats = opts.dryRun ? (opts.plannedSeats ?? 0) : 0;
    const chunk = async (tx: Tx): Promise<ImportVerdict[]> => {
      const { org, standing } = await lockOrgFor(tx, actor, orgId, 'member:invite');
      const verdicts: ImportVerdict[] = [];
      for (const row of rows) verdicts.push(await importOne(tx, actor, { org, standing, plannedSeats, fallback }, row));
      return verdicts;
    };
    if (!opts.dryRun) return db.transaction(chunk);
    const rollback = new DryRunRollback();
    let planned: ImportVerdict[] = [];
    try {
      await db.transaction(async (tx) => {
        planned = await chunk(tx);
        throw rollback;
      });
    } catch (err) {
      if (err !== rollback) throw err;
    }
    return planned;
  }

  type ChunkContext = { org: OrgRow; standing: Standing; plannedSeats: number; fallback: { role: Role; billingEmails: boolean } };

  async function importOne(tx: Tx, actor: Actor, c: ChunkContext, row: ImportRow): Promise<ImportVerdict> {
    const email = normalizeEmail(row.email ?? '');
    const failed = (code: ErrorCode, message: string, field?: ImportField): ImportVerdict => ({
      kind: 'failed',
      code,
      email,
      message,
      ...(field ? { field } : {}),
    });
    if (!email) return failed('invalid_input', 'The email is empty.', 'email');
    const problem = emailProblem(email);
    if (problem) return failed('invalid_input', problem, 'email');
    let role = c.fallback.role;
    if (row.role?.trim()) {
      try {
        role = parseRole(row.role);
      } catch (err) {
        if (!isDomainError(err)) throw err;
        return failed(err.code, err.message, 'role');
      }
    }
    const billingEmails = billingOf(row.billingEmails, c.fallback.billingEmails);
    if (billingEmails === undefined)
      return failed('invalid_input', `"${String(row.billingEmails)}" is not yes or no (also true/false, 1/0, on/off).`, 'billing_emails');
    let inviteeName: string | undefined;
    if (row.name?.trim()) {
      const parsed = displayNameSchema.safeParse(row.name);
      if (!parsed.success) return failed('invalid_input', parsed.error.issues[0]?.message ?? 'That name is not valid.', 'name');
      inviteeName = parsed.data;
    }
    try {
      const one = { org: c.org, standing: c.standing, email, role, billingEmails, inviteeName, now: clock.now(), plannedSeats: c.plannedSeats };
      await inSavepoint(tx, (sp) => inviteOneIn(sp, settings, actor, one));
      return { kind: 'new', code: 'invited', email, role, billingEmails };
    } catch (err) {
      const refusal = refusalOf(err);
      if (!refusal) throw err;
      if (refusal.code === 'already_member' || refusal.code === 'invite_pending') return { kind: 'done', code: refusal.code, email, message: refusal.message };
      // Rights were checked when the org was locked: a refusal now is about the row's role.
      return failed(refusal.code, refusal.message, refusal.code === 'forbidden' ? 'role' : undefined);
    }
  }

  return { importRows };
}

/** Thrown at the end of a dry run's chunk to roll it back; caught right there, never seen outside. */
class DryRunRollback extends Error {}
