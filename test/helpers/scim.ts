import { accountActor, type Actor } from '../../src/domain/context.js';
import type { Domain } from '../../src/domain/index.js';
import type { MemberView } from '../../src/domain/members.js';
import type { OrgRow, Role } from '../../src/db/schema.js';
import type { TestClock } from './domain.js';
import { countRows, newMember, newPerson, uniq, verifiedDomainForTest, type Person } from './fixtures.js';
import { useRoster, type TestDatabase } from './roster.js';

export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const ENTERPRISE_SCHEMA = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
export const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
export const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';
export const LIST_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';

export type ScimResponse = { status: number; body: any; headers: Headers; text: string };

export type OrgWithToken = { org: OrgRow; owner: Person; token: string; domain: string; mail: (local: string) => string };

export type ScimHarness = {
  baseUrl: string;
  domain: Domain;
  clock: TestClock;
  db: TestDatabase;
  /**
   * A new org (unique name) whose primary owner is a new person, and a SCIM token for it. The org has
   * verified a domain of its own (`domain`, a unique <tag>.example.com unless `domains` says which; []
   * for none), so its IdP may grant access at once to addresses on it: `mail('alice')` makes one.
   */
  newOrgWithToken: (name?: string, opts?: { domains?: string[] }) => Promise<OrgWithToken>;
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
  return useRoster({ env, start: { startJobs: false } }, ({ baseUrl, domain, clock, db }) => {
    const person = (name = 'Person') => newPerson(domain, name);
    const members = (org: OrgRow, as?: Actor) => domain.members.list(as ?? accountActor(org.primaryOwnerId, 'api'), org.id);
    return {
      baseUrl,
      domain,
      clock,
      db,
      tag: uniq,
      person,
      members,
      newOrgWithToken: async (name = 'Acme', opts = {}) => {
        const owner = await person(`${name} Owner`);
        const org = await domain.orgs.create(owner.actor, { name: `${name} ${uniq()}` });
        const { token } = await domain.scimTokens.create(owner.actor, org.id, 'idp');
        const domains = opts.domains ?? [`${uniq()}.example.com`];
        for (const d of domains) await verifiedDomainForTest(db, org.id, d);
        const emailDomain = domains[0] ?? 'unverified.example.com';
        return { org, owner, token, domain: emailDomain, mail: (local: string) => `${local}.${uniq()}@${emailDomain}` };
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
      member: (org, by, role) => newMember(domain, org, by, role),
      memberByEmail: async (org, email) => (await members(org)).find((m) => m.email?.toLowerCase() === email.toLowerCase()),
      count: (table, where) => countRows(db, table, where),
    };
  });
}

/** A filter as a query string value. */
export const q = (filter: string) => encodeURIComponent(filter);
