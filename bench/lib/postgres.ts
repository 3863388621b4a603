import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { connect, type Database } from '../../src/db/client.js';
import { freePort, startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/db/embedded.js';
import { runMigrations } from '../../src/db/migrate.js';
import { accountActor, systemClock } from '../../src/domain/context.js';
import { createDomain, type Domain } from '../../src/domain/index.js';
import { deriveKey } from '../../src/secrets.js';
import { waitFor } from '../../test/helpers/wait.js';
import { APP_SECRET, buildRoster } from './roster.js';

export type BenchPostgres = {
  /** The temporary folder holding the data (in `pg/`) and anything else the run writes. */
  dir: string;
  server: EmbeddedDatabase;
  /** Stops PostgreSQL (whichever server runs on the folder now) and removes the folder. */
  stop: () => Promise<void>;
};

/** An embedded PostgreSQL of the run's own, in a fresh temporary folder, durable as in production (fsync on). */
export async function startBenchPostgres(prefix: string, opts: { port?: number; onLog?: (line: string) => void } = {}): Promise<BenchPostgres> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `roster-${prefix}-`));
  const bench: BenchPostgres = {
    dir,
    server: await startEmbeddedPostgres({ dataDir: dir, ...opts }),
    stop: async () => {
      await bench.server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return bench;
}

/** Creates the database on the server; returns its URL. */
export async function createDatabase(server: EmbeddedDatabase, name: string): Promise<string> {
  const admin = new pg.Client({ connectionString: server.url() });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  return server.url(name);
}

/**
 * A new database on the server, migrated, and a pool on it. With MAIN=<another build's dist/main.js> (an
 * A/B), that build's migrations: its schema, not this tree's.
 */
export async function migratedDatabase(server: EmbeddedDatabase, name: string, poolSize: number): Promise<Database & { url: string }> {
  const url = await createDatabase(server, name);
  const database = connect(url, poolSize);
  await runMigrations(database.pool, process.env.MAIN ? path.join(path.dirname(process.env.MAIN), 'db', 'migrations') : undefined);
  return { ...database, url };
}

/** The domain over the database, with the settings a spawned Roster with APP_SECRET uses. */
export function benchDomain(database: Database): Domain {
  return createDomain({
    db: database.db,
    clock: systemClock,
    settings: {
      membershipMode: 'multi',
      inviteTokenKey: deriveKey(APP_SECRET, 'invite-token'),
      installationKey: deriveKey(APP_SECRET, 'slack-installations'),
      webhookSecretKey: deriveKey(APP_SECRET, 'webhook-secrets'),
    },
  });
}

/** An org whose primary owner is owner@<name>.test, and a SCIM token for it. */
export async function orgWithScimToken(domain: Domain, name: string, orgName: string) {
  const owner = await domain.accounts.findOrCreateByEmail(`owner@${name}.test`, 'Owner');
  const org = await domain.orgs.create(accountActor(owner.id, 'api'), { name: orgName });
  const { token } = await domain.scimTokens.create(accountActor(owner.id, 'api'), org.id, name);
  return { owner, org, token };
}

/** The postmaster's pid, from DATA_DIR/pg/postmaster.pid. */
export async function postmasterPid(dataDir: string): Promise<number> {
  return Number((await readFile(path.join(dataDir, 'pg', 'postmaster.pid'), 'utf8')).split('\n')[0]);
}

/**
 * Stops the postmaster whoever uses it, and waits for it. SIGINT is a fast shutdown (sessions are told
 * 57P01 "terminating connection due to administrator command", as at a managed database's restart);
 * SIGQUIT an immediate one (sessions just drop, as at a crash or failover).
 */
export async function stopPostgresNow(dataDir: string, signal: 'SIGINT' | 'SIGQUIT' = 'SIGINT'): Promise<void> {
  const pid = await postmasterPid(dataDir);
  process.kill(pid, signal);
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
    { timeoutMs: 10_000, intervalMs: 50 },
  );
}

/**
 * SCIM users seed0@bench.test … up to `upTo` in the org (each with its account and membership), written
 * straight through SQL in chunks: the fixture, not the thing measured. Adds only what is missing.
 */
export async function seedScimUsers(pool: pg.Pool, orgId: string, upTo: number, log: (msg: string) => void = () => {}): Promise<void> {
  const {
    rows: [{ n }],
  } = await pool.query(`select count(*)::int as n from scim_users where org_id = $1 and user_name like 'seed%'`, [orgId]);
  if (n >= upTo) return;
  log(`seeding SCIM users ${n} → ${upTo}`);
  for (let from = n; from < upTo; from += 20_000) {
    const to = Math.min(upTo, from + 20_000);
    await pool.query(
      `with a as (
         insert into accounts (email, display_name)
         select 'seed' || i || '@bench.test', 'Seed ' || i from generate_series($2::int, $3::int - 1) i
         returning id, email)
       , m as (insert into memberships (org_id, account_id, role, source) select $1, id, 'member', 'scim' from a)
       insert into scim_users (org_id, account_id, user_name, external_id, email)
       select $1, id, email, 'ext-' || email, email from a`,
      [orgId, from, to],
    );
  }
  // Steady state: autovacuum would have vacuumed a table this size (its visibility map lets page reads skip the heap).
  await pool.query('vacuum analyze scim_users');
  await pool.query('analyze');
}

/**
 * What the SCIM and resilience benches start from (after `npm run build`): a PostgreSQL of their own (on
 * a port they can start it on again), a migrated database, the domain over it, and an org with a SCIM token.
 */
export async function scimBenchSetup(name: string, poolSize = 5, emailDomain = `${name}.test`) {
  buildRoster();
  const pgPort = await freePort();
  const postgres = await startBenchPostgres(name, { port: pgPort });
  const database = await migratedDatabase(postgres.server, 'roster', poolSize);
  const domain = benchDomain(database);
  const { org, token } = await orgWithScimToken(domain, name, `Resilience ${name}`);
  // The org has verified the domain of the users the script provisions: the trusted path, where access is
  // granted at once (an unverified domain would make pending memberships and consent emails).
  await database.pool.query(
    `insert into org_domains (org_id, domain, status, challenge, verified_at) values ($1, $2, 'verified', 'roster-verification=bench', now())`,
    [org.id, emailDomain],
  );
  return { postgres, dir: postgres.dir, pgPort, url: database.url, database, domain, org, token };
}

/**
 * The plain-pg ceiling of a SCIM create: the same rows (account, membership, SCIM user, two audit events)
 * in one transaction straight through pg, from `connections` concurrent clients, as rows per second.
 */
export async function pgWriteCeiling(url: string, orgId: string, connections: number, seconds: number): Promise<number> {
  const pool = new pg.Pool({ connectionString: url, max: connections });
  let done = 0;
  const until = performance.now() + seconds * 1000;
  async function worker(w: number) {
    let i = 0;
    while (performance.now() < until) {
      const email = `pgc-${w}-${i++}-${randomUUID().slice(0, 8)}@bench.test`;
      const c = await pool.connect();
      try {
        await c.query('begin');
        const a = await c.query(`insert into accounts (email, display_name) values ($1, 'B U') returning id`, [email]);
        const m = await c.query(`insert into memberships (org_id, account_id, role, source) values ($1, $2, 'member', 'scim') returning id`, [
          orgId,
          a.rows[0].id,
        ]);
        const u = await c.query(`insert into scim_users (org_id, account_id, user_name, email) values ($1, $2, $3, $3) returning id`, [
          orgId,
          a.rows[0].id,
          email,
        ]);
        await c.query(
          `insert into audit_events (org_id, actor_type, action, target_type, target_id) values ($1, 'scim', 'member.added', 'membership', $2), ($1, 'scim', 'scim.user_provisioned', 'scim_user', $3)`,
          [orgId, m.rows[0].id, u.rows[0].id],
        );
        await c.query('commit');
        done++;
      } finally {
        c.release();
      }
    }
  }
  await Promise.all(Array.from({ length: connections }, (_, w) => worker(w)));
  await pool.end();
  return Math.round(done / seconds);
}
