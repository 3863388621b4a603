/**
 * `npx tsx bench/import.ts`: `roster import` (issue 16 §4) as a person runs it, the real CLI process
 * against an embedded PostgreSQL: rows per second of a dry run and of a real run (and of running the same
 * file again), and the CLI's peak RSS, to show memory stays bounded: the peak at N rows over the peak at
 * N/10 rows. IMPORT_ROWS (default 100,000) sizes the dry run, IMPORT_REAL_ROWS (default 20,000) the real
 * one. Also rows of `npm run bench`.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { accountActor } from '../src/domain/context.js';
import type { Domain } from '../src/domain/index.js';
import { benchDomain, migratedDatabase, startBenchPostgres } from './lib/postgres.js';
import { APP_SECRET, ROOT } from './lib/roster.js';

const DRY_ROWS = Number(process.env.IMPORT_ROWS ?? 100_000);
const REAL_ROWS = Number(process.env.IMPORT_REAL_ROWS ?? 20_000);

type CliRun = { code: number | null; seconds: number; rowsPerSecond: number; peakRssMb: number; tail: string };

export type ImportBench = {
  dry: CliRun & { rows: number };
  drySmall: CliRun & { rows: number };
  real: CliRun & { rows: number; invited: number };
  again: CliRun & { rows: number };
};

/** A CSV of `rows` new people (a role and the billing flag on some), written as a stream. */
async function writeCsv(file: string, rows: number, tag: string): Promise<void> {
  const out = createWriteStream(file);
  out.write('email,role,billing_emails,name\n');
  for (let i = 0; i < rows; i++) {
    const line = `person${i}.${tag}@import.test,${i % 10 === 0 ? 'developer' : ''},${i % 7 === 0 ? 'yes' : ''},Person ${i}\n`;
    if (!out.write(line)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

/** The peak resident memory (VmHWM) of a process so far, in MB; undefined once it is gone. */
async function peakRssMb(pid: number): Promise<number | undefined> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kb = /VmHWM:\s+(\d+)/.exec(status)?.[1];
  return kb === undefined ? undefined : Number(kb) / 1024;
}

/** Runs `node bin/roster.js import …` to its end, sampling its peak RSS until it exits. */
async function runImport(dbUrl: string, args: string[], rows: number): Promise<CliRun> {
  const t0 = performance.now();
  const child = spawn(process.execPath, ['bin/roster.js', 'import', ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', DATABASE_URL: dbUrl, APP_SECRET, LOG_LEVEL: 'warn', PUBLIC_URL: 'http://127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Only the end of the output is kept (a dry run prints a line per row).
  let tail = '';
  const keep = (d: Buffer) => (tail = (tail + d.toString('utf8')).slice(-4000));
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = once(child, 'exit') as Promise<[number | null]>;
  let peak = 0;
  let done = false;
  void exited.then(() => (done = true));
  while (!done) {
    const now = await peakRssMb(child.pid!);
    if (now !== undefined) peak = Math.max(peak, now);
    await Promise.race([exited, new Promise((r) => setTimeout(r, 50))]);
  }
  const [code] = await exited;
  const seconds = (performance.now() - t0) / 1000;
  return { code, seconds: Math.round(seconds * 10) / 10, rowsPerSecond: Math.round(rows / seconds), peakRssMb: Math.round(peak), tail };
}

export async function importBench(dbUrl: string, domain: Domain, log: (m: string) => void = () => {}): Promise<ImportBench> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'roster-import-bench-'));
  try {
    const owner = await domain.accounts.findOrCreateByEmail(`import.${randomUUID().slice(0, 8)}@bench.test`, 'Import owner');
    const actor = accountActor(owner.id, 'cli');
    const org = await domain.orgs.create(actor, { name: `Import bench ${randomUUID().slice(0, 6)}` });
    const small = Math.max(1, Math.round(DRY_ROWS / 10));
    const files = { dry: path.join(dir, 'dry.csv'), small: path.join(dir, 'small.csv'), real: path.join(dir, 'real.csv') };
    await writeCsv(files.dry, DRY_ROWS, 'd');
    await writeCsv(files.small, small, 's');
    await writeCsv(files.real, REAL_ROWS, 'r');

    log(`import: dry run of ${small.toLocaleString('en')} rows`);
    const drySmall = { rows: small, ...(await runImport(dbUrl, [org.slug, files.small, '--dry-run'], small)) };
    log(`import: dry run of ${DRY_ROWS.toLocaleString('en')} rows`);
    const dry = { rows: DRY_ROWS, ...(await runImport(dbUrl, [org.slug, files.dry, '--dry-run'], DRY_ROWS)) };
    log(`import: real run of ${REAL_ROWS.toLocaleString('en')} rows`);
    const real = await runImport(dbUrl, [org.slug, files.real], REAL_ROWS);
    const invited = (await domain.invites.listPending(actor, org.id)).length;
    log('import: the same file again (every row already invited)');
    const again = { rows: REAL_ROWS, ...(await runImport(dbUrl, [org.slug, files.real], REAL_ROWS)) };
    for (const [what, r] of Object.entries({ drySmall, dry, real, again })) if (r.code !== 0) log(`import ${what} exited ${r.code}:\n${r.tail}`);
    return { drySmall, dry, real: { rows: REAL_ROWS, invited, ...real }, again };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

type Row = { name: string; result: string; target?: string; ok?: boolean; note?: string };

export function importRows(r: ImportBench): Row[] {
  const ratio = r.dry.peakRssMb / Math.max(r.drySmall.peakRssMb, 1);
  const n = (x: number) => x.toLocaleString('en');
  return [
    {
      name: `roster import --dry-run, ${n(r.dry.rows)} rows (the CLI process, start to exit)`,
      result: `${n(r.dry.rowsPerSecond)} rows/s (${r.dry.seconds} s)`,
      ok: r.dry.code === 0,
      note: 'each chunk of 50 rows checked in a transaction rolled back',
    },
    {
      name: `roster import, ${n(r.real.rows)} new rows (each an invite, its audit event and notification)`,
      result: `${n(r.real.rowsPerSecond)} rows/s (${r.real.seconds} s, ${n(r.real.invited)} invited)`,
      ok: r.real.code === 0 && r.real.invited === r.real.rows,
    },
    {
      name: `roster import of the same file again, ${n(r.again.rows)} rows already invited`,
      result: `${n(r.again.rowsPerSecond)} rows/s (${r.again.seconds} s)`,
      ok: r.again.code === 0,
    },
    {
      name: 'roster import memory: peak RSS of the CLI, dry run',
      result: `${r.dry.peakRssMb} MB at ${n(r.dry.rows)} rows, ${r.drySmall.peakRssMb} MB at ${n(r.drySmall.rows)} rows (× ${ratio.toFixed(2)})`,
      target: '≤ 1.5× from N/10 to N rows (streamed)',
      ok: ratio <= 1.5,
      note: `real run: ${r.real.peakRssMb} MB at ${n(r.real.rows)} rows`,
    },
  ];
}

async function main() {
  const postgres = await startBenchPostgres('import');
  try {
    const database = await migratedDatabase(postgres.server, 'roster_bench', 4);
    const r = await importBench(database.url, benchDomain(database), (m) => process.stderr.write(`[bench] ${m}\n`));
    await database.close();
    for (const row of importRows(r)) {
      process.stdout.write(
        `${row.name}: ${row.result}${row.note ? ` · ${row.note}` : ''}${row.target ? ` · target ${row.target}` : ''} ${row.ok ? '✔' : '✘'}\n`,
      );
    }
  } finally {
    await postgres.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
