import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { run } from '../src/cli/roster.js';
import { version } from '../src/version.js';
import { freshDatabase } from './helpers/db.js';
import { livePostmaster, removeDataDir, RosterServer, tempDataDir } from './helpers/process.js';

/**
 * `npm start` end to end: src/main.ts as a real child process on a real PostgreSQL, driven over HTTP and
 * signals, the way an operator runs it.
 */

/** Each test starts real processes; every wait inside is bounded well below this. */
const TIMEOUT = 150_000;

const servers: RosterServer[] = [];
const dataDirs: string[] = [];
const closers: (() => Promise<void>)[] = [];

afterEach(async () => {
  // Also on failure: no child may outlive its test.
  await Promise.all(servers.splice(0).map((s) => s.kill()));
});

afterAll(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
  await Promise.all(dataDirs.splice(0).map(removeDataDir));
});

function startServer(env: Record<string, string>): RosterServer {
  const s = new RosterServer({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env });
  servers.push(s);
  return s;
}

async function newDataDir(): Promise<string> {
  const dir = await tempDataDir();
  dataDirs.push(dir);
  return dir;
}

/** The in-process CLI against the embedded PostgreSQL of dataDir (joined, since a server runs there). */
async function cli(dataDir: string, ...argv: string[]) {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const code = await run(argv, { print: (s) => stdout.push(s), error: (s) => stderr.push(s) }, { DATA_DIR: dataDir, LOG_LEVEL: 'silent' });
  return { code, stdout: stdout.join('\n'), stderr: stderr.join('\n') };
}

describe('npm start on the embedded PostgreSQL', () => {
  it(
    'serves /healthz with the database up and Slack off, says Slack is off, and SIGTERM stops it and its PostgreSQL',
    async () => {
      const dataDir = await newDataDir();
      const server = startServer({ DATA_DIR: dataDir });
      const port = await server.listening();

      const health = await server.get(port, '/healthz');
      expect(health, server.output()).toEqual({ status: 200, body: { status: 'ok', database: 'up', slack: 'off', version } });
      expect(server.logs().find((l) => /listening on port/.test(l.msg ?? ''))?.msg).toBe(`Roster ${version} listening on port ${port}`);
      expect(
        server.logs().some((l) => /slack is off/i.test(l.msg ?? '')),
        server.output(),
      ).toBe(true);
      expect(server.logs().find((l) => l.msg === 'database ready')?.database, server.output()).toMatch(/embedded PostgreSQL.*started here/);
      // One start line per surface: SCIM, the API, email (the outbox without SMTP_URL), jobs.
      const said = server.logs().map((l) => l.msg ?? '');
      for (const line of [
        /^SCIM 2\.0 for identity providers at http:\/\/\S+\/scim\/v2/,
        /^API at \S+\/api\/v1, reference at \S+\/api\/docs/,
        /^Email goes to the outbox folder/,
        /^Jobs: on/,
      ])
        expect(
          said.some((m) => line.test(m)),
          `${line}\n${server.output()}`,
        ).toBe(true);

      const postmaster = livePostmaster(dataDir);
      expect(postmaster, `no live postmaster in ${dataDir}/pg\n${server.output()}`).toBeDefined();

      const exit = await server.stop('SIGTERM');
      expect(exit, server.output()).toEqual({ code: 0, signal: null });
      expect(livePostmaster(dataDir), `the embedded PostgreSQL is still running after SIGTERM\n${server.output()}`).toBeUndefined();
      expect(() => process.kill(postmaster!, 0)).toThrow();
    },
    TIMEOUT,
  );

  it(
    'keeps the data across a restart: an org created with the CLI is still listed after SIGTERM and a new start',
    async () => {
      const dataDir = await newDataDir();
      const first = startServer({ DATA_DIR: dataDir });
      await first.listening();

      const created = await cli(dataDir, 'org', 'create', 'Durable Co', '--owner', 'durable.owner@example.com');
      expect(created.code, `${created.stdout}\n${created.stderr}\n${first.output()}`).toBe(0);
      const slug = created.stdout.trim().split('\n').at(-1)!;
      expect(slug).toBe('durable-co');

      expect(await first.stop('SIGTERM'), first.output()).toEqual({ code: 0, signal: null });
      expect(livePostmaster(dataDir), first.output()).toBeUndefined();

      const second = startServer({ DATA_DIR: dataDir });
      const port = await second.listening();
      expect((await second.get(port, '/healthz')).body, second.output()).toMatchObject({ database: 'up' });

      const listed = await cli(dataDir, 'org', 'list');
      expect(listed.code, `${listed.stderr}\n${second.output()}`).toBe(0);
      expect(listed.stdout).toMatch(/^durable-co\s+Durable Co\s+1\s/m);
      const members = await cli(dataDir, 'members', slug);
      expect(members.stdout).toContain('durable.owner@example.com');
      expect(members.stdout).toContain('Owner (primary)');

      expect(await second.stop('SIGTERM'), second.output()).toEqual({ code: 0, signal: null });
      expect(livePostmaster(dataDir), second.output()).toBeUndefined();
    },
    TIMEOUT,
  );

  it(
    'SIGTERM leaves the embedded PostgreSQL running while another Roster process is still connected to it',
    async () => {
      const dataDir = await newDataDir();
      const server = startServer({ DATA_DIR: dataDir });
      await server.listening();
      const postmaster = livePostmaster(dataDir);
      expect(postmaster, server.output()).toBeDefined();

      // Another Roster process (say a CLI command in progress) joined the server's PostgreSQL, as
      // src/db/embedded.ts does: the port from postmaster.pid, the password from DATA_DIR/pg-password.
      const pgPort = Number(readFileSync(path.join(dataDir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[3]);
      const password = encodeURIComponent(readFileSync(path.join(dataDir, 'pg-password'), 'utf8').trim());
      const other = new pg.Client({ connectionString: `postgres://postgres:${password}@127.0.0.1:${pgPort}/roster` });
      other.on('error', () => {}); // a dropped connection is reported by the query below
      await other.connect();
      closers.push(() => other.end().catch(() => {}));

      expect(await server.stop('SIGTERM'), server.output()).toEqual({ code: 0, signal: null });
      expect(livePostmaster(dataDir), `the server stopped PostgreSQL under another process\n${server.output()}`).toBe(postmaster);
      const still = await other.query<{ n: number }>('select count(*)::int as n from orgs');
      expect(still.rows[0]!.n).toBe(0);
      // afterAll stops this postmaster (started by our child) when it removes the folder.
    },
    TIMEOUT,
  );
});

describe('npm start with DATABASE_URL', () => {
  it(
    'uses that PostgreSQL server and creates no embedded one in DATA_DIR',
    async () => {
      const db = await freshDatabase(1);
      closers.push(() => db.close());
      const dataDir = await newDataDir();
      const server = startServer({ DATA_DIR: dataDir, DATABASE_URL: db.url });
      const port = await server.listening();

      const health = await server.get(port, '/healthz');
      expect(health, server.output()).toMatchObject({ status: 200, body: { status: 'ok', database: 'up', slack: 'off' } });
      const ready = server.logs().find((l) => l.msg === 'database ready');
      expect(ready?.database, server.output()).toBe(`PostgreSQL at ${new URL(db.url).host}/${db.name}`);
      // The server's pool holds a connection to exactly that database (healthz just used it).
      const conns = await db.pool.query<{ n: number }>(`select count(*)::int as n from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()`, [
        db.name,
      ]);
      expect(conns.rows[0]!.n, server.output()).toBeGreaterThan(0);
      expect(existsSync(path.join(dataDir, 'pg')), `DATA_DIR/pg was created\n${server.output()}`).toBe(false);

      expect(await server.stop('SIGTERM'), server.output()).toEqual({ code: 0, signal: null });
    },
    TIMEOUT,
  );
});
