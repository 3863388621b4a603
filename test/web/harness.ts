import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { pino } from 'pino';
import { afterAll, beforeAll, expect } from 'vitest';
import { loadConfig } from '../../src/config.js';
import type { Database } from '../../src/db/client.js';
import type { Role } from '../../src/db/schema.js';
import { accountActor, type Actor } from '../../src/domain/context.js';
import type { Domain } from '../../src/domain/index.js';
import type { OrgSettingsInput } from '../../src/domain/orgs.js';
import { start } from '../../src/main.js';
import { freshDatabase } from '../helpers/db.js';
import { TestClock } from '../helpers/domain.js';

export const PUBLIC_URL = 'https://roster.test';

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

const unique = () => randomBytes(4).toString('hex');

/** Roster's real server (main.ts start) on 127.0.0.1 with a fresh database, a TestClock and a captured log. */
export function useInviteRoster(env: Record<string, string> = {}): () => InviteHarness {
  let h: InviteHarness | undefined;
  let stop: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    const db = await freshDatabase();
    const clock = new TestClock(new Date());
    const logs: string[] = [];
    const log = pino({ level: 'trace' }, { write: (line: string) => void logs.push(line) });
    const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', PUBLIC_URL, APP_SECRET: 'w'.repeat(40), ...env });
    const roster = await start(config, { database: db, clock, log, startJobs: false });
    stop = async () => {
      await roster.stop();
      await db.close();
    };
    const baseUrl = `http://127.0.0.1:${roster.port}`;
    const domain = roster.domain;
    const request = async (path: string, init: RequestInit): Promise<Fetched> => {
      const res = await fetch(`${baseUrl}${path}`, { redirect: 'manual', ...init });
      const text = await res.text();
      // No page, whatever went in, ever shows a stack trace or an internal error.
      expect(text).not.toMatch(/\n\s+at |node_modules|TypeError|ReferenceError|DomainError|Internal Server Error/);
      return { status: res.status, text, headers: res.headers };
    };
    h = {
      baseUrl,
      domain,
      db,
      clock,
      logs,
      invite: async (opts = {}) => {
        const ownerName = opts.ownerName ?? `Olga Owner ${unique()}`;
        const ownerAccount = await domain.accounts.findOrCreateByEmail(`owner.${unique()}@example.com`, ownerName);
        const owner = accountActor(ownerAccount.id, 'api');
        const org = await domain.orgs.create(owner, { name: opts.orgName ?? `Acme ${unique()}` });
        if (opts.settings) await domain.orgs.updateSettings(owner, org.id, opts.settings);
        const email = `invitee.${unique()}@example.com`;
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
