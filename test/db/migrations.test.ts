import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { connect, type Database } from '../../src/db/client.js';
import { migrationsFolder, runMigrations } from '../../src/db/migrate.js';
import { createDomain } from '../../src/domain/index.js';
import { accountActor, systemClock } from '../../src/domain/context.js';
import { TEST_INVITE_KEY } from '../helpers/domain.js';
import { userResource } from '../../src/scim/user-resource.js';

type Journal = { entries: { idx: number; tag: string }[] };

/** A copy of the migrations folder that stops after migration `lastIdx`: the database as an older release left it. */
async function migrationsUpTo(lastIdx: number): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'roster-migrations-'));
  await cp(migrationsFolder, dir, { recursive: true });
  const journalFile = path.join(dir, 'meta', '_journal.json');
  const journal = JSON.parse(await readFile(journalFile, 'utf8')) as Journal;
  journal.entries = journal.entries.filter((e) => e.idx <= lastIdx);
  await writeFile(journalFile, JSON.stringify(journal));
  return dir;
}

/** A fresh database of its own, for one upgrade. */
function useScratchDatabase() {
  const ref: { db?: Database } = {};
  let name: string;
  const adminUrl = inject('pgAdminUrl');
  beforeAll(async () => {
    name = `m_${Math.random().toString(16).slice(2, 10)}`;
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`create database ${name}`);
    await admin.end();
    ref.db = connect(adminUrl.replace(/\/[^/]*$/, `/${name}`), 3);
  });
  afterAll(async () => {
    await ref.db?.close();
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`drop database if exists ${name} with (force)`);
    await admin.end();
  });
  return ref;
}

async function migrateUpTo(db: Database, lastIdx: number) {
  const old = await migrationsUpTo(lastIdx);
  try {
    const client = await db.pool.connect();
    try {
      await migrate(drizzle(client), { migrationsFolder: old });
    } finally {
      client.release();
    }
  } finally {
    await rm(old, { recursive: true, force: true });
  }
}

describe('upgrading a database of release 0021 (SCIM users without their resource)', () => {
  const scratch = useScratchDatabase();

  it('a SCIM user provisioned before reads the same after migration 0022 keeps resources', async () => {
    const db = scratch.db!;
    await migrateUpTo(db, 21);
    const q = (text: string, values: unknown[] = []) => db.pool.query(text, values);
    const owner = (await q(`insert into accounts (display_name, email) values ('Olga', 'olga@example.com') returning id`)).rows[0].id;
    const dev = (await q(`insert into accounts (display_name, email) values ('Dev', 'dev@example.com') returning id`)).rows[0].id;
    const org = (await q(`insert into orgs (name, slug, primary_owner_id) values ('Acme', 'acme', $1) returning id`, [owner])).rows[0].id;
    const token = (await q(`insert into scim_tokens (org_id, name, token_hash) values ($1, 'okta', 'h') returning id`, [org])).rows[0].id;
    const ids = [];
    for (const [userName, given, family, display] of [
      ['dev@example.com', 'Dev', 'Eloper', 'Dev Eloper'],
      ['dev2', null, null, null],
    ]) {
      const account = userName === 'dev@example.com' ? dev : owner;
      ids.push(
        (
          await q(
            `insert into scim_users (org_id, account_id, user_name, external_id, given_name, family_name, display_name, email, active) values ($1, $2, $3, 'x1', $4, $5, $6, $7, false) returning id`,
            [org, account, userName, given, family, display, userName === 'dev@example.com' ? userName : 'olga@example.com'],
          )
        ).rows[0].id,
      );
    }

    await runMigrations(db.pool);

    const domain = createDomain({ db: db.db, clock: systemClock, settings: { membershipMode: 'multi', inviteTokenKey: TEST_INVITE_KEY } });
    const actor = { type: 'scim' as const, tokenId: token, orgId: org, label: 'okta' };
    const first = userResource(await domain.scim.getUser(actor, ids[0]), 'https://roster.test/scim/v2/Users');
    expect(first).toMatchObject({
      userName: 'dev@example.com',
      externalId: 'x1',
      name: { formatted: 'Dev Eloper', familyName: 'Eloper', givenName: 'Dev' },
      displayName: 'Dev Eloper',
      active: false,
      emails: [{ value: 'dev@example.com', type: 'work', primary: true }],
    });
    const second = userResource(await domain.scim.getUser(actor, ids[1]), 'https://roster.test/scim/v2/Users');
    expect(second.name).toBeUndefined();
    expect(second.emails).toEqual([{ value: 'olga@example.com', type: 'work', primary: true }]);
    // Filters on the kept resource find them.
    const found = await domain.scim.listUsers(actor, {
      anyOf: [[{ field: 'emails.value', op: 'eq', value: 'DEV@example.com', at: { path: ['value'], within: ['emails'], caseExact: false, kind: 'text' } }]],
      startIndex: 1,
      count: 10,
    });
    expect(found.items.map((u) => u.id)).toEqual([ids[0]]);
  });
});

describe('upgrading a database of release 0024 (event numbers kept in the audit rows)', () => {
  const scratch = useScratchDatabase();

  it('migration 0025 keeps every number, keeps the events still waiting for one, and numbering goes on from there', async () => {
    const db = scratch.db!;
    await migrateUpTo(db, 24);
    const q = (text: string, values: unknown[] = []) => db.pool.query(text, values);
    const owner = (await q(`insert into accounts (display_name, email) values ('Olga', 'olga@example.com') returning id`)).rows[0].id;
    const org = (await q(`insert into orgs (name, slug, primary_owner_id) values ('Acme', 'acme', $1) returning id`, [owner])).rows[0].id;
    // Two numbered events, one committed but not numbered yet, and an account-level one (never numbered).
    await q(
      `insert into audit_events (org_id, actor_type, action, target_type, seq) values ($1, 'system', 'org.created', 'org', 1), ($1, 'system', 'member.added', 'membership', 2), ($1, 'system', 'org.renamed', 'org', null), (null, 'system', 'account.renamed', 'account', null)`,
      [org],
    );
    await q(`insert into org_event_seqs (org_id, last_seq) values ($1, 2)`, [org]);

    await runMigrations(db.pool);

    const numbers = async () =>
      (await q(`select a.action, s.seq from audit_events a left join event_seqs s on s.event_id = a.id order by a.id`)).rows.map((r) => [
        r.action,
        r.seq === null ? null : Number(r.seq),
      ]);
    expect(await numbers()).toEqual([
      ['org.created', 1],
      ['member.added', 2],
      ['org.renamed', null],
      ['account.renamed', null],
    ]);
    expect((await q(`select count(*)::int as n from unnumbered_events`)).rows[0].n).toBe(1);
    const domain = createDomain({ db: db.db, clock: systemClock, settings: { membershipMode: 'multi', inviteTokenKey: TEST_INVITE_KEY } });
    expect(await domain.feed.number()).toBe(1);
    // An event written after the upgrade is queued by the trigger and takes the next number.
    await q(`insert into audit_events (org_id, actor_type, action, target_type) values ($1, 'system', 'org.renamed', 'org')`, [org]);
    expect(await domain.feed.number()).toBe(1);
    expect(await numbers()).toEqual([
      ['org.created', 1],
      ['member.added', 2],
      ['org.renamed', 3],
      ['account.renamed', null],
      ['org.renamed', 4],
    ]);
    expect((await q(`select count(*)::int as n from unnumbered_events`)).rows[0].n).toBe(0);
  });
});

describe('upgrading a database of release 0007 (roles as a PostgreSQL enum, events not numbered)', () => {
  const scratch = useScratchDatabase();

  it('keeps every stored role and leaves the roles usable by the domain', async () => {
    const db = scratch.db!;
    await migrateUpTo(db, 7);
    // Data as release 0007 wrote it: roles are enum values.
    const q = (text: string, values: unknown[] = []) => db.pool.query(text, values);
    const owner = (await q(`insert into accounts (display_name, email) values ('Olga', 'olga@example.com') returning id`)).rows[0].id;
    const dev = (await q(`insert into accounts (display_name, email) values ('Dev', 'dev@example.com') returning id`)).rows[0].id;
    const org = (await q(`insert into orgs (name, slug, primary_owner_id, scim_default_role) values ('Acme', 'acme', $1, 'developer') returning id`, [owner]))
      .rows[0].id;
    await q(`insert into memberships (org_id, account_id, role, source) values ($1, $2, 'owner', 'creator'), ($1, $3, 'developer', 'invite')`, [
      org,
      owner,
      dev,
    ]);
    await q(
      `insert into invites (org_id, email, role, token_hash, token_nonce, expires_at) values ($1, 'bill@example.com', 'billing', 'h', 'n', now() + interval '7 days')`,
      [org],
    );
    await q(
      `insert into audit_events (org_id, actor_type, action, target_type) values ($1, 'system', 'org.created', 'org'), ($1, 'system', 'member.added', 'membership')`,
      [org],
    );
    expect((await q(`select count(*)::int as n from pg_type where typname = 'role'`)).rows[0].n).toBe(1);

    await runMigrations(db.pool);

    const roleColumns = await q(
      `select table_name, column_name, data_type from information_schema.columns where column_name in ('role', 'scim_default_role', 'scim_base_role') and table_schema = 'public' order by 1, 2`,
    );
    expect(roleColumns.rows.length).toBeGreaterThanOrEqual(6);
    for (const c of roleColumns.rows) expect({ ...c, data_type: c.data_type }).toEqual({ ...c, data_type: 'text' });
    expect((await q(`select count(*)::int as n from pg_type where typname = 'role'`)).rows[0].n).toBe(0);
    expect((await q(`select role from memberships where org_id = $1 order by role`, [org])).rows.map((r) => r.role)).toEqual(['developer', 'owner']);
    expect((await q(`select role from invites where org_id = $1`, [org])).rows[0].role).toBe('billing');
    expect((await q(`select scim_default_role from orgs where id = $1`, [org])).rows[0].scim_default_role).toBe('developer');

    // Migration 0009 numbers the events written before it (0025 keeps the numbers), and the org's next event follows them.
    expect(
      (await q(`select s.seq from audit_events a join event_seqs s on s.event_id = a.id where a.org_id = $1 order by a.id`, [org])).rows.map((r) =>
        Number(r.seq),
      ),
    ).toEqual([1, 2]);

    // The domain reads and changes the migrated roles.
    const domain = createDomain({ db: db.db, clock: systemClock, settings: { membershipMode: 'multi', inviteTokenKey: TEST_INVITE_KEY } });
    const ownerActor = accountActor(owner, 'api');
    const list = await domain.members.list(ownerActor, org);
    expect(list.map((m) => [m.displayName, m.role])).toEqual([
      ['Olga', 'owner'],
      ['Dev', 'developer'],
    ]);
    const devMember = list.find((m) => m.displayName === 'Dev')!;
    const after = await domain.members.changeRole(ownerActor, org, devMember.accountId, 'admin');
    expect(after.role).toBe('admin');
    await domain.feed.number();
    expect(
      (await q(`select a.action, s.seq from event_seqs s join audit_events a on a.id = s.event_id where s.org_id = $1 order by s.seq desc limit 1`, [org]))
        .rows[0],
    ).toEqual({
      action: 'member.role_changed',
      seq: '3',
    });
  });
});
