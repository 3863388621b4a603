import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { connect, type Database } from '../../src/db/client.js';
import { freePort, startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/db/embedded.js';
import { runMigrations } from '../../src/db/migrate.js';
import { accountActor, systemClock } from '../../src/domain/context.js';
import { createDomain } from '../../src/domain/index.js';
import { deriveKey } from '../../src/secrets.js';
import { removeDataDir, RosterServer, tempDataDir } from '../helpers/process.js';
import { healthStatus, waitFor } from '../helpers/wait.js';

/**
 * A managed PostgreSQL restarts (maintenance, failover): a fast shutdown ends every session with 57P01
 * "terminating connection due to administrator command". Roster processes of every role must live
 * through it and serve again afterwards, jobs included, without being restarted.
 */

const APP_SECRET = 'd'.repeat(40);
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

function postmasterPid(dataDir: string): number {
  return Number(readFileSync(path.join(dataDir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0]);
}

async function waitGone(pid: number) {
  await waitFor(
    () => {
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    },
    'PostgreSQL to stop',
    { timeoutMs: 20_000, intervalMs: 100 },
  );
}

async function waitHealth(server: RosterServer, port: number, status: number, timeoutMs = 30_000) {
  await waitFor(
    async () => {
      if (server.exit) throw new Error(`Roster exited.\n${server.output()}`);
      return (await healthStatus(port)) === status;
    },
    `/healthz to answer ${status}`,
    { timeoutMs, intervalMs: 200, describe: () => server.output() },
  );
}

describe('a PostgreSQL restart', () => {
  it(
    'a fast shutdown of PostgreSQL kills no Roster process; afterwards SCIM writes, notifications and scheduled jobs work again without a restart',
    { timeout: 150_000 },
    async () => {
      const dataDir = await tempDataDir('roster-pgrestart-');
      cleanups.push(() => removeDataDir(dataDir));
      const pgPort = await freePort();
      let server: EmbeddedDatabase = await startEmbeddedPostgres({ dataDir, port: pgPort, fast: true });
      cleanups.push(() => server.stop());
      const admin = new pg.Client({ connectionString: server.url() });
      await admin.connect();
      await admin.query('create database roster');
      await admin.end();
      const url = server.url('roster');

      const setupDb: Database = connect(url, 2);
      cleanups.push(() => setupDb.close());
      await runMigrations(setupDb.pool);
      const domain = createDomain({
        db: setupDb.db,
        clock: systemClock,
        settings: { membershipMode: 'multi', inviteTokenKey: deriveKey(APP_SECRET, 'invite-token') },
      });
      const owner = await domain.accounts.findOrCreateByEmail('owner@restart.test', 'Owner');
      const actor = accountActor(owner.id, 'api');
      const org = await domain.orgs.create(actor, { name: 'Restart Inc' });
      const { token } = await domain.scimTokens.create(actor, org.id, 'okta');

      const env = { DATABASE_URL: url, APP_SECRET, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', OUTBOX_DIR: path.join(dataDir, 'outbox') };
      const all = new RosterServer({ ...env, ROSTER_ROLE: 'all' });
      const worker = new RosterServer({ ...env, ROSTER_ROLE: 'worker' });
      const web = new RosterServer({ ...env, ROSTER_ROLE: 'web' });
      const servers = [all, worker, web];
      cleanups.push(() => Promise.all(servers.map((s) => s.kill())).then(() => {}));
      const ports = await Promise.all(servers.map((s) => s.listening()));
      await Promise.all(servers.map((s) => s.waitForLog((l) => /job worker started|listening on port/.test(l.msg ?? ''), 'started')));
      await all.waitForLog((l) => l.msg === 'job worker started', 'the job worker');

      // Fast shutdown, as a managed database's restart does it.
      const pid = postmasterPid(dataDir);
      process.kill(pid, 'SIGINT');
      await waitGone(pid);
      await Promise.all(servers.map((s, i) => waitHealth(s, ports[i]!, 503)));
      // Every connection holder has noticed: the pools answer 503 above, the LISTEN channels drop with their
      // connection, and the job scheduler of each process that runs jobs says it is waiting.
      await Promise.all(
        [all, worker].map((s) =>
          s.waitForLog((l) => /the database is unavailable; jobs wait until it is back/.test(l.msg ?? ''), 'the job scheduler to see the outage'),
        ),
      );
      for (const s of servers) expect(s.exit, s.output()).toBeUndefined();

      server = await startEmbeddedPostgres({ dataDir, port: pgPort, fast: true });
      await Promise.all(servers.map((s, i) => waitHealth(s, ports[i]!, 200)));
      const recoveredAt = new Date();

      // A SCIM write succeeds on both web-serving processes.
      for (const port of [ports[0]!, ports[2]!]) {
        const r = await fetch(`http://127.0.0.1:${port}/scim/v2/Users`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' },
          body: JSON.stringify({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: `after.${port}@restart.test` }),
        });
        expect(r.status, await r.text()).toBe(201);
      }

      // An invite's notification, queued by another process, is delivered by a scheduled delivery run.
      await domain.invites.create(actor, org.id, { emails: 'invitee@restart.test', role: 'member' });
      await waitForRow(setupDb, `select status from notifications where recipient_email = 'invitee@restart.test' and status = 'sent'`, 45_000, servers);

      // Scheduled jobs run again: agenda finishes an interval job after the recovery. A run the outage cut
      // off keeps its lock for the lock lifetime (60 s, jobs/agenda.ts) before any process may take it, then
      // waits for its next 15 s interval: 90 s covers both on a busy machine (45 s did not, once).
      await waitForRow(
        setupDb,
        `select name from agenda_jobs where name = 'deliver-notifications' and last_finished_at > '${recoveredAt.toISOString()}'`,
        90_000,
        servers,
      );
      for (const s of servers) expect(s.exit, s.output()).toBeUndefined();
    },
  );
});

async function waitForRow(db: Database, query: string, timeoutMs: number, servers: RosterServer[]) {
  await waitFor(
    async () => {
      const dead = servers.find((s) => s.exit);
      if (dead) throw new Error(`A Roster process exited.\n${dead.output()}`);
      return (await db.pool.query(query).catch(() => ({ rowCount: 0 }))).rowCount;
    },
    query,
    { timeoutMs, intervalMs: 250, describe: () => servers.map((s) => s.output()).join('\n') },
  );
}

describe('the embedded PostgreSQL', () => {
  it('when its postmaster is killed, Roster starts it again on the same port and serves again without a restart', { timeout: 120_000 }, async () => {
    const dataDir = await tempDataDir('roster-pgkill-');
    cleanups.push(() => removeDataDir(dataDir));
    const roster = new RosterServer({ DATA_DIR: dataDir, APP_SECRET, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info' });
    cleanups.push(() => roster.kill());
    const port = await roster.listening();
    const before = postmasterPid(dataDir);

    process.kill(before, 'SIGKILL');
    await waitGone(before);
    await roster.waitForLog((l) => l.msg === 'The embedded PostgreSQL stopped unexpectedly; starting it again', 'the restart notice');
    await roster.waitForLog((l) => l.msg === 'The embedded PostgreSQL is running again', 'the restart', 60_000);
    await waitHealth(roster, port, 200);
    expect(postmasterPid(dataDir)).not.toBe(before);
    expect(roster.exit).toBeUndefined();
  });

  it('when its postmaster dies and cannot be started again, Roster exits with code 1 and says why', { timeout: 120_000 }, async () => {
    const dataDir = await tempDataDir('roster-pgdead-');
    cleanups.push(() => removeDataDir(dataDir));
    const roster = new RosterServer({ DATA_DIR: dataDir, APP_SECRET, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info' });
    cleanups.push(() => roster.kill());
    await roster.listening();
    const lines = readFileSync(path.join(dataDir, 'pg', 'postmaster.pid'), 'utf8').split('\n');
    const pid = Number(lines[0]);
    const pgPort = Number(lines[3]);

    // Something else takes the port the moment PostgreSQL is gone: it cannot come back there.
    process.kill(pid, 'SIGKILL');
    await waitGone(pid);
    const squatter = net.createServer((socket) => socket.destroy()).listen(pgPort, '127.0.0.1');
    cleanups.push(() => new Promise<void>((r) => squatter.close(() => r())));

    await waitFor(() => roster.exit, 'Roster to exit', { describe: () => roster.output(), timeoutMs: 90_000, intervalMs: 100 });
    expect(roster.exit?.code, roster.output()).toBe(1);
    expect(roster.output()).toMatch(/The embedded PostgreSQL in .* stopped and could not be started again for 20 s/);
  });
});
