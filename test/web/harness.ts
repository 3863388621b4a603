import { pino } from 'pino';
import { expect } from 'vitest';
import type { Database } from '../../src/db/client.js';
import type { Role } from '../../src/db/schema.js';
import { accountActor, type Actor } from '../../src/domain/context.js';
import type { Domain } from '../../src/domain/index.js';
import type { OrgSettingsInput } from '../../src/domain/orgs.js';
import type { TestClock } from '../helpers/domain.js';
import { countRows, uniq } from '../helpers/fixtures.js';
import { TEST_PUBLIC_URL, useRoster } from '../helpers/roster.js';

export const PUBLIC_URL = TEST_PUBLIC_URL;

export type Fetched = { status: number; text: string; headers: Headers };

export type InviteHarness = {
  baseUrl: string;
  domain: Domain;
  db: Database;
  clock: TestClock;
  /** Every line Roster logged (at trace level) since it started. */
  logs: string[];
  /** A new org (owner = a new person) and a pending invite to a new email. */
  invite: (opts?: InviteOptions) => Promise<NewInvite>;
  get: (path: string, headers?: Record<string, string>) => Promise<Fetched>;
  /** Posts a form (urlencoded) to the path. */
  post: (path: string, form: Record<string, string>, headers?: Record<string, string>) => Promise<Fetched>;
  count: (table: string, where?: string) => Promise<number>;
};

export type InviteOptions = { role?: Role; orgName?: string; ownerName?: string; billingEmails?: boolean; settings?: OrgSettingsInput };
export type NewInvite = {
  org: { id: string; name: string; slug: string };
  owner: Actor;
  ownerName: string;
  email: string;
  token: string;
  inviteId: string;
  expiresAt: Date | null;
};

/** Roster's real server (main.ts start) on 127.0.0.1 with a fresh database, a TestClock and a captured log. */
export function useInviteRoster(env: Record<string, string> = {}): () => InviteHarness {
  const logs: string[] = [];
  const log = pino({ level: 'trace' }, { write: (line: string) => void logs.push(line) });
  return useRoster({ env: { PUBLIC_URL, ...env }, start: { log, startJobs: false } }, ({ baseUrl, domain, db, clock }) => {
    const request = async (path: string, init: RequestInit): Promise<Fetched> => {
      const res = await fetch(`${baseUrl}${path}`, { redirect: 'manual', ...init });
      const text = await res.text();
      // No page, whatever went in, ever shows a stack trace or an internal error.
      expect(text).not.toMatch(/\n\s+at |node_modules|TypeError|ReferenceError|DomainError|Internal Server Error/);
      return { status: res.status, text, headers: res.headers };
    };
    return {
      baseUrl,
      domain,
      db,
      clock,
      logs,
      invite: async (opts = {}) => {
        const ownerName = opts.ownerName ?? `Olga Owner ${uniq()}`;
        const ownerAccount = await domain.accounts.findOrCreateByEmail(`owner.${uniq()}@example.com`, ownerName);
        const owner = accountActor(ownerAccount.id, 'api');
        const org = await domain.orgs.create(owner, { name: opts.orgName ?? `Acme ${uniq()}` });
        if (opts.settings) await domain.orgs.updateSettings(owner, org.id, opts.settings);
        const email = `invitee.${uniq()}@example.com`;
        const [r] = await domain.invites.create(owner, org.id, { emails: email, role: opts.role ?? 'member', billingEmails: opts.billingEmails ?? false });
        if (!r?.ok) throw new Error(`invite failed: ${r?.message}`);
        return { org, owner, ownerName, email, token: r.token, inviteId: r.invite.id, expiresAt: r.invite.expiresAt };
      },
      get: (path, headers = {}) => request(path, { headers }),
      post: (path, form, headers = {}) =>
        request(path, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
          body: new URLSearchParams(form).toString(),
        }),
      count: (table, where) => countRows(db, table, where),
    };
  });
}

/** The hidden CSRF value of the page's form, as a browser would send it back. */
export function csrfOf(page: string): string {
  const m = /<input type="hidden" name="csrf" value="([^"]+)">/.exec(page);
  if (!m) throw new Error(`no csrf field in page:\n${page}`);
  return m[1]!;
}

/** The page's text without tags, spaces collapsed (entities decoded for the few we emit). */
export function textOf(page: string): string {
  return page
    .replace(/<style>[\s\S]*?<\/style>/g, '')
    .replace(/<\/?(strong|em|span|a|b)\b[^>]*>/g, '')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .trim();
}
