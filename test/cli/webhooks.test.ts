import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../src/cli/roster.js';
import { createDomain } from '../../src/domain/index.js';
import { systemActor, systemClock } from '../../src/domain/context.js';
import { freshDatabase } from '../helpers/db.js';
import { newMember } from '../helpers/fixtures.js';
import { runCliProcess, show } from '../helpers/process.js';

/**
 * `roster webhooks …`: an operator manages an org's webhook endpoints from the command line. The happy
 * path runs the real bin/roster.js against a fresh test database; refusals run in-process (same run()).
 */

let db: Awaited<ReturnType<typeof freshDatabase>>;
let env: Record<string, string>;

beforeAll(async () => {
  db = await freshDatabase(2);
  env = { DATABASE_URL: db.url, LOG_LEVEL: 'silent', PUBLIC_URL: 'https://roster.test', APP_SECRET: 'w'.repeat(40) };
});

afterAll(async () => {
  await db?.close();
});

type Result = { code: number; stdout: string; stderr: string; last: string };

async function binary(...argv: string[]): Promise<Result> {
  const r = await runCliProcess(argv, env);
  return { code: r.code ?? -1, stdout: r.stdout, stderr: r.stderr, last: r.stdout.trim().split('\n').at(-1) ?? '' };
}

async function roster(...argv: string[]): Promise<Result> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const code = await run(argv, { print: (s) => stdout.push(s), error: (s) => stderr.push(s) }, env);
  return { code, stdout: stdout.join('\n'), stderr: stderr.join('\n'), last: stdout.join('\n').split('\n').at(-1) ?? '' };
}

const fmt = (r: Result) => show({ code: r.code, stdout: r.stdout, stderr: r.stderr });

async function newOrg(): Promise<{ slug: string; owner: string }> {
  const t = randomBytes(3).toString('hex');
  const owner = `owner.${t}@example.com`;
  const r = await roster('org', 'create', `Hooks ${t}`, '--owner', owner);
  expect(r.code, fmt(r)).toBe(0);
  return { slug: r.last, owner };
}

const endpoints = async (slug: string) =>
  (
    await db.pool.query<{ id: string; url: string; event_types: string[]; enabled: boolean; disabled_reason: string | null }>(
      `select e.id, e.url, e.event_types, e.enabled, e.disabled_reason from webhook_endpoints e join orgs o on o.id = e.org_id where o.slug = $1`,
      [slug],
    )
  ).rows;

describe('roster webhooks (real binary)', () => {
  it('create prints the secret alone on its last line; list, update, disable, enable, rotate, replay, deliveries and delete act on the short id', async () => {
    const { slug } = await newOrg();
    const made = await binary(
      'webhooks',
      'create',
      slug,
      'https://hooks.example.com/roster',
      '--events',
      'member.role_changed,invite.accepted',
      '--description',
      'CRM sync',
    );
    expect(made.code, fmt(made)).toBe(0);
    expect(made.last).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const [row] = await endpoints(slug);
    expect(row).toMatchObject({ url: 'https://hooks.example.com/roster', event_types: ['invite.accepted', 'member.role_changed'], enabled: true });
    const short = row!.id.slice(0, 8);
    expect(made.stdout).toContain(short);

    const list = await binary('webhooks', 'list', slug);
    expect(list.code, fmt(list)).toBe(0);
    expect(list.stdout).toMatch(new RegExp(`${short}\\s+https://hooks\\.example\\.com/roster\\s+invite\\.accepted,member\\.role_changed\\s+enabled\\s+0`));
    expect(list.stdout).not.toContain(made.last);

    const updated = await binary('webhooks', 'update', slug, short, '--events', 'all');
    expect(updated.code, fmt(updated)).toBe(0);
    expect(updated.stdout).toContain('every event');
    expect((await endpoints(slug))[0]!.event_types).toEqual([]);

    const off = await binary('webhooks', 'disable', slug, 'https://hooks.example.com/roster');
    expect(off.code, fmt(off)).toBe(0);
    expect((await endpoints(slug))[0]).toMatchObject({ enabled: false, disabled_reason: 'disabled by hand' });
    expect((await binary('webhooks', 'list', slug)).stdout).toMatch(/disabled: disabled by hand/);
    const on = await binary('webhooks', 'enable', slug, short);
    expect(on.code, fmt(on)).toBe(0);
    expect((await endpoints(slug))[0]!.enabled).toBe(true);

    const rotated = await binary('webhooks', 'rotate', slug, short);
    expect(rotated.code, fmt(rotated)).toBe(0);
    expect(rotated.last).toMatch(/^whsec_/);
    expect(rotated.last).not.toBe(made.last);
    expect(rotated.stdout).toMatch(/old one also signs until \d{4}-\d\d-\d\d/);

    // The changes above are the org's events too (every type now): they are queued for this endpoint.
    const deliveries = await binary('webhooks', 'deliveries', slug, short);
    expect(deliveries.code, fmt(deliveries)).toBe(0);
    expect(deliveries.stdout).toMatch(/SEQ\s+WEBHOOK-ID\s+STATUS/);
    expect(deliveries.stdout).toMatch(/msg_[0-9a-f]{32}\s+pending/);

    const replay = await binary('webhooks', 'replay', slug, short, '--since', '1h');
    expect(replay.code, fmt(replay)).toBe(0);
    expect(replay.stdout).toMatch(/Queued \d+ deliver(y|ies) to webhook/);

    const gone = await binary('webhooks', 'delete', slug, short);
    expect(gone.code, fmt(gone)).toBe(0);
    expect(await endpoints(slug)).toEqual([]);
    const empty = await binary('webhooks', 'list', slug);
    expect(empty.stdout).toContain('has no webhook endpoints');

    const audit = await db.pool.query<{ action: string; via: string }>(
      `select a.action, a.via from audit_events a join orgs o on o.id = a.org_id where o.slug = $1 and a.action like 'webhook.%' order by a.id`,
      [slug],
    );
    expect(audit.rows.map((r) => r.action)).toEqual([
      'webhook.created',
      'webhook.updated',
      'webhook.updated',
      'webhook.enabled',
      'webhook.secret_rotated',
      'webhook.replayed',
      'webhook.deleted',
    ]);
    expect(new Set(audit.rows.map((r) => r.via))).toEqual(new Set(['cli']));
  }, 90_000);
});

describe('roster webhooks refusals (nothing changes)', () => {
  it('a URL that is not http(s) and an unknown event type are refused with the reason, exit 1', async () => {
    const { slug } = await newOrg();
    const ftp = await roster('webhooks', 'create', slug, 'ftp://files.example.com/x');
    expect(ftp.code, fmt(ftp)).toBe(1);
    expect(ftp.stderr).toMatch(/must be an http:\/\/ or https:\/\/ address/);
    const typo = await roster('webhooks', 'create', slug, 'https://ok.example.com/x', '--events', 'member.rolechanged');
    expect(typo.code, fmt(typo)).toBe(1);
    expect(typo.stderr).toMatch(/Unknown event type: member\.rolechanged/);
    expect(await endpoints(slug)).toEqual([]);
  });

  it('an endpoint nobody has, a missing URL and a bad --since get clear messages', async () => {
    const { slug } = await newOrg();
    const nobody = await roster('webhooks', 'delete', slug, 'abcd1234');
    expect(nobody.code, fmt(nobody)).toBe(1);
    expect(nobody.stderr).toMatch(/No webhook endpoint with that id/);
    const noUrl = await roster('webhooks', 'create', slug);
    expect(noUrl.code).toBe(2);
    expect(noUrl.stderr).toMatch(/Give its URL/);
    await roster('webhooks', 'create', slug, 'https://ok.example.com/x');
    const badSince = await roster('webhooks', 'replay', slug, 'https://ok.example.com/x', '--since', 'yesterday');
    expect(badSince.code, fmt(badSince)).toBe(2);
    expect(badSince.stderr).toMatch(/--since is an age such as 24h or 7d/);
    const noSince = await roster('webhooks', 'replay', slug, 'https://ok.example.com/x');
    expect(noSince.code).toBe(2);
    const unknownVerb = await roster('webhooks', 'purge', slug);
    expect(unknownVerb.code).toBe(2);
    expect(unknownVerb.stderr).toMatch(/roster webhooks list\|create/);
  });

  it('--as an admin (not an owner) cannot add a webhook: the rights are the domain’s', async () => {
    const { slug } = await newOrg();
    // A real admin of the org (invited and accepted through the domain, as the web page does).
    const domain = createDomain({ db: db.db, clock: systemClock, settings: { membershipMode: 'multi', inviteTokenKey: Buffer.alloc(32, 7) } });
    const org = await domain.orgs.resolve(slug);
    const admin = (await newMember(domain, org, systemActor('cli'), 'admin')).account.email!;
    const r = await roster('webhooks', 'create', slug, 'https://ok.example.com/x', '--as', admin);
    expect(r.code, fmt(r)).toBe(1);
    expect(r.stderr).toMatch(/owner/i);
    expect(await endpoints(slug)).toEqual([]);
  });
});
