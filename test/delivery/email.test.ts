import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createEmailChannel } from '../../src/delivery/email-channel.js';
import { createMailer, SMTP_SEND_DEADLINE_MS, SMTP_TIMEOUTS } from '../../src/delivery/email.js';
import { accountActor } from '../../src/domain/context.js';
import { deliverDueNotifications } from '../../src/jobs/deliver-notifications.js';
import { createLogger } from '../../src/logger.js';
import { start } from '../../src/main.js';
import { freshDatabase } from '../helpers/db.js';
import { TestClock, useWorld, type World } from '../helpers/domain.js';
import { TestSmtp } from '../helpers/smtp.js';

const PUBLIC_URL = 'https://roster.example';
const silent = createLogger('silent');
const world = useWorld();
const smtp = new TestSmtp();
const tmpDirs: string[] = [];

beforeAll(async () => {
  await smtp.start();
});
afterAll(async () => {
  await smtp.stop();
  for (const d of tmpDirs) await rm(d, { recursive: true, force: true });
});

async function tmpDir(): Promise<string> {
  const d = await mkdtemp(path.join(os.tmpdir(), 'roster-email-'));
  tmpDirs.push(d);
  return d;
}

/** A logger whose JSON lines the test can read. */
function capturingLogger() {
  const lines: Record<string, any>[] = [];
  const log = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  return { log, lines };
}

const message = (to: string, n = 1) => ({
  to,
  subject: `Hello ${n}`,
  text: `Plain body ${n}\n`,
  html: `<p>HTML body ${n}</p>`,
  messageId: `<test-${n}-${to}@roster.example>`,
});

const linkRe = (base: string) => new RegExp(`${base.replace(/[.]/g, '\\.')}/invites/([A-Za-z0-9_-]{43})(?![A-Za-z0-9_-])`);

async function inviteIn(w: World, orgName: string, opts: { expiry?: 'never' } = {}) {
  const owner = await w.person('Dana Inviter');
  const org = await w.domain.orgs.create(owner.actor, { name: orgName });
  if (opts.expiry) await w.domain.orgs.updateSettings(owner.actor, org.id, { inviteExpiry: opts.expiry });
  const p = await w.person('Invitee');
  const [r] = await w.domain.invites.create(owner.actor, org.id, { emails: p.account.email!, role: 'billing' });
  if (!r?.ok) throw new Error(`invite failed: ${r?.message}`);
  return { org, owner, invitee: p, invite: r.invite, token: r.token };
}

describe('the mailer', () => {
  it('with SMTP_URL it sends through that server, from SMTP_FROM, with text and HTML parts and the given Message-ID', async () => {
    const mailer = createMailer({ smtpUrl: smtp.url, from: 'Acme Access <access@acme.example>', outboxDir: await tmpDir(), log: silent });
    try {
      expect(mailer.mode).toBe('smtp');
      await mailer.send(message('first@example.com'));
      const [mail] = smtp.to('first@example.com');
      expect(mail).toMatchObject({
        envelopeFrom: 'access@acme.example',
        envelopeTo: ['first@example.com'],
        from: { name: 'Acme Access', address: 'access@acme.example' },
        subject: 'Hello 1',
        messageId: '<test-1-first@example.com@roster.example>',
      });
      expect(mail!.text.trim()).toBe('Plain body 1');
      expect(mail!.html).toContain('<p>HTML body 1</p>');
    } finally {
      mailer.close();
    }
  });

  it('with SMTP down, sending fails (so the outbox retries it) and nothing is written to the outbox folder', async () => {
    const outboxDir = await tmpDir();
    const mailer = createMailer({ smtpUrl: smtp.url, from: 'Roster <roster@roster.example>', outboxDir, log: silent });
    await smtp.down();
    try {
      await expect(mailer.send(message('down@example.com'))).rejects.toThrow(/ECONNREFUSED|connect/i);
      smtp.rejecting = true;
      await smtp.up();
      await expect(mailer.send(message('down@example.com', 2))).rejects.toMatchObject({ responseCode: 451 });
    } finally {
      smtp.rejecting = false;
      await smtp.up();
      mailer.close();
    }
    expect(smtp.to('down@example.com')).toHaveLength(0);
    expect(await readdir(outboxDir)).toEqual([]);
  });

  it('an SMTP server that accepts connections but never answers makes the send fail (so the outbox retries) instead of hanging', async () => {
    const sockets = new Set<net.Socket>();
    const silentServer = net.createServer((sock) => {
      sockets.add(sock);
      sock.on('error', () => {});
    });
    await new Promise<void>((r) => silentServer.listen(0, '127.0.0.1', () => r()));
    const port = (silentServer.address() as net.AddressInfo).port;
    const mailer = createMailer({
      smtpUrl: `smtp://127.0.0.1:${port}`,
      from: 'Roster <roster@roster.example>',
      outboxDir: await tmpDir(),
      log: silent,
      timeouts: { connectionTimeout: 1_000, greetingTimeout: 300, socketTimeout: 1_000 },
    });
    try {
      await expect(mailer.send(message('hung@example.com'))).rejects.toThrow(/greeting|timeout/i);
    } finally {
      mailer.close();
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => silentServer.close(() => r()));
    }
    // By default a hung server fails a send well within the outbox's 2-minute claim lease.
    expect(SMTP_TIMEOUTS.connectionTimeout + SMTP_TIMEOUTS.greetingTimeout + SMTP_TIMEOUTS.socketTimeout).toBeLessThan(120_000);
  });

  it('a send has one deadline for the whole conversation: a server that answers every command slowly (each within the socket timeout) cannot stretch it', async () => {
    // Speaks just enough SMTP, answering each command after 300 ms: the socket is never idle for 1 s,
    // but the whole conversation takes ~1.5 s.
    const slow = net.createServer((sock) => {
      sock.on('error', () => {});
      const reply = (line: string) => setTimeout(() => sock.writable && sock.write(`${line}\r\n`), 300);
      sock.write('220 slow.example ESMTP\r\n');
      let inData = false;
      let buf = '';
      sock.on('data', (chunk) => {
        buf += chunk.toString('utf8');
        let i: number;
        while ((i = buf.indexOf('\r\n')) >= 0) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 2);
          if (inData) {
            if (line === '.') {
              inData = false;
              reply('250 queued');
            }
            continue;
          }
          const verb = line.slice(0, 4).toUpperCase();
          if (verb === 'EHLO' || verb === 'HELO') reply('250 slow.example');
          else if (verb === 'MAIL' || verb === 'RCPT') reply('250 ok');
          else if (verb === 'DATA') {
            inData = true;
            reply('354 go on');
          } else if (verb === 'QUIT') reply('221 bye');
          else reply('250 ok');
        }
      });
    });
    await new Promise<void>((r) => slow.listen(0, '127.0.0.1', () => r()));
    const port = (slow.address() as net.AddressInfo).port;
    const mailer = createMailer({
      smtpUrl: `smtp://127.0.0.1:${port}`,
      from: 'Roster <roster@roster.example>',
      outboxDir: await tmpDir(),
      log: silent,
      timeouts: { connectionTimeout: 1_000, greetingTimeout: 1_000, socketTimeout: 1_000 },
      sendDeadlineMs: 700,
    });
    const started = Date.now();
    try {
      await expect(mailer.send(message('slow@example.com'))).rejects.toThrow(/abort|deadline|timeout/i);
    } finally {
      mailer.close();
      await new Promise<void>((r) => slow.close(() => r()));
    }
    expect(Date.now() - started).toBeLessThan(1_200);
    // The outbox sizes its claim from this: no send outlasts it.
    expect(mailer.maxSendMs).toBe(700);
    expect(createMailer({ smtpUrl: smtp.url, from: 'x <x@x.example>', outboxDir: '/nonexistent', log: silent }).maxSendMs).toBe(SMTP_SEND_DEADLINE_MS);
  });

  it('without SMTP_URL each message is written as an .eml file into the outbox folder (created if missing); the log names the file at info and the accept link only at debug', async () => {
    const outboxDir = path.join(await tmpDir(), 'nested', 'outbox');
    const { log, lines } = capturingLogger();
    const mailer = createMailer({ smtpUrl: undefined, from: 'Roster <roster@localhost>', outboxDir, log });
    expect(mailer.mode).toBe('outbox');
    const link = `${PUBLIC_URL}/invites/${'A'.repeat(43)}`;
    await mailer.send({ ...message('dev@example.com', 1), devLink: link });
    await mailer.send(message('dev@example.com', 2));
    mailer.close();
    const files = (await readdir(outboxDir)).sort();
    expect(files).toHaveLength(2);
    expect(files.every((f) => f.endsWith('.eml'))).toBe(true);
    const parsed = await Promise.all(files.map(async (f) => simpleParser(await readFile(path.join(outboxDir, f)))));
    expect(parsed.map((p) => p.subject).sort()).toEqual(['Hello 1', 'Hello 2']);
    const first = parsed.find((p) => p.subject === 'Hello 1')!;
    expect(first.to && !Array.isArray(first.to) ? first.to.value[0]!.address : '').toBe('dev@example.com');
    expect(first.from!.value[0]!.address).toBe('roster@localhost');
    expect(first.text!.trim()).toBe('Plain body 1');
    expect(first.html).toContain('<p>HTML body 1</p>');
    expect(first.messageId).toBe('<test-1-dev@example.com@roster.example>');
    const written = lines.filter((l) => l.msg === 'email written to the outbox (no SMTP_URL)');
    expect(written).toHaveLength(2);
    expect(written.every((l) => l.level === 30 && /\.eml$/.test(l.file) && !JSON.stringify(l).includes('dev@example.com'))).toBe(true);
    // The link only at debug level, beside the file it is in.
    expect(lines.filter((l) => l.link === link)).toEqual([expect.objectContaining({ level: 20, file: expect.stringMatching(/\.eml$/) })]);
    expect(smtp.to('dev@example.com')).toHaveLength(0);
  });
});

describe('the development outbox folder', () => {
  it('is private: the folder is 0700 (also when it existed before, more open) and each .eml file 0600', async () => {
    const fresh = path.join(await tmpDir(), 'new', 'outbox');
    const existing = path.join(await tmpDir(), 'open-outbox');
    await mkdir(existing, { mode: 0o755 });
    await chmod(existing, 0o755);
    for (const outboxDir of [fresh, existing]) {
      const mailer = createMailer({ smtpUrl: undefined, from: 'Roster <roster@localhost>', outboxDir, log: silent });
      await mailer.send(message('private@example.com'));
      mailer.close();
      expect((await stat(outboxDir)).mode & 0o777).toBe(0o700);
      const files = await readdir(outboxDir);
      expect(files).toHaveLength(1);
      expect((await stat(path.join(outboxDir, files[0]!))).mode & 0o777).toBe(0o600);
    }
  });

  it('in production, emails (invite links) are written to files only when that is explicitly allowed; otherwise Roster refuses to start without SMTP_URL', async () => {
    const outboxDir = path.join(await tmpDir(), 'prod-outbox');
    expect(() => createMailer({ smtpUrl: undefined, from: 'Roster <roster@localhost>', outboxDir, log: silent, production: true })).toThrow(/SMTP_URL/);
    const allowed = createMailer({ smtpUrl: undefined, from: 'Roster <roster@localhost>', outboxDir, log: silent, production: true, allowFileOutbox: true });
    expect(allowed.mode).toBe('outbox');
    allowed.close();
    const withSmtp = createMailer({ smtpUrl: smtp.url, from: 'Roster <roster@localhost>', outboxDir, log: silent, production: true });
    expect(withSmtp.mode).toBe('smtp');
    withSmtp.close();
  });
});

describe('invite email content', () => {
  it('names and org names are HTML-escaped in the HTML part and kept as written in the text part', async () => {
    const w = world();
    const { invitee } = await inviteIn(w, `R&D <script>x()</script> "Lab"`);
    const mailer = createMailer({ smtpUrl: smtp.url, from: 'Roster <roster@roster.example>', outboxDir: await tmpDir(), log: silent });
    try {
      await deliverDueNotifications(w.domain, { email: createEmailChannel(mailer, PUBLIC_URL) }, silent);
    } finally {
      mailer.close();
    }
    const [mail] = smtp.to(invitee.account.email!);
    expect(mail!.text).toContain(`R&D <script>x()</script> "Lab"`);
    expect(mail!.text).toContain('as Billing');
    expect(mail!.html).not.toContain('<script>');
    expect(mail!.html).toContain('R&amp;D &lt;script&gt;x()&lt;/script&gt; &quot;Lab&quot;');
  });

  /** What a mail client would turn into a link: a scheme, www., a dotted domain name, an email address. */
  const linkLike = /[a-z][a-z0-9+.-]*:\/\/|\bwww\.|[\p{L}\p{N}-]+[.。．｡]\p{L}{2,}|[^\s@]+@[^\s@]+|\b(?:mailto|tel|javascript):/giu;
  function linksOtherThan(part: string, ours: string[]): string[] {
    let rest = part;
    for (const s of ours) rest = rest.split(s).join(' ');
    return rest.match(linkLike) ?? [];
  }

  it('names people typed never become links in an email: an org or inviter name that looks like a URL, a domain or an address is written so no mail client links it', async () => {
    const w = world();
    const inviter = await w.person('Support https://evil.example/login www.evil.example support@evil.example');
    const org = await w.domain.orgs.create(inviter.actor, { name: 'Acme paypal.com-secure.example http://1.2.3.4/x mailto:x' });
    const p = await w.person('Invitee');
    const [r] = await w.domain.invites.create(inviter.actor, org.id, { emails: p.account.email!, role: 'member' });
    if (!r?.ok) throw new Error('invite failed');
    const asker = await w.person('Asker');
    const { request } = await w.domain.joinRequests.request(asker.actor, org);
    await w.domain.joinRequests.deny(inviter.actor, request.id, 'Apply at https://evil.example/apply or\nwrite to hr@evil.example');
    const mailer = createMailer({ smtpUrl: smtp.url, from: 'Roster <roster@roster.example>', outboxDir: await tmpDir(), log: silent });
    try {
      await deliverDueNotifications(w.domain, { email: createEmailChannel(mailer, PUBLIC_URL) }, silent);
    } finally {
      mailer.close();
    }
    const [invite] = smtp.to(p.account.email!);
    const [denied] = smtp.to(asker.account.email!);
    expect(invite && denied).toBeTruthy();
    const ourLink = `${PUBLIC_URL}/invites/${r.token}`;
    for (const [mail, ours] of [
      [invite!, [ourLink, p.account.email!]],
      [denied!, [asker.account.email!]],
    ] as const) {
      for (const part of [mail.subject, mail.text, mail.html.replace(/<[^>]*>/g, ' ')]) {
        expect(linksOtherThan(part, [...ours, 'roster.example'])).toEqual([]);
      }
    }
    // Still readable: the words are all there.
    expect(invite!.subject).toMatch(/^Support .*evil.*example.* invited you to join Acme paypal/);
    expect(invite!.text).toContain('Acme paypal');
    expect(denied!.text).toMatch(/Reason: Apply at .*evil.*example.*apply or write to hr.*evil.*example/);
  });

  it("a never-expiring invite's email says it does not expire", async () => {
    const w = world();
    const { invitee } = await inviteIn(w, 'Forever Co', { expiry: 'never' });
    const mailer = createMailer({ smtpUrl: smtp.url, from: 'Roster <roster@roster.example>', outboxDir: await tmpDir(), log: silent });
    try {
      await deliverDueNotifications(w.domain, { email: createEmailChannel(mailer, PUBLIC_URL) }, silent);
    } finally {
      mailer.close();
    }
    const [mail] = smtp.to(invitee.account.email!);
    for (const part of [mail!.text, mail!.html]) {
      expect(part).toContain('This invite does not expire.');
      expect(part).toMatch(linkRe(PUBLIC_URL));
    }
  });
});

describe('Roster wired from its settings', () => {
  async function startRoster(env: Record<string, string>, log = createLogger('silent')) {
    const database = await freshDatabase(4);
    const clock = new TestClock();
    const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', PUBLIC_URL, APP_SECRET: 'e'.repeat(40), ...env });
    const roster = await start(config, { database, clock, log, startJobs: false });
    return {
      roster,
      async stop() {
        await roster.stop();
        await database.close();
      },
    };
  }

  async function inviteVia(domain: Awaited<ReturnType<typeof start>>['domain'], email: string) {
    const ownerAccount = await domain.accounts.findOrCreateByEmail(`owner.${Date.now()}.${Math.random().toString(36).slice(2)}@example.com`, 'Olga Owner');
    const owner = accountActor(ownerAccount.id, 'api');
    const org = await domain.orgs.create(owner, { name: 'Wired Org' });
    const [r] = await domain.invites.create(owner, org.id, { emails: email, role: 'member' });
    if (!r?.ok) throw new Error(`invite failed: ${r?.message}`);
    return r;
  }

  it('with SMTP_URL and SMTP_FROM, the invite email goes through that server from that sender, with a link that works', async () => {
    const { roster, stop } = await startRoster({ SMTP_URL: smtp.url, SMTP_FROM: 'Wired Roster <noreply@wired.example>' });
    try {
      const to = `wired.${Date.now()}@example.com`;
      const r = await inviteVia(roster.domain, to);
      await roster.worker!.run.deliverNotifications();
      const mails = smtp.to(to);
      expect(mails).toHaveLength(1);
      expect(mails[0]!.from).toEqual({ name: 'Wired Roster', address: 'noreply@wired.example' });
      const token = mails[0]!.text.match(linkRe(PUBLIC_URL))![1]!;
      expect(token).toBe(r.token);
      expect((await roster.domain.invites.lookupByToken(token)).invite.id).toBe(r.invite.id);
    } finally {
      await stop();
    }
  });

  it('without SMTP_URL, the invite email appears as an .eml file in OUTBOX_DIR and its accept link is logged at debug level only, no address at info; no SMTP is used', async () => {
    const outboxDir = path.join(await tmpDir(), 'outbox');
    const { log, lines } = capturingLogger();
    const { roster, stop } = await startRoster({ OUTBOX_DIR: outboxDir }, log);
    try {
      const to = `outbox.${Date.now()}@example.com`;
      const r = await inviteVia(roster.domain, to);
      await roster.worker!.run.deliverNotifications();
      const files = await readdir(outboxDir);
      expect(files).toHaveLength(1);
      const parsed = await simpleParser(await readFile(path.join(outboxDir, files[0]!)));
      expect(parsed.to && !Array.isArray(parsed.to) ? parsed.to.value[0]!.address : '').toBe(to);
      expect(parsed.text).toContain(`${PUBLIC_URL}/invites/${r.token}`);
      expect(parsed.html).toContain(`${PUBLIC_URL}/invites/${r.token}`);
      expect(lines.some((l) => l.link === `${PUBLIC_URL}/invites/${r.token}` && l.level === 20)).toBe(true);
      const infoAndUp = lines.filter((l) => (l.level as number) >= 30).map((l) => JSON.stringify(l));
      expect(infoAndUp.some((l) => l.includes(r.token) || l.includes(to))).toBe(false);
      expect(lines.some((l) => l.outbox === outboxDir)).toBe(true);
      expect(smtp.to(to)).toHaveLength(0);
    } finally {
      await stop();
    }
  });
});
