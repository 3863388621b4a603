import { randomUUID } from 'node:crypto';
import { and, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtOnce, builtOnceSql, slot } from '../../src/db/built-once.js';
import { accounts, scimUsers } from '../../src/db/schema.js';
import { freshDatabase } from '../helpers/db.js';

let db: Awaited<ReturnType<typeof freshDatabase>>;

beforeAll(async () => {
  db = await freshDatabase(2);
});
afterAll(() => db.close());

const insertAccount = builtOnce('insert account', (ex) =>
  ex
    .insert(accounts)
    .values({ email: slot('email'), displayName: slot('name'), createdAt: slot('at', accounts.createdAt), updatedAt: slot('at', accounts.updatedAt) })
    .returning(),
);
const accountByEmail = builtOnce('account by email', (ex) =>
  ex
    .select({ id: accounts.id, name: accounts.displayName, createdAt: accounts.createdAt })
    .from(accounts)
    .where(and(eq(accounts.email, slot('email'))))
    .limit(slot('limit')),
);

describe('statements built once, run with new values', () => {
  it('answers what the built query answers, each run with its own values, on the database and in a transaction', async () => {
    const at = new Date('2026-12-04T10:00:00.123Z');
    const [a] = await insertAccount(db.db, { email: 'ann@example.com', name: 'Ann', at });
    const [b] = await db.db.transaction((tx) => insertAccount(tx, { email: 'bob@example.com', name: 'Bob', at }));
    const built = await db.db.select().from(accounts).where(eq(accounts.id, a!.id));
    expect(a).toEqual(built[0]);
    expect(a).toMatchObject({ email: 'ann@example.com', displayName: 'Ann', createdAt: at });
    expect(b).toMatchObject({ email: 'bob@example.com', displayName: 'Bob', createdAt: at });
    expect(a!.createdAt).toBeInstanceOf(Date);

    expect(await accountByEmail(db.db, { email: 'bob@example.com', limit: 1 })).toEqual([{ id: b!.id, name: 'Bob', createdAt: at }]);
    expect(await db.db.transaction((tx) => accountByEmail(tx, { email: 'ann@example.com', limit: 1 }))).toEqual([{ id: a!.id, name: 'Ann', createdAt: at }]);
    expect(await accountByEmail(db.db, { email: 'nobody@example.com', limit: 1 })).toEqual([]);
  });

  it("a slot given its column takes the column's conversion: a JSON array is stored as JSON", async () => {
    const [org] = (
      await db.pool.query(
        `insert into orgs (name, slug, primary_owner_id) values ('Json', $1, (select id from accounts order by created_at limit 1)) returning id`,
        [`json-${randomUUID().slice(0, 8)}`],
      )
    ).rows as { id: string }[];
    const insert = builtOnce('insert scim user', (ex) =>
      ex
        .insert(scimUsers)
        .values({ orgId: slot('org'), userName: slot('userName'), resource: slot('resource', scimUsers.resource) })
        .returning({ id: scimUsers.id, resource: scimUsers.resource }),
    );
    const resource = { emails: [{ value: 'j@example.com', primary: true }], tags: ['a', 'b'] };
    const [row] = await insert(db.db, { org: org!.id, userName: 'j@example.com', resource });
    expect(row!.resource).toEqual(resource);
    const stored = await db.pool.query(`select jsonb_typeof(resource->'tags') as t from scim_users where id = $1`, [row!.id]);
    expect(stored.rows).toEqual([{ t: 'array' }]);
  });

  it('statements in SQL answer as execute answers', async () => {
    const count = builtOnceSql<{ n: number }>('count by email', sql`select count(*)::int as n from accounts where email like ${slot('pattern')}`);
    expect((await count(db.db, { pattern: '%@example.com' })).rows).toEqual([{ n: 2 }]);
    expect((await db.db.transaction((tx) => count(tx, { pattern: 'ann@%' }))).rows).toEqual([{ n: 1 }]);
  });

  it('a value that is not a slot is refused when first built (it would be the same in every run), and so is a missing value', async () => {
    const constant = builtOnce('constant', (ex) => ex.select().from(accounts).where(eq(accounts.email, 'ann@example.com')));
    await expect(async () => constant(db.db, {})).rejects.toThrow(/builtOnce\(constant\): parameter \$1 is a constant, not a slot/);
    await expect(async () => accountByEmail(db.db, { email: 'ann@example.com' })).rejects.toThrow(
      /builtOnce\(account by email\): no value for the slot "limit"/,
    );
  });
});
