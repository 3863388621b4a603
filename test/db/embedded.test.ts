import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, watch } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres } from '../../src/db/embedded.js';
import { removeDataDir, tempDataDir } from '../helpers/process.js';

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map(removeDataDir));
});

async function canConnect(url: string): Promise<boolean> {
  const c = new pg.Client({ connectionString: url });
  try {
    await c.connect();
    await c.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => {});
  }
}

const withPassword = (url: string, password: string) => {
  const u = new URL(url);
  u.password = password;
  return u.toString();
};

describe('the embedded PostgreSQL superuser password', () => {
  it('is generated into DATA_DIR/pg-password (0600), works, and the old fixed password does not', { timeout: 60_000 }, async () => {
    const dir = await tempDataDir('roster-pgpw-');
    dirs.push(dir);
    const server = await startEmbeddedPostgres({ dataDir: dir, fast: true });
    try {
      const file = path.join(dir, 'pg-password');
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const password = readFileSync(file, 'utf8').trim();
      expect(password.length).toBeGreaterThanOrEqual(40);
      expect(await canConnect(server.url())).toBe(true);
      expect(await canConnect(withPassword(server.url(), 'roster-local'))).toBe(false);
    } finally {
      await server.stop();
    }
  });

  it('a data folder made with the old fixed password gets a generated one at its next start', { timeout: 60_000 }, async () => {
    const dir = await tempDataDir('roster-pglegacy-');
    dirs.push(dir);
    let server = await startEmbeddedPostgres({ dataDir: dir, fast: true });
    // Make it look like a folder from before: the fixed password, no password file.
    const admin = new pg.Client({ connectionString: server.url() });
    await admin.connect();
    await admin.query(`alter role postgres password 'roster-local'`);
    await admin.end();
    await server.stop();
    rmSync(path.join(dir, 'pg-password'));

    server = await startEmbeddedPostgres({ dataDir: dir, fast: true });
    try {
      const password = readFileSync(path.join(dir, 'pg-password'), 'utf8').trim();
      expect(password).not.toBe('roster-local');
      expect(await canConnect(server.url())).toBe(true);
      expect(await canConnect(withPassword(server.url(), 'roster-local'))).toBe(false);
    } finally {
      await server.stop();
    }
  });

  it('initdb never gets the password through a file in the shared temp folder (any local user could read it there)', { timeout: 60_000 }, async () => {
    const dir = await tempDataDir('roster-pgtmp-');
    dirs.push(dir);
    const shared = mkdtempSync(path.join(os.tmpdir(), 'roster-shared-tmp-'));
    chmodSync(shared, 0o1777); // like /tmp
    const seen: string[] = [];
    const watcher = watch(shared, (_event, name) => name && seen.push(String(name)));
    const before = process.env.TMPDIR;
    process.env.TMPDIR = shared;
    try {
      const server = await startEmbeddedPostgres({ dataDir: dir, fast: true });
      await server.stop();
    } finally {
      if (before === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = before;
      watcher.close();
      rmSync(shared, { recursive: true, force: true });
    }
    expect(seen.filter((n) => /pg-password/.test(n))).toEqual([]);
  });
});
