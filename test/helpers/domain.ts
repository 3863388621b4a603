import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
import { sql } from 'drizzle-orm';
import { freshDatabase } from './db.js';
import type { Database } from '../../src/db/client.js';
import { createDomain, type Domain } from '../../src/domain/index.js';
import { accountActor, type Actor, type Clock } from '../../src/domain/context.js';
import type { AccountRow, OrgRow, Role } from '../../src/db/schema.js';

/** A clock tests move by hand: expiry and reminders happen when the test says so. */
export class TestClock implements Clock {
  private t: number;
  constructor(start = new Date('2026-01-05T09:00:00Z')) {
    this.t = start.getTime();
  }
  now = () => new Date(this.t);
  advance(ms: number) {
    this.t += ms;
  }
  advanceHours(h: number) {
    this.advance(h * 3_600_000);
  }
  set(d: Date) {
    this.t = d.getTime();
  }
}

export const TEST_INVITE_KEY = Buffer.alloc(32, 7);

export type World = {
  db: Database;
  domain: Domain;
  clock: TestClock;
  /** A new person with a unique email. */
  person: (name?: string) => Promise<{ account: AccountRow; actor: Actor }>;
  /** A new org whose primary owner is a new person. */
  org: (name?: string) => Promise<{ org: OrgRow; owner: { account: AccountRow; actor: Actor } }>;
  /** Adds a new person to the org with the role, through a real invite acceptance. */
  member: (org: OrgRow, by: Actor, role: Role) => Promise<{ account: AccountRow; actor: Actor }>;
  count: (table: string, where?: string) => Promise<number>;
};

/**
 * One real database per test file and a domain over it. Tests build their own people and orgs with
 * unique names, so they never depend on each other.
 */
export function useWorld(opts: { membershipMode?: 'multi' | 'single'; poolSize?: number } = {}): () => World {
  let world: World | undefined;
  beforeAll(async () => {
    const db = await freshDatabase(opts.poolSize ?? 10);
    const clock = new TestClock();
    const domain = createDomain({
      db: db.db,
      clock,
      settings: { membershipMode: opts.membershipMode ?? 'multi', inviteTokenKey: TEST_INVITE_KEY },
    });
    const person = async (name = 'Person') => {
      const email = `${name.toLowerCase().replace(/\W+/g, '.')}.${randomBytes(4).toString('hex')}@example.com`;
      const account = await domain.accounts.findOrCreateByEmail(email, name);
      return { account, actor: accountActor(account.id, 'api') };
    };
    world = {
      db,
      domain,
      clock,
      person,
      org: async (name = 'Acme') => {
        const owner = await person(`${name} Owner`);
        const org = await domain.orgs.create(owner.actor, { name: `${name} ${randomBytes(3).toString('hex')}` });
        return { org, owner };
      },
      member: async (org, by, role) => {
        const p = await person(`${role} person`);
        const [r] = await domain.invites.create(by, org.id, { emails: p.account.email!, role });
        if (!r?.ok) throw new Error(`invite failed: ${r?.message}`);
        await domain.invites.accept(p.actor, r.invite.id);
        return p;
      },
      count: async (table, where = 'true') => {
        const r = await db.db.execute<{ n: number }>(sql.raw(`select count(*)::int as n from ${table} where ${where}`));
        return r.rows[0]!.n;
      },
    };
  });
  afterAll(async () => {
    await world?.db.close();
  });
  return () => {
    if (!world) throw new Error('world not ready');
    return world;
  };
}
