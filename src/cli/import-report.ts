import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import cliProgress from 'cli-progress';
import { stringify, type Stringifier } from 'csv-stringify';
import { describeRole } from '../domain/access.js';
import type { ImportVerdict } from '../domain/invites.js';
import type { Out } from './context.js';

/** How `roster import` words its verdicts, counts them, shows progress and writes the rows that failed. */

/** A verdict's short name: what the summary counts, and what a row's line starts with. */
export function verdictLabel(v: ImportVerdict, dryRun: boolean): string {
  if (v.kind === 'new') return dryRun ? 'new invite' : 'invited';
  if (v.kind === 'done') return v.code === 'already_member' ? 'already a member' : v.code === 'duplicate_row' ? 'duplicate row' : 'already invited';
  if (v.code === 'seat_limit') return 'over the seat limit';
  if (v.field === 'role') return v.code === 'forbidden' ? "role above the importer's rights" : 'unknown role';
  if (v.field) return `invalid ${v.field}`;
  return v.code.replace(/_/g, ' ');
}

/** A row's verdict in words: "new invite as Developer", "invalid email: That is not a valid email address." */
export function verdictText(v: ImportVerdict, dryRun: boolean): string {
  const label = verdictLabel(v, dryRun);
  if (v.kind === 'new') return `${label} as ${describeRole(v.role)}${v.billingEmails ? ', with billing emails' : ''}`;
  if (v.kind === 'done' && v.code !== 'duplicate_row') return label;
  return `${label}: ${v.message}`;
}

/** Counts of each verdict, in the order they first appear within new, done, failed. */
export class Tally {
  readonly counts = { new: new Map<string, number>(), done: new Map<string, number>(), failed: new Map<string, number>() };
  rows = 0;
  newRows = 0;
  failedRows = 0;

  add(v: ImportVerdict, dryRun: boolean): void {
    const m = this.counts[v.kind];
    const label = verdictLabel(v, dryRun);
    m.set(label, (m.get(label) ?? 0) + 1);
    this.rows++;
    if (v.kind === 'new') this.newRows++;
    if (v.kind === 'failed') this.failedRows++;
  }

  /** The summary's lines: a total, then one line per verdict (new first, then done, then failed). */
  lines(dryRun: boolean): string[] {
    const head = dryRun
      ? `Dry run: ${rows(this.rows)} checked, nothing was changed. A real run would give:`
      : `${rows(this.rows)} imported: ${n(this.newRows)} invited, ${n(this.failedRows)} failed.`;
    const entries = [...this.counts.new, ...this.counts.done, ...this.counts.failed];
    const width = Math.max(0, ...entries.map(([label]) => label.length));
    return [head, ...entries.map(([label, count]) => `  ${`${label}:`.padEnd(width + 2)}${n(count)}`)];
  }
}

const n = (x: number) => x.toLocaleString('en');
const rows = (x: number) => `${n(x)} row${x === 1 ? '' : 's'}`;

/** Progress of a real run on stderr: a bar on a terminal, else a line every PLAIN_EVERY rows. */
export type Progress = { update: (rows: number, failed: number, bytes: number) => void; log: (line: string) => void; stop: () => void };

const PLAIN_EVERY = 1_000;

export function progressOn(out: Out, totalBytes: number, terminal: boolean): Progress {
  const pct = (bytes: number) => (totalBytes > 0 ? Math.min(100, Math.floor((bytes / totalBytes) * 100)) : 100);
  if (!terminal) {
    let next = PLAIN_EVERY;
    return {
      update: (done, failed, bytes) => {
        if (done < next) return;
        next = (Math.floor(done / PLAIN_EVERY) + 1) * PLAIN_EVERY;
        out.error(`… ${n(done)} rows (${pct(bytes)}% of the file), ${n(failed)} failed`);
      },
      log: (line) => out.error(line),
      stop: () => {},
    };
  }
  const bars = new cliProgress.MultiBar(
    { stream: process.stderr, format: 'importing |{bar}| {percentage}% · {rows} rows · {failed} failed', hideCursor: true, clearOnComplete: false },
    cliProgress.Presets.shades_classic,
  );
  const bar = bars.create(Math.max(totalBytes, 1), 0, { rows: '0', failed: '0' });
  return {
    update: (done, failed, bytes) => bar.update(Math.min(bytes, Math.max(totalBytes, 1)), { rows: n(done), failed: n(failed) }),
    log: (line) => bars.log(`${line}\n`),
    stop: () => bars.stop(),
  };
}

/**
 * The rows that failed, as CSV beside the input (<file>.failed.csv): the file's own columns and an
 * `error` column. Created at the first failure and written as the import goes (never held in memory).
 */
export class FailedRows {
  private csv: Stringifier | undefined;
  private file: WriteStream | undefined;
  /** A write that failed (disk full, the file removed from under it): the import stops with its message. */
  private failure: Error | undefined;
  count = 0;

  constructor(
    readonly path: string,
    private readonly columns: readonly string[],
  ) {}

  async add(cells: readonly string[], error: string): Promise<void> {
    if (!this.csv) {
      this.file = createWriteStream(this.path);
      // A byte order mark, so that spreadsheets read the names in it as UTF-8.
      this.csv = stringify({ header: true, bom: true, columns: [...this.columns, 'error'] });
      const failed = (err: Error) => (this.failure ??= new Error(`Cannot write ${this.path}: ${err.message}`));
      this.file.on('error', failed);
      this.csv.on('error', failed);
      this.csv.pipe(this.file);
    }
    this.assertWritten();
    this.count++;
    // The file's columns as they were, padded where the row was short; extra cells had no column.
    const row = this.columns.map((_, i) => cells[i] ?? '');
    if (!this.csv.write([...row, error])) await Promise.race([once(this.csv, 'drain'), this.failed()]);
    this.assertWritten();
  }

  private assertWritten(): void {
    if (this.failure) throw this.failure;
  }

  /** Settles when a write fails (the file's error listener has recorded why). */
  private failed(): Promise<void> {
    return new Promise((resolve) => this.file!.once('error', () => resolve()));
  }

  /** Finishes the file (when one was written). */
  async close(): Promise<void> {
    if (!this.csv || !this.file) return;
    const finished = once(this.file, 'finish');
    this.csv.end();
    await Promise.race([finished, this.failed()]);
    this.assertWritten();
  }
}
