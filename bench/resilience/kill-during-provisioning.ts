/**
 * kill -9 Roster in the middle of provisioning 10,000 users, restart it, and let the client retry the
 * way an IdP does (on errors: look the user up by userName, create it if it is missing). The end
 * state must be exactly the expected members, with no duplicates. Run: npm run resilience:kill
 */
import { freePort } from '../../src/db/embedded.js';
import { scimBenchSetup } from '../lib/postgres.js';
import { spawnRoster, stopChild, waitForHealth } from '../lib/roster.js';

const say = (msg: string) => process.stdout.write(`${msg}\n`);
/** Roster as these checks run it: a web process, its warnings and errors on this terminal. */
const startRoster = (dbUrl: string, port: number) => spawnRoster(port, dbUrl, { poolSize: 10, stdio: ['ignore', 'ignore', 'inherit'] });

const USERS = Number(process.env.USERS ?? 10_000);
const CONCURRENCY = 10;

async function main() {
  const env = await scimBenchSetup('kill');
  const port = await freePort();
  let roster = startRoster(env.url, port);
  await waitForHealth(port, { timeoutMs: 30_000 });
  const base = `http://127.0.0.1:${port}/scim/v2`;
  const headers = { authorization: `Bearer ${env.token}`, 'content-type': 'application/scim+json' };
  let done = 0;
  let retries = 0;

  async function provision(i: number) {
    const userName = `person${i}@kill.test`;
    for (let attempt = 0; ; attempt++) {
      try {
        const found = await fetch(`${base}/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}`, { headers });
        if (found.status === 200 && ((await found.json()) as { totalResults: number }).totalResults === 1) return;
        if (found.status !== 200) throw new Error(`lookup ${found.status}`);
        const r = await fetch(`${base}/Users`, {
          method: 'POST',
          headers,
          body: JSON.stringify({
            schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
            userName,
            emails: [{ value: userName, type: 'work', primary: true }],
          }),
        });
        if (r.status === 201 || r.status === 409) return;
        throw new Error(`create ${r.status}`);
      } catch {
        retries++;
        await new Promise((res) => setTimeout(res, Math.min(2000, 50 * 2 ** attempt)));
      }
    }
  }

  let next = 0;
  let killed = false;
  const workers = Array.from({ length: CONCURRENCY }, async () => {
    while (next < USERS) {
      const i = next++;
      await provision(i);
      done++;
      if (!killed && done >= USERS * 0.3) {
        killed = true;
        say(`kill -9 Roster after ${done} users`);
        await stopChild(roster, 'SIGKILL');
        setTimeout(() => {
          roster = startRoster(env.url, port);
          say('Roster restarted');
        }, 1000);
      }
    }
  });
  const t0 = Date.now();
  await Promise.all(workers);
  const secs = (Date.now() - t0) / 1000;

  const q = async (sql: string) => Number((await env.database.pool.query(sql, [env.org.id])).rows[0].n);
  const scimUsers = await q(`select count(*)::int as n from scim_users where org_id = $1`);
  const members = await q(`select count(*)::int as n from memberships where org_id = $1 and source = 'scim'`);
  const distinctNames = await q(`select count(distinct lower(user_name))::int as n from scim_users where org_id = $1`);
  const accounts = Number((await env.database.pool.query(`select count(*)::int as n from accounts where email like 'person%@kill.test'`)).rows[0].n);
  const ok = scimUsers === USERS && members === USERS && distinctNames === USERS && accounts === USERS;
  say(
    `${USERS} users in ${secs.toFixed(1)} s with ${retries} retries: SCIM users ${scimUsers}, SCIM members ${members}, accounts ${accounts} → ${ok ? 'PASS' : 'FAIL'}`,
  );

  await stopChild(roster);
  await env.database.close();
  await env.postgres.stop();
  process.exit(ok ? 0 : 1);
}

main().catch((err) => {
  say(`failed: ${err instanceof Error ? err.stack : String(err)}`);
  process.exit(1);
});
