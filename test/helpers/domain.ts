import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
import { freshDatabase } from './db.js';
import { countRows, newMember, newPerson } from './fixtures.js';
import type { Database } from '../../src/db/client.js';
import { createDomain, type Domain } from '../../src/domain/index.js';
import { createTxtLookup } from '../../src/dns.js';
import type { Actor, Clock } from '../../src/domain/context.js';
import type { AccountRow, InviteRow, OrgRow, Role } from '../../src/db/schema.js';
import type { OrgSettingsInput } from '../../src/domain/orgs.js';

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
  /** A new org (named `orgName` plus a tag, with the settings) and a pending invite with the role to a new person. */
  pendingInvite: (orgName: string, role: Role, settings?: OrgSettingsInput) => Promise<PendingInvite>;
};

export type PendingInvite = {
  org: OrgRow;
  owner: { account: AccountRow; actor: Actor };
  invitee: { account: AccountRow; actor: Actor };
  invite: InviteRow;
  token: string;
};

/**
 * One real database per test file and a domain over it. Tests build their own people and orgs with
 * unique names, so they never depend on each other.
 */
export function useWorld(opts: { membershipMode?: 'multi' | 'single'; poolSize?: number; dns?: { readonly address: string } } = {}): () => World {
  let world: World | undefined;
  beforeAll(async () => {
    const db = await freshDatabase(opts.poolSize ?? 10);
    const clock = new TestClock();
    const domain = createDomain({
      db: db.db,
      clock,
      settings: { membershipMode: opts.membershipMode ?? 'multi', inviteTokenKey: TEST_INVITE_KEY },
      // A test's own DNS server on loopback (test/helpers/dns.ts), asked with short timeouts.
      dns: opts.dns ? createTxtLookup([opts.dns.address], { timeoutMs: 300, tries: 1 }) : undefined,
    });
    const person = (name = 'Person') => newPerson(domain, name);
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
      member: (org, by, role) => newMember(domain, org, by, role),
      count: (table, where) => countRows(db, table, where),
      pendingInvite: async (orgName, role, settings) => {
        const { org, owner } = await world!.org(orgName);
        if (settings) await domain.orgs.updateSettings(owner.actor, org.id, settings);
        const invitee = await person('Invitee');
        const [r] = await domain.invites.create(owner.actor, org.id, { emails: invitee.account.email!, role });
        if (!r?.ok) throw new Error(`invite failed: ${r?.message}`);
        return { org, owner, invitee, invite: r.invite, token: r.token };
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
