import { constants } from 'node:fs';
import { access, open, rm, stat, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { CsvError, parse, type Info } from 'csv-parse';
import { MAX_IMPORT_CHUNK, type ImportRow } from '../../domain/invites.js';
import { type CliCtx, type Command, UsageError, orgAndActor } from '../context.js';
import { FailedRows, Tally, progressOn, verdictText, type Progress } from '../import-report.js';

/**
 * roster import <org> <file.csv> [--dry-run] [--role <role>] [--billing-emails] [--as <email>]: invites
 * the people of a CSV file, a chunk of rows per transaction through the domain (the rules of every
 * invite). The file is streamed, so its size does not matter; rows already done read as such, so the
 * same file can be imported again.
 */

const usageLine = 'roster import <org> <file.csv> [--dry-run] [--role <role>] [--billing-emails] [--as <email>]';

/** The columns read (names compared trimmed, in any case; others are ignored). */
const known = ['email', 'role', 'billing_emails', 'name'] as const;
type Column = (typeof known)[number];

type Header = { names: string[]; index: Partial<Record<Column, number>> };

/** A row of the file waiting for its chunk: its row number (its line, the header being row 1) and its cells. */
type Pending = { row: number; cells: string[]; item: ImportRow };

export const importCommand: Command = async (c, [ref, file, ...extra]) => {
  if (!ref || !file || extra.length) throw new UsageError(`Name the organization and one CSV file: ${usageLine}`);
  const dryRun = c.flags['dry-run'] ?? false;
  const handle = await openReadable(file);
  try {
    const { org, actor } = await orgAndActor(c, ref);
    if (!dryRun) await assertWritable(`${file}.failed.csv`);
    // Who may invite, and the default role, are checked once, before any row is read.
    const session = await c.domain.invites.startImport(actor, org.id, { dryRun, role: c.flags.role, billingEmails: c.flags['billing-emails'] ?? false });
    return await importFile(c, handle, file, session, dryRun);
  } finally {
    await handle.close();
  }
};

async function openReadable(file: string): Promise<FileHandle> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(file, 'r');
    if (!(await handle.stat()).isFile()) throw Object.assign(new Error('not a file'), { code: 'EISDIR' });
    return handle;
  } catch (err) {
    await handle?.close();
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'there is no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is not a file' : String(code);
    throw new UsageError(`Cannot read ${file}: ${why}.`);
  }
}

function readHeader(cells: string[], file: string): Header {
  const names = cells.map((s) => s.trim());
  const index: Header['index'] = {};
  names.forEach((name, i) => {
    const key = name.toLowerCase().replace(/[\s-]+/g, '_') as Column;
    if ((known as readonly string[]).includes(key) && index[key] === undefined) index[key] = i;
  });
  if (index.email === undefined) {
    const found = names.filter(Boolean).length ? names.filter(Boolean).join(', ') : 'none';
    throw new UsageError(`${file} has no email column. Its first row names the columns: found ${found}; needed email (optional: role, billing_emails, name).`);
  }
  return { names, index };
}

type Session = Awaited<ReturnType<CliCtx['domain']['invites']['startImport']>>;

async function importFile(c: CliCtx, handle: FileHandle, file: string, session: Session, dryRun: boolean): Promise<number> {
  const totalBytes = (await handle.stat()).size;
  const input = handle.createReadStream({ autoClose: false });
  const parser = input.pipe(
    parse({ bom: true, trim: true, relax_column_count: true, skip_empty_lines: true, skip_records_with_empty_values: true, info: true }),
  );
  input.once('error', (err) => parser.destroy(err));

  const tally = new Tally();
  let header: Header | undefined;
  let failed: FailedRows | undefined;
  let lastLine = 0;
  let bytes = 0;
  let chunk: Pending[] = [];
  // A real run shows its progress once the header is read (a dry run's rows are its progress).
  let progress: Progress | undefined;

  async function flush(): Promise<void> {
    if (!chunk.length) return;
    const verdicts = await session.rows(chunk.map((p) => p.item));
    for (const [i, p] of chunk.entries()) await report(p, verdicts[i]!);
    chunk = [];
    progress?.update(tally.rows, tally.failedRows, bytes);
  }

  async function report(p: Pending, v: Awaited<ReturnType<Session['rows']>>[number]): Promise<void> {
    tally.add(v, dryRun);
    const line = `row ${p.row}  ${v.email || '(no email)'}  ${verdictText(v, dryRun)}`;
    if (dryRun) return c.out.print(line);
    if (v.kind !== 'failed') return;
    progress!.log(line);
    failed ??= new FailedRows(`${file}.failed.csv`, header!.names);
    await failed.add(p.cells, v.message);
  }

  let parseError: CsvError | undefined;
  try {
    try {
      for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: Info }>) {
        const row = info.lines - newlinesIn(record);
        lastLine = info.lines;
        bytes = info.bytes;
        if (!header) {
          header = readHeader(record, file);
          if (!dryRun) progress = progressOn(c.out, totalBytes, process.stderr.isTTY === true);
          continue;
        }
        chunk.push(pendingRow(record, row, header));
        if (chunk.length >= MAX_IMPORT_CHUNK) await flush();
      }
    } catch (err) {
      if (!(err instanceof CsvError)) throw err;
      parseError = err;
    }
    // The rows read before a malformed part of the file are imported all the same.
    await flush();
  } finally {
    input.destroy();
    progress?.stop();
    await failed?.close();
  }
  if (!header && !parseError) throw new UsageError(`${file} is empty: its first row must name the columns (email, and optionally role, billing_emails, name).`);

  for (const line of tally.lines(dryRun)) c.out.print(line);
  if (failed) c.out.print(`${failed.count === 1 ? 'The row' : `The ${failed.count.toLocaleString('en')} rows`} that failed, with why, are in ${failed.path}`);
  else if (!dryRun && !parseError) await removeStale(c, `${file}.failed.csv`);
  if (parseError) {
    c.out.error(
      `${file} is not valid CSV: ${parseError.message}. ${lastLine ? `Rows up to line ${lastLine} were read; nothing after it was.` : 'No row was read.'} ${dryRun ? 'Fix the file and check it again.' : 'Fix the file and import it again (rows already done are skipped).'}`,
    );
    return 2;
  }
  return tally.failedRows ? 1 : 0;
}

function pendingRow(record: string[], row: number, header: Header): Pending {
  const cell = (col: Column) => {
    const i = header.index[col];
    return i === undefined ? undefined : (record[i] ?? '');
  };
  const email = cell('email') ?? '';
  const item: ImportRow = { row, email, role: cell('role'), billingEmails: cell('billing_emails'), name: cell('name') };
  return { row, cells: record, item };
}

/** Line breaks inside quoted cells: a record's row is the line it starts on. */
function newlinesIn(record: string[]): number {
  let k = 0;
  for (const cell of record) for (let i = cell.indexOf('\n'); i >= 0; i = cell.indexOf('\n', i + 1)) k++;
  return k;
}

/** The failed rows are written beside the file: a folder that cannot take them is refused before any row is imported. */
async function assertWritable(path: string): Promise<void> {
  try {
    await access(dirname(path), constants.W_OK);
  } catch {
    throw new UsageError(
      `Cannot write ${path} (the failed rows go beside the file): ${dirname(path)} is not writable. Copy the file to a folder you can write to.`,
    );
  }
}

/** A failed-rows file of an earlier run, now that no row failed, would only mislead. */
async function removeStale(c: CliCtx, path: string): Promise<void> {
  if (!(await stat(path).catch(() => undefined))) return;
  await rm(path, { force: true });
  c.out.print(`No row failed: ${path}, from an earlier run, was removed.`);
}
