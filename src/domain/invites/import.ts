import { assertCanGrant, authorize, defaultRole, parseRole, type Role, type Standing } from '../access.js';
import { displayNameSchema } from '../account-by-email.js';
import type { Actor, Deps, Tx } from '../context.js';
import { inSavepoint } from '../events.js';
import { fail, isDomainError, type ErrorCode } from '../errors.js';
import type { OrgRow } from '../../db/schema.js';
import { lockOrgFor, requireMembership } from '../standing.js';
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

/**
 * One row as the file has it: the cells as text (billing emails: yes/no, true/false, 1/0, on/off), and
 * its row number in the file (a duplicate's verdict names the row it repeats).
 */
export type ImportRow = { row: number; email: string; role?: string | undefined; billingEmails?: string | boolean | undefined; name?: string | undefined };

export type ImportOptions = {
  /** Check every row as if it were invited, then undo it all: nothing changes, nobody is told. */
  dryRun?: boolean | undefined;
  /** The role of rows that name none (default: the default role). */
  role?: string | undefined;
  /** Billing emails for rows that leave the cell empty (default: no). */
  billingEmails?: boolean | undefined;
};

/** The cell a refusal is about, when it is about one. */
export type ImportField = 'email' | 'role' | 'billing_emails' | 'name';

/**
 * What became of a row: new (invited, or would be in a dry run), done already (a member, invited, or a
 * person an earlier row of the file invited: importing the same file again changes nothing), or failed
 * (with why).
 */
export type ImportVerdict =
  | { kind: 'new'; code: 'invited'; email: string; role: Role; billingEmails: boolean }
  | { kind: 'done'; code: 'already_member' | 'invite_pending' | 'duplicate_row'; email: string; message: string }
  | { kind: 'failed'; code: ErrorCode; email: string; message: string; field?: ImportField };

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

export function createInviteImport(deps: Deps) {
  const { db, clock, settings } = deps;

  /**
   * Starts importing a file as `actor`: who may invite, and whether the default role is theirs to give,
   * is checked once, before any row (one clear refusal, not one per row). The import then takes the
   * file a chunk of rows at a time (at most MAX_IMPORT_CHUNK), in one transaction per chunk: the org is
   * locked once and each row is invited in its own savepoint, so a refused row undoes only itself. A dry
   * run does the same and rolls each chunk back, counting the seats its rows would take for the chunks
   * after it, so its verdicts are the ones a real run would give. A row whose email an earlier row
   * invited (or found done) is a duplicate; a row that failed does not make a later one a duplicate.
   */
  async function startImport(actor: Actor, orgId: string, opts: ImportOptions = {}) {
    const standing = await requireMembership(db, actor, orgId);
    authorize(standing, 'member:invite');
    const fallback = { role: opts.role === undefined ? defaultRole : parseRole(opts.role), billingEmails: opts.billingEmails ?? false };
    assertCanGrant(standing.role, fallback.role);
    const seen = new Map<string, number>();
    // Only a dry run has seats planned outside the database: a real run's earlier invites are in it.
    let plannedSeats = 0;

    async function rows(chunkRows: readonly ImportRow[]): Promise<ImportVerdict[]> {
      if (chunkRows.length > MAX_IMPORT_CHUNK) fail('invalid_input', `Import at most ${MAX_IMPORT_CHUNK} rows at a time (this chunk has ${chunkRows.length}).`);
      const chunk = async (tx: Tx): Promise<ImportVerdict[]> => {
        const { org, standing } = await lockOrgFor(tx, actor, orgId, 'member:invite');
        const c = { org, standing, plannedSeats, fallback };
        const verdicts: ImportVerdict[] = [];
        for (const row of chunkRows) {
          const email = normalizeEmail(row.email ?? '');
          const first = email ? seen.get(email.toLowerCase()) : undefined;
          if (first !== undefined) {
            verdicts.push({ kind: 'done', code: 'duplicate_row', email, message: `Row ${first} has the same email; a person is invited once.` });
            continue;
          }
          const v = await importOne(tx, actor, c, row);
          if (v.kind !== 'failed') seen.set(email.toLowerCase(), row.row);
          verdicts.push(v);
        }
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
      plannedSeats += planned.filter((v) => v.kind === 'new').length;
      return planned;
    }

    return { rows };
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

  return { startImport };
}

/** Thrown at the end of a dry run's chunk to roll it back; caught right there, never seen outside. */
class DryRunRollback extends Error {}
