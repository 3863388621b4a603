import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../src/cli/roster.js';
import { freshDatabase } from '../helpers/db.js';
import { useDnsServer } from '../helpers/dns.js';

/** roster domain …: an operator or owner verifies an org's domains from the command line, against a real DNS server on loopback. */

const dns = useDnsServer();
let db: Awaited<ReturnType<typeof freshDatabase>>;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  db = await freshDatabase(2);
  env = { DATABASE_URL: db.url, LOG_LEVEL: 'silent', PUBLIC_URL: 'https://roster.test', APP_SECRET: 'x'.repeat(40), DNS_SERVERS: dns.address };
});

afterAll(async () => {
  await db?.close();
});

async function roster(...argv: string[]) {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const code = await run(argv, { print: (s) => stdout.push(s), error: (s) => stderr.push(s) }, env);
  return { code, stdout: stdout.join('\n'), stderr: stderr.join('\n') };
}

const tag = () => randomBytes(3).toString('hex');

async function newOrg(): Promise<string> {
  const r = await roster('org', 'create', `Acme ${tag()}`, '--owner', `owner.${tag()}@example.com`);
  expect(r.code).toBe(0);
  return r.stdout.split('\n').at(-1)!;
}

describe('roster domain', () => {
  it('add prints the TXT record; verify fails (exit 1) until it is published, then succeeds; list shows the state', async () => {
    const slug = await newOrg();
    const domain = `acme-${tag()}.test`;
    const added = await roster('domain', 'add', slug, domain);
    expect(added.code, added.stderr).toBe(0);
    const value = /Value: (\S+)/.exec(added.stdout)![1]!;
    expect(added.stdout).toContain(`Name:  _roster-challenge.${domain}`);
    const early = await roster('domain', 'verify', slug, domain);
    expect(early.code).toBe(1);
    expect(early.stdout).toMatch(/not verified yet: No TXT record found/);
    dns.setTxt(`_roster-challenge.${domain}`, value);
    const ok = await roster('domain', 'verify', slug, domain);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(new RegExp(`^${domain.replace('.', '\\.')} is verified for Acme \\w+\\.$`));
    const list = await roster('domain', 'list', slug);
    expect(list.stdout).toMatch(new RegExp(`${domain.replace('.', '\\.')}\\s+verified\\s+off\\s+member`));
    // Before connecting an IdP, the owner sees which addresses it may grant access to at once.
    expect((await roster('scim', 'token', 'create', slug, '--name', 'okta')).stdout).toContain(`Verified domains: ${domain} (SCIM gives access at once`);
    const enrolled = await roster('domain', 'enrollment', slug, domain, 'auto-join');
    expect(enrolled.stdout).toMatch(/join .* as member by themselves/);
    const removed = await roster('domain', 'remove', slug, domain);
    expect(removed.code).toBe(0);
    expect((await roster('domain', 'list', slug)).stdout).toMatch(/has no domains/);
  });

  it('a SCIM token made before any domain is verified comes with the warning that everyone will be asked first', async () => {
    const slug = await newOrg();
    const r = await roster('scim', 'token', 'create', slug);
    expect(r.stdout).toMatch(/No verified domains: everyone SCIM adds will be asked to accept first/);
    expect(r.stdout.split('\n').at(-1)).toMatch(/^rst_/);
  });

  it('a free-mail domain is refused with the reason and exit 1', async () => {
    const slug = await newOrg();
    const r = await roster('domain', 'add', slug, 'gmail.com');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/gmail\.com is a free email provider/);
  });

  it('a bad DNS_SERVERS setting is a clear configuration error', async () => {
    const slug = await newOrg();
    const stderr: string[] = [];
    const code = await run(['domain', 'list', slug], { print: () => {}, error: (s) => stderr.push(s) }, { ...env, DNS_SERVERS: 'dns.example.com' });
    expect(code).toBe(1);
    expect(stderr.join('\n')).toMatch(/DNS_SERVERS: give IP addresses with optional ports/);
  });
});
