import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scrubError } from '../src/logger.js';
import { freshDatabase } from './helpers/db.js';

// Error log lines carry ids and codes, never the personal data a failed query had as parameters.

let db: Awaited<ReturnType<typeof freshDatabase>>;
beforeAll(async () => {
  db = await freshDatabase(2);
});
afterAll(async () => {
  await db.close();
});

/** A pino logger with Roster's error serializer, writing into an array. */
function capture() {
  const lines: string[] = [];
  const stream = new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) });
  return { log: pino({ level: 'info', serializers: { err: scrubError } }, stream), lines };
}

describe('error log lines', () => {
  it("a failed query logged as an error names neither its parameters (an email, a name) nor PostgreSQL's detail quoting them", async () => {
    const email = 'secret.person@example.com';
    // A unique violation whose detail quotes the key's value, raised through drizzle with parameters.
    await db.db.execute(sql`create temporary table people (email text primary key, name text)`);
    await db.db.execute(sql`insert into people values (${email}, ${'Secret Name'})`);
    const err = await db.db.execute(sql`insert into people values (${email}, ${'Secret Name'})`).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(Error);
    expect(String((err as Error).message)).toContain(email); // drizzle's own message has it…
    const { log, lines } = capture();
    log.error({ err }, 'adding a person failed');
    log.warn({ err: (err as Error).message }, 'adding a person failed');
    const out = lines.join('\n');
    expect(out).not.toContain(email); // …the log line does not
    expect(out).not.toContain('Secret Name');
    expect(out).toContain('23505');
    expect(out).toContain('Failed query');
  });

  it("an SMTP refusal that quotes the recipient's address is logged without it", () => {
    const err = new Error("Can't send mail - all recipients were rejected: 550 5.1.1 <ana.smith@example.com>: Recipient address rejected");
    const { log, lines } = capture();
    log.warn({ err }, 'notification delivery failed; will retry');
    log.warn({ err: err.message, notification: 7 }, 'notification delivery failed; will retry');
    expect(lines.join('\n')).not.toContain('ana.smith@example.com');
    expect(lines.join('\n')).toContain('550 5.1.1 <[email]>');
  });
});

describe('log format', () => {
  const logWith = (pretty: boolean) =>
    spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        '-e',
        `import('./src/logger.ts').then(({ createLogger }) => createLogger('info', { pretty: ${pretty} }).info({ token: 'sekrit', port: 3000 }, 'Roster listening'))`,
      ],
      { cwd: path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..'), encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0' } },
    );

  it('a terminal gets one readable line per entry (pino-pretty), anything else JSON; both redact secrets', () => {
    const pretty = logWith(true);
    expect(pretty.status, pretty.stderr).toBe(0);
    expect(pretty.stdout).toMatch(/INFO.*Roster listening/);
    expect(() => JSON.parse(pretty.stdout.split('\n')[0]!)).toThrow();
    expect(pretty.stdout).not.toContain('sekrit');
    const json = logWith(false);
    expect(json.status, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout.trim())).toMatchObject({ level: 30, msg: 'Roster listening', port: 3000, token: '[redacted]' });
  });
});
