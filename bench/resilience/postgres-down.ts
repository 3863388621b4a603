/**
 * PostgreSQL goes away under load, twice: an immediate stop (sessions just drop, as at a crash or a
 * failover) and a fast shutdown (57P01, as at a managed database's restart), each followed by a start.
 * Three Roster processes share it, one of each role (all, web, worker), on a PostgreSQL they did not
 * start (DATABASE_URL). While it is down every SCIM answer must be a clean 503 (never a 500, a 401 or
 * a hang) and no process may exit; after each start, without restarting anything, a SCIM write must
 * succeed on both web processes, an invite's notification must be delivered and a scheduled job must
 * run. Run: npm run resilience:pg
 */
import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { freePort, startEmbeddedPostgres } from '../../src/db/embedded.js';
import { accountActor } from '../../src/domain/context.js';
import { healthStatus as health, waitFor } from '../../test/helpers/wait.js';
import { scimBenchSetup, stopPostgresNow } from '../lib/postgres.js';
import { spawnRoster, stopChild, waitForHealth } from '../lib/roster.js';

const say = (msg: string) => process.stdout.write(`${msg}\n`);

type Phase = 'before' | 'down' | 'after';
const OUTAGES = [
  { name: 'immediate stop, then start (crash, failover)', signal: 'SIGQUIT' as const },
  { name: 'fast shutdown, then start (managed restart)', signal: 'SIGINT' as const },
];

async function main() {
  const env = await scimBenchSetup('pgdown');
  const outboxDir = path.join(os.tmpdir(), `roster-pgdown-outbox-${process.pid}`);
  const roles = ['all', 'web', 'worker'] as const;
  const ports = await Promise.all(roles.map(() => freePort()));
  const rosters: ChildProcess[] = roles.map((role, i) =>
    spawnRoster(ports[i]!, env.url, { role, poolSize: 10, env: { OUTBOX_DIR: outboxDir }, stdio: ['ignore', 'ignore', 'inherit'] }),
  );
  const exits: string[] = [];
  rosters.forEach((r, i) => r.once('exit', (code, signal) => exits.push(`${roles[i]} exited (code ${code}, signal ${signal})`)));
  await Promise.all(ports.map((p) => waitForHealth(p, { timeoutMs: 30_000 })));
  const webPorts = [ports[0]!, ports[1]!];
  const headers = { authorization: `Bearer ${env.token}`, 'content-type': 'application/scim+json' };
  const owner = accountActor(env.org.primaryOwnerId, 'api');

  let phase: Phase = 'before';
  const seen: Record<Phase, Record<string, number>> = { before: {}, down: {}, after: {} };
  let stop = false;
  let seq = 0;
  const load = Array.from({ length: 8 }, async (_, w) => {
    while (!stop) {
      const p = phase;
      const base = `http://127.0.0.1:${webPorts[w % 2]}/scim/v2`;
      let key: string;
      try {
        const r =
          w % 4 < 2
            ? await fetch(`${base}/Users?filter=${encodeURIComponent('userName eq "nobody@x.test"')}`, { headers, signal: AbortSignal.timeout(10_000) })
            : await fetch(`${base}/Users`, {
                method: 'POST',
                headers,
                signal: AbortSignal.timeout(10_000),
                body: JSON.stringify({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: `u${seq++}@pgdown.test` }),
              });
        key = String(r.status);
        await r.text();
      } catch (err) {
        key = (err as Error).name === 'TimeoutError' ? 'timeout' : 'network error';
      }
      seen[p][key] = (seen[p][key] ?? 0) + 1;
      await new Promise((r) => setTimeout(r, 5));
    }
  });

  const results: boolean[] = [];
  await new Promise((r) => setTimeout(r, 3000));
  for (const [n, outage] of OUTAGES.entries()) {
    say(`outage ${n + 1}: ${outage.name}`);
    for (const p of Object.values(seen)) for (const k of Object.keys(p)) delete p[k];
    phase = 'before';
    await new Promise((r) => setTimeout(r, 1000));
    phase = 'down';
    await stopPostgresNow(env.dir, outage.signal);
    await new Promise((r) => setTimeout(r, 5000));
    const downHealth = await Promise.all(ports.map(health));
    env.postgres.server = await startEmbeddedPostgres({ dataDir: env.dir, port: env.pgPort });
    await Promise.all(ports.map((p) => waitForHealth(p, { timeoutMs: 30_000 }).catch(() => {})));
    const recoveredAt = new Date();
    phase = 'after';

    // After recovery: a SCIM write on each web process, an invite's notification delivered by a
    // worker, and a scheduled job (the delivery interval job) finished after the recovery.
    const writes = await Promise.all(
      webPorts.map((port) =>
        fetch(`http://127.0.0.1:${port}/scim/v2/Users`, {
          method: 'POST',
          headers,
          body: JSON.stringify({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: `after${n}.${port}@pgdown.test` }),
        })
          .then(async (r) => (await r.text(), r.status))
          .catch(() => 0),
      ),
    );
    const invitee = `invitee${n}@pgdown.test`;
    const invited = await env.domain.invites.create(owner, env.org.id, { emails: invitee, role: 'member' }).then(
      () => true,
      (err) => (say(`invite failed: ${err}`), false),
    );
    const delivered = invited && (await until(`select 1 from notifications where recipient_email = '${invitee}' and status = 'sent'`, 45_000));
    const jobRan = await until(`select 1 from agenda_jobs where name = 'deliver-notifications' and last_finished_at > '${recoveredAt.toISOString()}'`, 45_000);
    const afterHealth = await Promise.all(ports.map(health));

    for (const p of ['before', 'down', 'after'] as const) say(`  ${p.padEnd(6)} ${JSON.stringify(seen[p])}`);
    const downOk = Object.keys(seen.down).every((k) => k === '503' || k === '201' || k === '200');
    const ok =
      downOk &&
      !exits.length &&
      downHealth.every((s) => s === 503) &&
      afterHealth.every((s) => s === 200) &&
      writes.every((s) => s === 201) &&
      delivered &&
      jobRan &&
      !seen.before['500'] &&
      !seen.after['500'];
    say(
      `  during the outage only 503s: ${yes(downOk)} · /healthz 503 on all three: ${yes(downHealth.every((s) => s === 503))} · no process exited: ${yes(!exits.length)}` +
        ` · after: SCIM writes ${writes.join(', ')} · notification delivered: ${yes(delivered)} · scheduled job ran: ${yes(jobRan)} · /healthz ${afterHealth.join(', ')} → ${ok ? 'PASS' : 'FAIL'}`,
    );
    for (const e of exits) say(`  ${e}`);
    results.push(ok);
  }
  stop = true;
  await Promise.all(load);

  const ok = results.every(Boolean);
  say(ok ? 'PASS' : 'FAIL');
  await Promise.all(rosters.map((r) => stopChild(r)));
  await env.database.close();
  await env.postgres.stop();
  await rm(outboxDir, { recursive: true, force: true });
  process.exit(ok ? 0 : 1);

  /** Whether the query returns a row within the time (false, not an error, when it does not). */
  function until(query: string, timeoutMs: number): Promise<boolean> {
    return waitFor(async () => !!(await env.database.pool.query(query).catch(() => ({ rowCount: 0 }))).rowCount, query, { timeoutMs, intervalMs: 250 }).catch(
      () => false,
    );
  }
}

const yes = (b: boolean) => (b ? 'yes' : 'no');

main().catch((err) => {
  say(`failed: ${err instanceof Error ? err.stack : String(err)}`);
  process.exit(1);
});
