import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { start } from '../../src/main.js';
import { accountActor, type Actor } from '../../src/domain/context.js';
import type { Domain } from '../../src/domain/index.js';
import type { MemberView } from '../../src/domain/members.js';
import type { AccountRow, OrgRow, Role } from '../../src/db/schema.js';
import { freshDatabase } from './db.js';
import { TestClock } from './domain.js';

export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const ENTERPRISE_SCHEMA = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
export const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
export const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';
export const LIST_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';

export type Person = { account: AccountRow; actor: Actor };
export type ScimResponse = { status: number; body: any; headers: Headers; text: string };

export type ScimHarness = {
  baseUrl: string;
  domain: Domain;
  clock: TestClock;
  db: Awaited<ReturnType<typeof freshDatabase>>;
  /** A new org (unique name) whose primary owner is a new person, and a SCIM token for it. */
  newOrgWithToken: (name?: string) => Promise<{ org: OrgRow; owner: Person; token: string }>;
  /** One SCIM request over real HTTP; a string body is sent as is, anything else as JSON. */
  scim: (token: string | null, method: string, path: string, body?: unknown, headers?: Record<string, string>) => Promise<ScimResponse>;
  /** A new person (unique email) in no org. */
  person: (name?: string) => Promise<Person>;
  /** A new person who joined the org through a real invite. */
  member: (org: OrgRow, by: Actor, role: Role) => Promise<Person>;
  /** The org's members as Roster shows them, read as the given member (default: the primary owner). */
  members: (org: OrgRow, as?: Actor) => Promise<MemberView[]>;
  /** The member with that email (case-insensitive), or undefined. */
  memberByEmail: (org: OrgRow, email: string) => Promise<MemberView | undefined>;
  count: (table: string, where?: string) => Promise<number>;
  /** Unique suffix for names and emails. */
  tag: () => string;
};

/** A SCIM user body as an IdP sends it. */
export function userBody(userName: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    schemas: [USER_SCHEMA],
    userName,
    name: { givenName: 'Test', familyName: 'User' },
    emails: [{ primary: true, value: userName, type: 'work' }],
    active: true,
    ...extra,
  };
}

export function patchBody(...Operations: Record<string, unknown>[]): Record<string, unknown> {
  return { schemas: [PATCH_SCHEMA], Operations };
}

/** Roster's real server (SCIM at /scim/v2) on 127.0.0.1 with a fresh database and a test clock. */
export function useScimRoster(env: Record<string, string> = {}): () => ScimHarness {
  let h: ScimHarness | undefined;
  let stop: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    const db = await freshDatabase();
    const clock = new TestClock(new Date());
    const config = loadConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'silent',
      PUBLIC_URL: 'https://roster.test',
      APP_SECRET: 's'.repeat(40),
      ...env,
    });
    const roster = await start(config, { database: db, clock, startJobs: false });
    stop = async () => {
      await roster.stop();
      await db.close();
    };
    const domain = roster.domain;
    const baseUrl = `http://127.0.0.1:${roster.port}`;
    const tag = () => randomBytes(4).toString('hex');
    const person = async (name = 'Person') => {
      const email = `${name.toLowerCase().replace(/\W+/g, '.')}.${tag()}@example.com`;
      const account = await domain.accounts.findOrCreateByEmail(email, name);
      return { account, actor: accountActor(account.id, 'api') };
    };
    const members = (org: OrgRow, as?: Actor) => domain.members.list(as ?? accountActor(org.primaryOwnerId, 'api'), org.id);
    h = {
      baseUrl,
      domain,
      clock,
      db,
      tag,
      person,
      members,
      newOrgWithToken: async (name = 'Acme') => {
        const owner = await person(`${name} Owner`);
        const org = await domain.orgs.create(owner.actor, { name: `${name} ${tag()}` });
        const { token } = await domain.scimTokens.create(owner.actor, org.id, 'idp');
        return { org, owner, token };
      },
      scim: async (token, method, path, body, headers = {}) => {
        const res = await fetch(`${baseUrl}/scim/v2${path}`, {
          method,
          headers: {
            ...(token ? { authorization: `Bearer ${token}` } : {}),
            ...(body !== undefined ? { 'content-type': 'application/scim+json' } : {}),
            accept: 'application/scim+json',
            ...headers,
          },
          body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
        });
        const text = await res.text();
        let parsed: unknown;
        try {
          parsed = text ? JSON.parse(text) : undefined;
        } catch {
          parsed = text;
        }
        return { status: res.status, body: parsed, headers: res.headers, text };
      },
      member: async (org, by, role) => {
        const p = await person(`${role} person`);
        const [r] = await domain.invites.create(by, org.id, { emails: p.account.email!, role });
        if (!r?.ok) throw new Error(`invite failed: ${r?.message}`);
        await domain.invites.accept(p.actor, r.invite.id);
        return p;
      },
      memberByEmail: async (org, email) => (await members(org)).find((m) => m.email?.toLowerCase() === email.toLowerCase()),
      count: async (table, where = 'true') => {
        const r = await db.db.execute<{ n: number }>(sql.raw(`select count(*)::int as n from ${table} where ${where}`));
        return r.rows[0]!.n;
      },
    };
  });
  afterAll(async () => {
    await stop?.();
  });
  return () => {
    if (!h) throw new Error('harness not ready');
    return h;
  };
}

/** A filter as a query string value. */
export const q = (filter: string) => encodeURIComponent(filter);
