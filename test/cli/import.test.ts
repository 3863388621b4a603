import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OrgRow } from '../../src/db/schema.js';
import { accountActor, systemClock, type Actor } from '../../src/domain/context.js';
import { createDomain, type Domain } from '../../src/domain/index.js';
import { deriveKey } from '../../src/secrets.js';
import { freshDatabase } from '../helpers/db.js';
import { newMember } from '../helpers/fixtures.js';
import { runCliHere, runCliProcess, show } from '../helpers/process.js';

/**
 * `roster import` (issue 16 §4), run as the real bin/roster.js: a CSV file of people becomes invites
 * through the domain, row by row with the rules of every invite; a dry run tells each row's verdict
 * and changes nothing; a re-run skips what is done; the failed rows land in <file>.failed.csv.
 */

const APP_SECRET = 'i'.repeat(40);
let db: Awaited<ReturnType<typeof freshDatabase>>;
let env: Record<string, string>;
let domain: Domain;
let dir: string;

beforeAll(async () => {
  db = await freshDatabase(2);
  env = { DATABASE_URL: db.url, LOG_LEVEL: 'silent', PUBLIC_URL: 'https://roster.test', APP_SECRET };
  // The CLI's own invite key, so that links it makes can be opened here.
  domain = createDomain({ db: db.db, clock: systemClock, settings: { membershipMode: 'multi', inviteTokenKey: deriveKey(APP_SECRET, 'invite-token') } });
  dir = await mkdtemp(path.join(os.tmpdir(), 'roster-import-'));
});

afterAll(async () => {
  await db?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

type Result = { code: number; stdout: string; stderr: string };

async function roster(...argv: string[]): Promise<Result> {
  const r = await runCliProcess(argv, env);
  return { code: r.code ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const rosterHere = (...argv: string[]): Promise<Result> => runCliHere(argv, env);

const fmt = (r: Result) => show({ code: r.code, stdout: r.stdout, stderr: r.stderr });
const tag = () => randomBytes(3).toString('hex');

async function newOrg(): Promise<{ org: OrgRow; owner: Actor }> {
  const account = await domain.accounts.findOrCreateByEmail(`owner.${tag()}@example.com`, 'Olga Import');
  const owner = accountActor(account.id, 'cli');
  const org = await domain.orgs.create(owner, { name: `Import ${tag()}` });
  return { org, owner };
}

async function csvFile(name: string, content: string | Buffer): Promise<string> {
  const file = path.join(dir, `${tag()}-${name}`);
  await writeFile(file, content);
  return file;
}

const count = async (sql: string, params: unknown[]) => Number((await db.pool.query(sql, params)).rows[0].n);
const invitesOf = (orgId: string) => count(`select count(*)::int as n from invites where org_id = $1`, [orgId]);
const eventsOf = (orgId: string) => count(`select count(*)::int as n from audit_events where org_id = $1`, [orgId]);
const noticesOf = (orgId: string) => count(`select count(*)::int as n from notifications where org_id = $1`, [orgId]);

describe('roster import --dry-run', () => {
  it('gives every row its verdict (new, member, invited, invalid, above the rights, seats, duplicate) and changes nothing', async () => {
    const { org, owner } = await newOrg();
    const admin = await newMember(domain, org, owner, 'admin');
    const dev = await newMember(domain, org, owner, 'developer');
    const t = tag();
    const invited = `invited.${t}@example.com`;
    await domain.invites.create(owner, org.id, { emails: invited });
    // In use: owner, admin, developer and one pending invite: 4 of 6 seats, so 2 rows may still be invited.
    await domain.orgs.updateSettings(owner, org.id, { seatLimit: 6 });
    const file = await csvFile(
      'people.csv',
      [
        'email,role,billing_emails',
        `ada.${t}@example.com,developer,yes`,
        `${dev.account.email!.toUpperCase()},,`,
        `${invited},member,`,
        'not-an-email,,',
        `boss.${t}@example.com,owner,`,
        `ADA.${t}@example.com,,`,
        `wiz.${t}@example.com,wizard,`,
        `bill.${t}@example.com,,maybe`,
        `grace.${t}@example.com,,no`,
        `late.${t}@example.com,,`,
      ].join('\n'),
    );
    const before = { invites: await invitesOf(org.id), events: await eventsOf(org.id), notices: await noticesOf(org.id) };

    const r = await roster('import', org.slug, file, '--dry-run', '--as', admin.account.email!);
    expect(r.code, fmt(r)).toBe(1);
    const lines = r.stdout.split('\n');
    const row = (n: number) => lines.find((l) => l.startsWith(`row ${n} `)) ?? `(no line for row ${n})`;
    expect(row(2)).toBe(`row 2  ada.${t}@example.com  new invite as Developer, with billing emails`);
    expect(row(3)).toMatch(/already a member$/);
    expect(row(4)).toMatch(/already invited$/);
    expect(row(5)).toMatch(/^row 5 {2}not-an-email {2}invalid email: /);
    expect(row(6)).toMatch(/role above the importer's rights: Only owners can make someone an owner/);
    expect(row(7)).toMatch(/duplicate row: Row 2 has the same email/);
    expect(row(8)).toMatch(/unknown role: "wizard" is not a role/);
    expect(row(9)).toMatch(/invalid billing_emails: "maybe" is not yes or no/);
    expect(row(10)).toBe(`row 10  grace.${t}@example.com  new invite as Member`);
    // Rows 2 and 10 took the last two seats: the rows the file planned before count.
    expect(row(11)).toMatch(/over the seat limit: .* has used all 6 seats/);
    expect(r.stdout).toMatch(/Dry run: 10 rows checked, nothing was changed/);
    expect(r.stdout).toMatch(/new invite: +2/);
    expect(r.stdout).toMatch(/already a member: +1/);
    expect(r.stdout).toMatch(/over the seat limit: +1/);

    expect({ invites: await invitesOf(org.id), events: await eventsOf(org.id), notices: await noticesOf(org.id) }).toEqual(before);
    await expect(stat(`${file}.failed.csv`)).rejects.toThrow();
  });

  it('counts the seats planned by earlier chunks of the file (more rows than one transaction takes)', async () => {
    const { org, owner } = await newOrg();
    // The owner holds one seat; 55 more are free, and the file has 60 new people (chunks of 50).
    await domain.orgs.updateSettings(owner, org.id, { seatLimit: 56 });
    const t = tag();
    const file = await csvFile('many.csv', ['email', ...Array.from({ length: 60 }, (_, i) => `p${i}.${t}@example.com`)].join('\n'));
    const r = await roster('import', org.slug, file, '--dry-run');
    expect(r.code, fmt(r)).toBe(1);
    expect(r.stdout).toMatch(/new invite: +55/);
    expect(r.stdout).toMatch(/over the seat limit: +5/);
    // Row 56 is the 55th person (the header is row 1); the chunk of rows 52–61 still saw rows 2–51 planned.
    expect(r.stdout.split('\n').find((l) => l.startsWith('row 56 '))).toMatch(/new invite/);
    expect(r.stdout.split('\n').find((l) => l.startsWith('row 57 '))).toMatch(/over the seat limit/);
    expect(await invitesOf(org.id)).toBe(0);
  });
});

describe('roster import', () => {
  it("invites each new row with the row's role, billing flag and name, audited via cli; the failed rows go to <file>.failed.csv (exit 1)", async () => {
    const { org } = await newOrg();
    const t = tag();
    const file = await csvFile(
      'team.csv',
      [
        'Name, Email ,Role,Billing_Emails,Team',
        `Ada Lovelace,ada.${t}@example.com,admin,yes,core`,
        `,bob.${t}@example.com,,,ops`,
        `Nobody,not an email,,,x`,
        `"Wiz, the",wiz.${t}@example.com,wizard,no,y`,
      ].join('\n'),
    );
    const r = await roster('import', org.slug, file, '--role', 'developer');
    expect(r.code, fmt(r)).toBe(1);
    expect(r.stdout).toMatch(/4 rows imported: 2 invited, 2 failed/);
    expect(r.stderr).toContain('row 4  not an email  invalid email: That is not a valid email address.');
    expect(r.stderr).toMatch(/row 5 {2}wiz\..*unknown role/);
    expect(r.stderr).not.toMatch(/\n\s+at /);

    const rows = (await db.pool.query(`select email, role, billing_emails, invitee_name from invites where org_id = $1 order by email`, [org.id])).rows;
    expect(rows).toEqual([
      { email: `ada.${t}@example.com`, role: 'admin', billing_emails: true, invitee_name: 'Ada Lovelace' },
      { email: `bob.${t}@example.com`, role: 'developer', billing_emails: false, invitee_name: null },
    ]);
    const events = (await db.pool.query(`select actor_label, via from audit_events where org_id = $1 and action = 'invite.created'`, [org.id])).rows;
    expect(events).toEqual([
      { actor_label: 'Operator (roster CLI)', via: 'cli' },
      { actor_label: 'Operator (roster CLI)', via: 'cli' },
    ]);
    expect(await count(`select count(*)::int as n from notifications where org_id = $1 and kind = 'invite.sent'`, [org.id])).toBeGreaterThanOrEqual(2);

    const failedPath = `${file}.failed.csv`;
    expect(r.stdout).toContain(failedPath);
    const failedText = await readFile(failedPath, 'utf8');
    // A byte order mark first, so that spreadsheets read it as UTF-8.
    expect(failedText.startsWith('\ufeff')).toBe(true);
    const failed = parse(failedText, { bom: true }) as string[][];
    expect(failed[0]).toEqual(['Name', 'Email', 'Role', 'Billing_Emails', 'Team', 'error']);
    expect(failed.slice(1)).toEqual([
      ['Nobody', 'not an email', '', '', 'x', 'That is not a valid email address.'],
      ['Wiz, the', `wiz.${t}@example.com`, 'wizard', 'no', 'y', expect.stringMatching(/"wizard" is not a role/)],
    ]);

    // The invitee named in the file is the account the link creates.
    const [ada] = (await domain.invites.listPending(accountActor(org.primaryOwnerId, 'cli'), org.id)).filter((i) => i.email.startsWith('ada.'));
    const accepted = await domain.invites.acceptByToken(domain.invites.tokenOf(ada!));
    expect((await domain.accounts.findByEmail(`ada.${t}@example.com`))?.displayName).toBe('Ada Lovelace');
    expect(accepted.membership.role).toBe('admin');
  });

  it('can be run again: rows already done read as already invited or a member, nothing new is written, exit 0', async () => {
    const { org, owner } = await newOrg();
    const t = tag();
    const member = await newMember(domain, org, owner, 'member');
    const file = await csvFile('again.csv', ['email', `one.${t}@example.com`, `two.${t}@example.com`, member.account.email!].join('\n'));
    // An earlier run's failed rows, now stale.
    await writeFile(`${file}.failed.csv`, 'email,error\nold,old\n');
    const first = await roster('import', org.slug, file);
    expect(first.code, fmt(first)).toBe(0);
    expect(first.stdout).toMatch(/3 rows imported: 2 invited, 0 failed/);
    await expect(stat(`${file}.failed.csv`)).rejects.toThrow();
    const invites = await invitesOf(org.id);
    const events = await eventsOf(org.id);

    const again = await roster('import', org.slug, file);
    expect(again.code, fmt(again)).toBe(0);
    expect(again.stdout).toMatch(/3 rows imported: 0 invited, 0 failed/);
    expect(again.stdout).toMatch(/already invited: +2/);
    expect(again.stdout).toMatch(/already a member: +1/);
    expect(await invitesOf(org.id)).toBe(invites);
    expect(await eventsOf(org.id)).toBe(events);
  });

  it('a row refused after a write of its own (an expired invite replaced, then no seat) undoes only itself; the rows beside it stay', async () => {
    const { org, owner } = await newOrg();
    const t = tag();
    const expired = `expired.${t}@example.com`;
    const [made] = await domain.invites.create(owner, org.id, { emails: expired });
    await db.pool.query(`update invites set expires_at = now() - interval '1 day' where id = $1`, [made!.ok ? made!.invite.id : '']);
    // The owner holds one seat (an expired invite holds none): one more may be invited.
    await domain.orgs.updateSettings(owner, org.id, { seatLimit: 2 });
    const file = await csvFile('seats.csv', ['email', `fresh.${t}@example.com`, expired].join('\n'));

    const dry = await roster('import', org.slug, file, '--dry-run');
    expect(dry.stdout, fmt(dry)).toMatch(/row 3 {2}expired\..* over the seat limit/);

    const r = await roster('import', org.slug, file);
    expect(r.code, fmt(r)).toBe(1);
    expect(r.stderr).toMatch(/row 3 {2}expired\..* over the seat limit/);
    const rows = (await db.pool.query(`select email, status from invites where org_id = $1 order by email`, [org.id])).rows;
    // Replacing the expired invite was undone with its row: it is still the one pending invite for that email.
    expect(rows).toEqual([
      { email: expired, status: 'pending' },
      { email: `fresh.${t}@example.com`, status: 'pending' },
    ]);
    expect(await count(`select count(*)::int as n from audit_events where org_id = $1 and action = 'invite.expired'`, [org.id])).toBe(0);
  });

  it('a person whose earlier row failed is not a duplicate; a file with duplicates can be run again (exit 0)', async () => {
    const { org } = await newOrg();
    const t = tag();
    const file = await csvFile(
      'dups.csv',
      ['email,role', `fix.${t}@example.com,wizard`, `fix.${t}@example.com,member`, `twice.${t}@example.com,`, `TWICE.${t}@example.com,`].join('\n'),
    );
    const first = await roster('import', org.slug, file);
    expect(first.code, fmt(first)).toBe(1);
    expect(first.stdout).toMatch(/4 rows imported: 2 invited, 1 failed/);
    expect(first.stdout).toMatch(/duplicate row: +1/);
    const rows = (await db.pool.query(`select email, role from invites where org_id = $1 order by email`, [org.id])).rows;
    expect(rows).toEqual([
      { email: `fix.${t}@example.com`, role: 'member' },
      { email: `twice.${t}@example.com`, role: 'member' },
    ]);
    // Fixed: the bad row removed, the duplicate left in. Done rows and duplicates are no failures.
    await writeFile(file, ['email,role', `fix.${t}@example.com,member`, `twice.${t}@example.com,`, `TWICE.${t}@example.com,`].join('\n'));
    const again = await roster('import', org.slug, file, '--dry-run');
    expect(again.code, fmt(again)).toBe(0);
    expect(again.stdout).toMatch(/row 4 {2}twice\..* duplicate row: Row 3 has the same email/i);
  });

  it("a --role above the importer's rights is refused once, before any row (exit 1)", async () => {
    const { org, owner } = await newOrg();
    const admin = await newMember(domain, org, owner, 'admin');
    const file = await csvFile('owners.csv', ['email', ...Array.from({ length: 5 }, (_, i) => `o${i}.${tag()}@example.com`)].join('\n'));
    const r = await rosterHere('import', org.slug, file, '--role', 'owner', '--as', admin.account.email!);
    expect(r.code, fmt(r)).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/Only owners can make someone an owner/);
    const unknown = await rosterHere('import', org.slug, file, '--role', 'wizard');
    expect(unknown.code, fmt(unknown)).toBe(1);
    expect(unknown.stderr).toMatch(/"wizard" is not a role/);
    expect(await count(`select count(*)::int as n from invites where org_id = $1 and status = 'pending'`, [org.id])).toBe(0);
    await expect(stat(`${file}.failed.csv`)).rejects.toThrow();
  });

  it('reads UTF-8 with a byte order mark and CRLF line ends', async () => {
    const { org } = await newOrg();
    const t = tag();
    const file = await csvFile('excel.csv', Buffer.from(`\ufeffEmail,Role\r\ncrlf.${t}@example.com,billing\r\n\r\n`, 'utf8'));
    const r = await roster('import', org.slug, file);
    expect(r.code, fmt(r)).toBe(0);
    const rows = (await db.pool.query(`select email, role from invites where org_id = $1`, [org.id])).rows;
    expect(rows).toEqual([{ email: `crlf.${t}@example.com`, role: 'billing' }]);
  });

  it('a file without an email column is wrong usage (exit 2), naming the columns it found', async () => {
    const { org } = await newOrg();
    const file = await csvFile('no-email.csv', 'name,mail,role\nAda,ada@example.com,member\n');
    const r = await rosterHere('import', org.slug, file);
    expect(r.code, fmt(r)).toBe(2);
    expect(r.stderr).toMatch(/has no email column.*found name, mail, role/);
    expect(await invitesOf(org.id)).toBe(0);
  });

  it('a file that is not valid CSV (a quote never closed) gets a clear message with the line, no stack trace', async () => {
    const { org } = await newOrg();
    const t = tag();
    const file = await csvFile('broken.csv', `email,name\nok.${t}@example.com,Ok\nbad.${t}@example.com,"Unclosed\nthird@example.com,x\n`);
    const r = await rosterHere('import', org.slug, file);
    expect(r.code, fmt(r)).toBe(2);
    expect(r.stderr).toMatch(/is not valid CSV: Quote Not Closed.*line \d/);
    expect(r.stderr).not.toMatch(/\n\s+at |CsvError/);
    // The row before the broken part was imported; the summary says so.
    expect(r.stdout).toMatch(/1 row imported: 1 invited/);
  });

  it('wrong usage: no file, a file that does not exist, an empty file (exit 2)', async () => {
    const { org } = await newOrg();
    const none = await rosterHere('import', org.slug);
    expect(none.code, fmt(none)).toBe(2);
    const missing = await rosterHere('import', org.slug, path.join(dir, 'nope.csv'));
    expect(missing.code, fmt(missing)).toBe(2);
    expect(missing.stderr).toMatch(/Cannot read .*nope\.csv: there is no such file/);
    const empty = await rosterHere('import', org.slug, await csvFile('empty.csv', '\ufeff\r\n'));
    expect(empty.code, fmt(empty)).toBe(2);
    expect(empty.stderr).toMatch(/is empty: its first row must name the columns/);
  });

  it('a member who may not invite is refused once, before any row is imported (exit 1)', async () => {
    const { org, owner } = await newOrg();
    const dev = await newMember(domain, org, owner, 'developer');
    const file = await csvFile('dev.csv', `email\nsomeone.${tag()}@example.com\n`);
    const r = await rosterHere('import', org.slug, file, '--as', dev.account.email!);
    expect(r.code, fmt(r)).toBe(1);
    expect(r.stderr).toMatch(/permission to invite/i);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(await count(`select count(*)::int as n from invites where org_id = $1 and status = 'pending'`, [org.id])).toBe(0);
  });

  it('imports a file of 1,200 rows completely (24 chunks), with a progress line per 1,000 rows', async () => {
    const { org } = await newOrg();
    const t = tag();
    const file = await csvFile('big.csv', ['email,role', ...Array.from({ length: 1200 }, (_, i) => `big${i}.${t}@example.com,member`)].join('\n'));
    const r = await runCliProcess(['import', org.slug, file], env, 60_000);
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout).toMatch(/1,200 rows imported: 1,200 invited, 0 failed/);
    expect(r.stderr).toMatch(/… 1,000 rows \(\d+% of the file\)/);
    expect(await invitesOf(org.id)).toBe(1200);
  }, 60_000);
});
