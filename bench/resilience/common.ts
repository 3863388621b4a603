import { execSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { connect } from '../../src/db/client.js';
import { freePort, startEmbeddedPostgres } from '../../src/db/embedded.js';
import { runMigrations } from '../../src/db/migrate.js';
import { createDomain } from '../../src/domain/index.js';
import { accountActor, systemClock } from '../../src/domain/context.js';
import { deriveKey } from '../../src/secrets.js';

export const APP_SECRET = 'r'.repeat(40);
export const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');

export function say(msg: string) {
  process.stdout.write(`${msg}\n`);
}

/** A PostgreSQL of its own on a fixed port, a migrated database, and an org with a SCIM token. */
export async function setup(name: string) {
  execSync('npm run build', { cwd: root, stdio: 'ignore' });
  const dir = await mkdtemp(path.join(os.tmpdir(), `roster-${name}-`));
  const pgPort = await freePort();
  const server = await startEmbeddedPostgres({ dataDir: dir, port: pgPort });
  const admin = new pg.Client({ connectionString: server.url() });
  await admin.connect();
  await admin.query('create database roster');
  await admin.end();
  const url = server.url('roster');
  const database = connect(url, 5);
  await runMigrations(database.pool);
  const domain = createDomain({ db: database.db, clock: systemClock, settings: { membershipMode: 'multi', inviteTokenKey: deriveKey(APP_SECRET, 'invite-token') } });
  const owner = await domain.accounts.findOrCreateByEmail(`owner@${name}.test`, 'Owner');
  const org = await domain.orgs.create(accountActor(owner.id, 'api'), { name: `Resilience ${name}` });
  const { token } = await domain.scimTokens.create(accountActor(owner.id, 'api'), org.id, name);
  return { dir, pgPort, server, url, database, domain, org, token };
}

/**
 * Stops the postmaster whoever uses it, and waits for it. SIGINT is a fast shutdown (sessions are told
 * 57P01 "terminating connection due to administrator command", as at a managed database's restart);
 * SIGQUIT an immediate one (sessions just drop, as at a crash or failover).
 */
export async function stopPostgresNow(dataDir: string, signal: 'SIGINT' | 'SIGQUIT' = 'SIGINT'): Promise<void> {
  const file = path.join(dataDir, 'pg', 'postmaster.pid');
  const pid = Number((await readFile(file, 'utf8')).split('\n')[0]);
  process.kill(pid, signal);
  for (let i = 0; i < 200; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('PostgreSQL did not stop');
}

export function startRoster(dbUrl: string, port: number, opts: { role?: 'all' | 'web' | 'worker'; env?: Record<string, string> } = {}): ChildProcess {
  return spawn(process.execPath, ['dist/main.js'], {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: dbUrl,
      LOG_LEVEL: 'warn',
      APP_SECRET,
      ROSTER_ROLE: opts.role ?? 'web',
      DATABASE_POOL_SIZE: '10',
      // Load from one client on one token: the per-token rate limit would measure itself.
      SCIM_RATE_LIMIT: '0',
      ...opts.env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

export async function waitHealthy(port: number, timeoutMs = 30_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/healthz`);
      if (r.status === 200) return;
    } catch {
      // starting
    }
    if (Date.now() > until) throw new Error(`Roster on port ${port} did not become healthy`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function stopProcess(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}
