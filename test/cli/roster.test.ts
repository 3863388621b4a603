import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../src/cli/roster.js';
import { freshDatabase } from '../helpers/db.js';
import { livePostmaster, removeDataDir, RosterServer, runCliProcess, show, tempDataDir } from '../helpers/process.js';

/**
 * The operator's CLI. Most tests call run() in-process against a fresh test database (fast); one test
 * runs the real `bin/roster.js` on the embedded PostgreSQL, with and without a server running.
 */

let db: Awaited<ReturnType<typeof freshDatabase>>;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  db = await freshDatabase(2);
  env = { DATABASE_URL: db.url, LOG_LEVEL: 'silent', PUBLIC_URL: 'https://roster.test', APP_SECRET: 'x'.repeat(40) };
});

afterAll(async () => {
  await db?.close();
});

type Result = { code: number; stdout: string; stderr: string; lines: string[] };

async function roster(...argv: string[]): Promise<Result> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const code = await run(argv, { print: (s) => stdout.push(s), error: (s) => stderr.push(s) }, env);
  const out = stdout.join('\n');
  return { code, stdout: out, stderr: stderr.join('\n'), lines: out.split('\n') };
}

const fmt = (r: Result) => `exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;

const tag = () => randomBytes(3).toString('hex');

async function count(table: string, where: string, params: unknown[] = []): Promise<number> {
  const r = await db.pool.query<{ n: number }>(`select count(*)::int as n from ${table} where ${where}`, params);
  return r.rows[0]!.n;
}

/** A new org created through the CLI; returns its slug and owner email. */
async function newOrg(name = 'Acme'): Promise<{ slug: string; owner: string; name: string }> {
  const t = tag();
  const owner = `owner.${t}@example.com`;
  const fullName = `${name} ${t}`;
  const r = await roster('org', 'create', fullName, '--owner', owner);
  expect(r.code, fmt(r)).toBe(0);
  return { slug: r.lines.at(-1)!, owner, name: fullName };
}

describe('roster org', () => {
  it('org create prints the slug on its last line and makes the owner the primary owner', async () => {
    const t = tag();
    const r = await roster('org', 'create', 'Globex', 'Corp', t, '--owner', `Hank.${t}@Example.com`, '--owner-name', 'Hank Scorpio');
    expect(r.code, fmt(r)).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.lines.at(-1)).toBe(`globex-corp-${t}`);
    expect(r.stdout).toContain(`Created Globex Corp ${t}`);

    const org = await db.pool.query<{ name: string; primary_email: string }>(
      `select o.name, a.email as primary_email from orgs o join accounts a on a.id = o.primary_owner_id where o.slug = $1`,
      [`globex-corp-${t}`],
    );
    expect(org.rows).toHaveLength(1);
    expect(org.rows[0]!.primary_email.toLowerCase()).toBe(`hank.${t}@example.com`);
    const owners = await count('memberships m join orgs o on o.id = m.org_id', `o.slug = $1 and m.role = 'owner'`, [`globex-corp-${t}`]);
    expect(owners).toBe(1);
  });

  it('org create with --slug uses that URL name, and a taken slug is refused with exit 1 and no second org', async () => {
    const t = tag();
    const ok = await roster('org', 'create', 'Initech', '--owner', `peter.${t}@example.com`, '--slug', `initech-${t}`);
    expect(ok.code, fmt(ok)).toBe(0);
    expect(ok.lines.at(-1)).toBe(`initech-${t}`);

    const taken = await roster('org', 'create', 'Initech Two', '--owner', `bill.${t}@example.com`, '--slug', `initech-${t}`);
    expect(taken.code, fmt(taken)).toBe(1);
    expect(taken.stderr).toMatch(/already taken/);
    expect(await count('orgs', `name = 'Initech Two'`)).toBe(0);
  });

  it('org create without --owner is a usage error (exit 2) and creates nothing', async () => {
    const name = `Ownerless ${tag()}`;
    const r = await roster('org', 'create', name);
    expect(r.code, fmt(r)).toBe(2);
    expect(r.stderr).toMatch(/--owner <email>/);
    expect(r.stdout).toBe('');
    expect(await count('orgs', 'name = $1', [name])).toBe(0);
  });

  it('org list shows every org as a table with its slug, name and member count', async () => {
    const a = await newOrg('Listed');
    const b = await newOrg('Also Listed');
    const r = await roster('org', 'list');
    expect(r.code, fmt(r)).toBe(0);
    expect(r.lines[0]).toMatch(/^SLUG\s+NAME\s+MEMBERS\s+CREATED$/);
    expect(r.lines[1]).toMatch(/^-+( +-+){3}$/);
    for (const o of [a, b]) {
      const row = r.lines.find((l) => l.startsWith(`${o.slug} `));
      expect(row, r.stdout).toMatch(new RegExp(`^${o.slug}\\s+${o.name}\\s+1\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d UTC$`));
    }
  });
});

describe('roster members', () => {
  it('members shows the creator as Owner (primary), active, receiving billing emails', async () => {
    const o = await newOrg('Members');
    const r = await roster('members', o.slug);
    expect(r.code, fmt(r)).toBe(0);
    expect(r.lines[0]).toBe(`${o.name} (${o.slug}): 1 member`);
    expect(r.lines[1]).toMatch(/^NAME\s+EMAIL\s+ROLE\s+STATUS\s+BILLING EMAILS\s+JOINED\s+VIA$/);
    const row = r.lines.find((l) => l.includes(o.owner));
    expect(row, r.stdout).toMatch(/Owner \(primary\)\s+active\s+yes\s+/);
    expect(row).toMatch(/creator$/);
  });

  it('an org can also be named by its id', async () => {
    const o = await newOrg('By Id');
    const id = (await db.pool.query<{ id: string }>('select id from orgs where slug = $1', [o.slug])).rows[0]!.id;
    const r = await roster('members', id);
    expect(r.code, fmt(r)).toBe(0);
    expect(r.stdout).toContain(o.owner);
  });

  it('an unknown org is refused with a clear message and exit 1', async () => {
    const r = await roster('members', `no-such-org-${tag()}`);
    expect(r.code, fmt(r)).toBe(1);
    expect(r.stderr).toMatch(/No organization has the URL name "no-such-org-/);
    expect(r.stdout).toBe('');
  });

  it('--as someone who is not a member of the org is refused with not_a_member', async () => {
    const o = await newOrg('Private');
    const outsider = await newOrg('Elsewhere'); // a known account, owner of another org only
    const r = await roster('members', o.slug, '--as', outsider.owner);
    expect(r.code, fmt(r)).toBe(1);
    expect(r.stderr).toBe("You're not a member of that organization.");
    expect(r.stdout).not.toContain(o.owner);
  });

  it('--as an email Roster does not know is refused, naming the email', async () => {
    const o = await newOrg('Unknown As');
    const r = await roster('members', o.slug, '--as', `ghost.${tag()}@example.com`);
    expect(r.code, fmt(r)).not.toBe(0);
    expect(r.stderr).toMatch(/Nobody with the email ghost\..*@example\.com is known/);
  });
});

describe('roster invite and invites', () => {
  it('invites several emails with --role admin, printing a link per email', async () => {
    const o = await newOrg('Inviting');
    const t = tag();
    const emails = [`ann.${t}@example.com`, `bob.${t}@example.com`, `cy.${t}@example.com`];
    const r = await roster('invite', o.slug, ...emails, '--role', 'admin');
    expect(r.code, fmt(r)).toBe(0);
    expect(r.stderr).toBe('');
    const links = r.stdout.match(/https:\/\/roster\.test\/invites\/[A-Za-z0-9_-]+/g) ?? [];
    expect(links, r.stdout).toHaveLength(3);
    expect(new Set(links).size).toBe(3);
    for (const email of emails) expect(r.stdout).toContain(`✓ ${email}: invited as Admin, expires `);
    // Each link sits right under its ✓ line.
    for (const line of r.lines.filter((l) => l.startsWith('✓'))) {
      expect(r.lines[r.lines.indexOf(line) + 1]).toMatch(/^ {2}https:\/\/roster\.test\/invites\/[A-Za-z0-9_-]{20,}$/);
    }
    expect(await count('invites i join orgs o on o.id = i.org_id', `o.slug = $1 and i.role = 'admin'`, [o.slug])).toBe(3);
  });

  it('an invalid email gets a ✗ line and exit 1, while the valid ones are still invited', async () => {
    const o = await newOrg('Partly');
    const good = `good.${tag()}@example.com`;
    const r = await roster('invite', o.slug, good, 'not-an-email', '--role', 'member');
    expect(r.code, fmt(r)).toBe(1);
    expect(r.stderr).toMatch(/^✗ not-an-email: .*valid email/m);
    expect(r.stdout).toContain(`✓ ${good}`);
    expect(r.stdout).toMatch(/https:\/\/roster\.test\/invites\//);
    expect(await count('invites i join orgs o on o.id = i.org_id', 'o.slug = $1', [o.slug])).toBe(1);
  });

  it('inviting an email that already has a pending invite is refused per email with exit 1', async () => {
    const o = await newOrg('Twice');
    const email = `twice.${tag()}@example.com`;
    expect((await roster('invite', o.slug, email)).code).toBe(0);
    const again = await roster('invite', o.slug, email);
    expect(again.code, fmt(again)).toBe(1);
    expect(again.stderr).toMatch(new RegExp(`^✗ ${email.replace(/\./g, '\\.')}: .*pending`, 'm'));
    expect(again.stdout).not.toMatch(/invites\//);
    expect(await count('invites i join orgs o on o.id = i.org_id', 'o.slug = $1', [o.slug])).toBe(1);
  });

  it('invites lists the pending invites with role, state and inviter', async () => {
    const o = await newOrg('Pending');
    const t = tag();
    expect((await roster('invite', o.slug, `dev.${t}@example.com`, '--role', 'developer')).code).toBe(0);
    expect((await roster('invite', o.slug, `bill.${t}@example.com`, '--role', 'billing', '--billing-emails')).code).toBe(0);
    const r = await roster('invites', o.slug);
    expect(r.code, fmt(r)).toBe(0);
    expect(r.lines[0]).toMatch(/^EMAIL\s+ROLE\s+STATE\s+EXPIRES\s+INVITED BY\s+ID$/);
    expect(r.lines.find((l) => l.startsWith(`dev.${t}@example.com `))).toMatch(/\sDeveloper\s+pending\s/);
    expect(r.lines.find((l) => l.startsWith(`bill.${t}@example.com `))).toMatch(/\sBilling\s+pending\s/);
    expect(r.lines).toHaveLength(4);
  });

  it('invites says so when there is none', async () => {
    const o = await newOrg('Quiet');
    const r = await roster('invites', o.slug);
    expect(r.code, fmt(r)).toBe(0);
    expect(r.stdout).toBe(`${o.name} has no pending invites.`);
  });

  it('--as a member without invite rights cannot invite, and no invite is created', async () => {
    const o = await newOrg('Guarded');
    const outsider = await newOrg('Other');
    const r = await roster('invite', o.slug, `x.${tag()}@example.com`, '--as', outsider.owner);
    expect(r.code, fmt(r)).toBe(1);
    expect(r.stderr).toMatch(/not a member/);
    expect(await count('invites i join orgs o on o.id = i.org_id', 'o.slug = $1', [o.slug])).toBe(0);
  });
});

describe('roster audit', () => {
  async function orgWithHistory() {
    const o = await newOrg('Audited');
    const email = `audited.${tag()}@example.com`;
    expect((await roster('invite', o.slug, email, '--role', 'admin')).code).toBe(0);
    return { ...o, email };
  }

  it('audit shows the org creation, the owner joining and the invite, newest first', async () => {
    const o = await orgWithHistory();
    const r = await roster('audit', o.slug);
    expect(r.code, fmt(r)).toBe(0);
    expect(r.lines[0]).toMatch(/^WHEN\s+ACTOR\s+VIA\s+ACTION\s+TARGET$/);
    const actions = r.lines.slice(2).map((l) => l.match(/\s(\w+\.\w+)\s+\w+ /)?.[1]);
    expect(actions).toEqual(['invite.created', 'member.added', 'org.created']);
    // The invite was made by the operator, not by the org's owner; the org was created as the owner.
    expect(r.lines[2]).toContain('Operator (roster CLI)');
    expect(r.lines[2]).not.toContain(o.owner);
    expect(r.lines[2]).toMatch(/\scli\s/);
    expect(r.lines[4]).toContain(o.owner);
  });

  it('--action keeps only that action', async () => {
    const o = await orgWithHistory();
    const r = await roster('audit', o.slug, '--action', 'invite.created');
    expect(r.code, fmt(r)).toBe(0);
    expect(r.lines).toHaveLength(3);
    // The target is named by what a person reads: the invited email, not the invite's id.
    expect(r.lines[2]).toMatch(new RegExp(`\\sinvite\\.created\\s+invite ${o.email.replace(/\./g, '\\.')}$`));
  });

  it('--actor takes an email, --since takes 7d or 24h as Slack does, and an email nobody has matches nothing', async () => {
    const o = await orgWithHistory();
    const mine = await roster('audit', o.slug, '--actor', o.owner, '--since', '7d');
    expect(mine.code, fmt(mine)).toBe(0);
    expect(mine.lines.slice(2).map((l) => l.match(/\s(\w+\.\w+)\s+\w+ /)?.[1])).toEqual(['member.added', 'org.created']);
    // The member.added line names the owner by email.
    expect(mine.lines[2]).toMatch(new RegExp(`membership ${o.owner.replace(/\./g, '\\.')}$`));
    expect((await roster('audit', o.slug, '--until', '24h')).stdout).toBe('No audit events match.');
    expect((await roster('audit', o.slug, '--actor', 'nobody@example.com')).stdout).toBe('No audit events match.');
  });

  it('--limit applies to every format, and a cut table says there is more', async () => {
    const o = await orgWithHistory();
    const cut = await roster('audit', o.slug, '--limit', '2');
    expect(cut.code, fmt(cut)).toBe(0);
    expect(cut.lines).toHaveLength(5);
    expect(cut.lines.at(-1)).toMatch(/^Showing the newest 2 events; there are more/);
    const whole = await roster('audit', o.slug, '--limit', '3');
    expect(whole.lines).toHaveLength(5);
    expect(whole.stdout).not.toContain('there are more');
    const jsonl = await roster('audit', o.slug, '--format', 'jsonl', '--limit', '1');
    expect(jsonl.lines.map((l) => (JSON.parse(l) as { action: string }).action)).toEqual(['invite.created']);
    const csv = await roster('audit', o.slug, '--format', 'csv', '--limit', '2');
    expect(csv.stdout.split(/\r?\n/)).toHaveLength(3);
    expect((await roster('audit', o.slug, '--limit', '0')).code).toBe(2);
  });

  it('--format jsonl prints one parseable JSON event per line', async () => {
    const o = await orgWithHistory();
    const r = await roster('audit', o.slug, '--format', 'jsonl');
    expect(r.code, fmt(r)).toBe(0);
    const events = r.lines.map((l) => JSON.parse(l) as { action: string; via: string; after: { email?: string } | null });
    expect(events.map((e) => e.action)).toEqual(['invite.created', 'member.added', 'org.created']);
    expect(events[0]).toMatchObject({ via: 'cli', after: { email: o.email, role: 'admin' } });
  });

  it('--format csv prints a header row, then one row per event', async () => {
    const o = await orgWithHistory();
    const r = await roster('audit', o.slug, '--format', 'csv', '--action', 'org.created');
    expect(r.code, fmt(r)).toBe(0);
    const rows = r.stdout.split(/\r?\n/); // RFC 4180 CSV: CRLF line ends
    expect(rows[0]).toBe('id,at,orgId,actorType,actorId,actorLabel,via,action,targetType,targetId,before,after,seq');
    expect(rows).toHaveLength(2);
    expect(rows[1]).toContain(',cli,org.created,org,');
  });

  it('a filter that matches nothing says so', async () => {
    const o = await orgWithHistory();
    const r = await roster('audit', o.slug, '--action', 'member.removed');
    expect(r.code, fmt(r)).toBe(0);
    expect(r.stdout).toBe('No audit events match.');
  });

  it('an unknown --format or a bad --since is a usage error (exit 2)', async () => {
    const o = await newOrg('Formats');
    const xml = await roster('audit', o.slug, '--format', 'xml');
    expect(xml.code, fmt(xml)).toBe(2);
    expect(xml.stderr).toMatch(/--format is table, jsonl or csv/);
    const since = await roster('audit', o.slug, '--since', 'yesterday-ish');
    expect(since.code, fmt(since)).toBe(2);
    expect(since.stderr).toMatch(/--since takes an age such as 24h or 7d, or a date/);
  });
});

describe('roster org settings: refusals in words', () => {
  it('a bad value names the flag and what it takes, never a field path, and changes nothing', async () => {
    const { slug } = await newOrg('Words');
    const cases: [string[], number, RegExp][] = [
      [['--reminders', 'abc'], 2, /^--reminders takes whole hours before expiry, e\.g\. 72,24, or none: "abc" is not a whole number of at least 1\.$/],
      [['--reminders', '24,-5'], 2, /"-5" is not a whole number/],
      [['--seat-limit', '-3'], 2, /^--seat-limit takes a number of seats, or none: "-3" is not a whole number of at least 1\.$/],
      [['--seat-limit', 'lots'], 2, /"lots" is not a whole number/],
      [['--invite-expiry', '5d'], 1, /^--invite-expiry: Invite expiry must be one of 72h, 7d, 14d, 30d or never\.$/],
    ];
    for (const [flags, code, message] of cases) {
      const r = await roster('org', 'settings', slug, ...flags);
      expect(r.code, fmt(r)).toBe(code);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/reminderHours|seatLimit|inviteExpiry|Invalid input/);
    }
    const shown = await roster('org', 'settings', slug);
    expect(shown.stdout).toMatch(/seat limit\s+none/);
  });
});

describe('roster refusals', () => {
  it("a refusal's hint names the roster command, never a Slack one the CLI has (revoking an unknown SCIM token)", async () => {
    const { slug } = await newOrg('Hints');
    const r = await roster('scim', 'token', 'revoke', slug, 'nosuch');
    expect(r.code, fmt(r)).toBe(1);
    expect(r.stderr).toBe('No active SCIM token is named "nosuch". `roster scim token list <org>` lists them.');
    expect(r.stderr).not.toContain('/org');
  });
});

describe('roster usage', () => {
  it('an unknown command is a usage error (exit 2) that shows the usage', async () => {
    const r = await roster('frobnicate');
    expect(r.code, fmt(r)).toBe(2);
    expect(r.stderr).toMatch(/Unknown command "frobnicate"/);
    expect(r.stderr).toMatch(/Usage:\n\s+roster org create/);
  });

  it('an unknown option, or an option without its value, is a usage error (exit 2) said in words', async () => {
    const r = await roster('org', 'list', '--colour');
    expect(r.code, fmt(r)).toBe(2);
    expect(r.stderr).toBe('There is no option --colour. `roster help` lists every command and its options.');
    const missing = await roster('invite', 'acme', '--role');
    expect(missing.code, fmt(missing)).toBe(2);
    expect(missing.stderr).toMatch(/^--role needs a value after it\./);
    // A flag where a value was due (parseArgs calls it ambiguous).
    const ambiguous = await roster('audit', 'acme', '--actor', '--since', '7d');
    expect(ambiguous.code, fmt(ambiguous)).toBe(2);
    expect(ambiguous.stderr).toMatch(/^--actor needs a value after it\./);
  });

  it('an argument with a control character is a usage error (exit 2) naming the argument and the character, and changes nothing', async () => {
    const before = await count('orgs', 'true');
    for (const [argv, which, shown] of [
      [['org', 'create', 'Acme\u001b[2J', '--owner', `o.${tag()}@example.com`], 'Argument 3 ("Acme[2J")', 'U+001B, escape'],
      [['org', 'create', 'Acme', '--owner', `o.${tag()}\u0085@example.com`], 'Argument 5', 'U+0085'],
      [['members', 'acme\u0007'], 'Argument 2 ("acme")', 'U+0007'],
      [['audit', 'acme', '--action', 'org.created\u007f'], 'Argument 4', 'U+007F, DEL'],
      [['org', 'create', 'Acme', '--owner', '\ud800@example.com'], 'Argument 5', 'unpaired surrogate (U+D800)'],
    ] as const) {
      const r = await roster(...argv);
      expect(r.code, fmt(r)).toBe(2);
      expect(r.stderr).toContain(which);
      expect(r.stderr).toContain(shown);
      // eslint-disable-next-line no-control-regex -- looking for control characters
      expect(r.stderr).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
    }
    expect(await count('orgs', 'true')).toBe(before);
  });

  it('help and no arguments print the usage with exit 0', async () => {
    for (const argv of [['help'], [], ['--help']]) {
      const r = await roster(...argv);
      expect(r.code, fmt(r)).toBe(0);
      expect(r.stdout).toMatch(/^Roster — manage organizations/);
      expect(r.stdout).toContain('roster invite <org> <email…>');
    }
  });
});

describe('bin/roster.js on the embedded PostgreSQL (real processes)', () => {
  let dataDir: string | undefined;
  let server: RosterServer | undefined;

  afterEach(async () => {
    await server?.kill();
    if (dataDir) await removeDataDir(dataDir);
    server = undefined;
    dataDir = undefined;
  });

  it('works with no server running (starting and stopping PostgreSQL itself) and joins a running server without stopping it', async () => {
    dataDir = await tempDataDir('roster-cli-');
    const cliEnv = { DATA_DIR: dataDir, PUBLIC_URL: 'https://roster.test' };

    // No server: the CLI starts the embedded PostgreSQL, and stops it when done.
    const created = await runCliProcess(['org', 'create', 'Solo Co', '--owner', 'solo@example.com'], cliEnv);
    expect(created.code, show(created)).toBe(0);
    expect(created.stdout.trim().split('\n').at(-1)).toBe('solo-co');
    expect(livePostmaster(dataDir), `the CLI left PostgreSQL running\n${show(created)}`).toBeUndefined();

    // Exit codes reach the shell: a refused command exits non-zero.
    const unknown = await runCliProcess(['members', 'nope'], cliEnv);
    expect(unknown.code, show(unknown)).toBe(1);
    expect(unknown.stderr).toMatch(/No organization has the URL name "nope"/);

    // With `npm start` running on the same DATA_DIR, the CLI joins its PostgreSQL.
    server = new RosterServer({ DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info' });
    const port = await server.listening();
    const postmaster = livePostmaster(dataDir);
    expect(postmaster, server.output()).toBeDefined();

    const invited = await runCliProcess(['invite', 'solo-co', 'friend@example.com', '--role', 'admin'], cliEnv);
    expect(invited.code, `${show(invited)}\n${server.output()}`).toBe(0);
    expect(invited.stdout).toMatch(/https:\/\/roster\.test\/invites\/\S+/);
    const members = await runCliProcess(['members', 'solo-co'], cliEnv);
    expect(members.code, show(members)).toBe(0);
    expect(members.stdout).toMatch(/solo@example\.com\s+Owner \(primary\)/);

    // Still the server's postmaster (no second one), still serving the server.
    expect(livePostmaster(dataDir), server.output()).toBe(postmaster);
    const health = await server.get(port, '/healthz');
    expect(health, server.output()).toMatchObject({ status: 200, body: { database: 'up' } });

    expect(await server.stop('SIGTERM'), server.output()).toEqual({ code: 0, signal: null });
    expect(livePostmaster(dataDir), server.output()).toBeUndefined();
  }, 150_000);
});

describe('roster api-key', () => {
  it('create prints the key alone on its last line; list shows it without the key; a read key and an operator key; revoke ends it', async () => {
    const t = tag();
    const made = await roster('org', 'create', 'Keys', t, '--owner', `kay.${t}@example.com`);
    const slug = made.lines.at(-1)!;
    const r = await roster('api-key', 'create', slug, '--name', 'backend', '--scope', 'read');
    expect(r.code, fmt(r)).toBe(0);
    expect(r.lines.at(-1)).toMatch(/^rk_[A-Za-z0-9_-]{43}$/);
    expect(r.stdout).toContain('https://roster.test/api/v1');
    const list = await roster('api-key', 'list', slug);
    expect(list.stdout).toMatch(/backend\s+read/);
    expect(list.stdout).not.toContain(r.lines.at(-1)!);
    const bad = await roster('api-key', 'create', slug, '--name', 'x', '--scope', 'admin');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/scope is read or write/);
    const ops = await roster('api-key', 'create', '--operator', '--name', `ops-${t}`);
    expect(ops.code, fmt(ops)).toBe(0);
    expect(ops.stdout).toContain('every org');
    expect((await roster('api-key', 'revoke', slug, 'backend')).code).toBe(0);
    expect(await count('api_keys o join orgs g on g.id = o.org_id', `g.slug = $1 and o.revoked_at is not null`, [slug])).toBe(1);
  });
});
