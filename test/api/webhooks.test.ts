import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountActor, systemActor } from '../../src/domain/context.js';
import { RETRY_DELAYS_MS } from '../../src/domain/webhooks/index.js';
import { NUMBERING_LOCK, numberEvents } from '../../src/domain/event-numbers.js';
import { createWebhookSender, type WebhookSender } from '../../src/delivery/webhook-http.js';
import { deliverDueWebhooks } from '../../src/jobs/deliver-webhooks.js';
import { renderEmail } from '../../src/delivery/email-templates.js';
import { useDnsServer } from '../helpers/dns.js';
import { newMember, uniq } from '../helpers/fixtures.js';
import { useRoster } from '../helpers/roster.js';

/**
 * Webhooks (issue 14 §3): endpoints per org, Standard Webhooks signatures checked with the `standardwebhooks`
 * package on a real receiver on loopback, in order per endpoint, retried with the same id, Retry-After,
 * 410, disabling with the owners told, replay, secret rotation, and the SSRF guard.
 */
const harness = useRoster({ start: { startJobs: false } }, (r) => r);
const operator = systemActor('cli');
const log = pino({ level: 'silent' });

type Received = { path: string; headers: http.IncomingHttpHeaders; body: string };
type Answer = { status: number; headers?: Record<string, string>; hang?: boolean };

/** A real HTTP receiver on 127.0.0.1: records every request, answers as told (per path, default 204). */
function useReceiver() {
  const received: Received[] = [];
  const answers = new Map<string, Answer[]>();
  let base = '';
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      const path = req.url ?? '/';
      received.push({ path, headers: req.headers, body });
      const a = answers.get(path)?.shift() ?? { status: 204 };
      if (a.hang) return;
      res.writeHead(a.status, a.headers ?? {});
      res.end(a.status >= 400 ? 'receiver says no' : '');
    });
  });
  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });
  return {
    url: (path: string) => `${base}${path}`,
    port: () => (server.address() as AddressInfo).port,
    at: (path: string) => received.filter((r) => r.path === path),
    answer: (path: string, ...a: Answer[]) => void answers.set(path, a),
  };
}

const receiver = useReceiver();
const dns = useDnsServer();
let sender: WebhookSender;
beforeAll(() => {
  sender = createWebhookSender({ allowPrivate: true });
});
afterAll(() => sender.close());
const deliver = (s: WebhookSender = sender) => deliverDueWebhooks(harness().domain, s, log);

/** An org with an owner and a member, and an endpoint at a fresh path of the receiver. */
async function orgWithEndpoint(opts: { events?: string[]; url?: string } = {}) {
  const { domain } = harness();
  const tag = uniq();
  const owner = await domain.accounts.findOrCreateByEmail(`owner.${tag}@hooks.test`, 'Owner');
  const ownerActor = accountActor(owner.id, 'slack');
  const org = await domain.orgs.create(ownerActor, { name: `Hooks ${tag}` });
  const member = await newMember(domain, org, ownerActor, 'member');
  const path = `/hooks/${tag}`;
  const made = await domain.webhooks.create(ownerActor, org.id, { url: opts.url ?? receiver.url(path), ...(opts.events ? { events: opts.events } : {}) });
  return { org, owner, ownerActor, member, path, secret: made.secret, endpoint: made.endpoint };
}

const payloads = (path: string) =>
  receiver.at(path).map((r) => JSON.parse(r.body) as { type: string; timestamp: string; data: { sequence: number; data: unknown } });

describe('webhook deliveries', () => {
  it('an event is POSTed signed per Standard Webhooks: the standardwebhooks package verifies it, payload {type, timestamp, data}', async () => {
    const { domain } = harness();
    const { org, ownerActor, member, path, secret } = await orgWithEndpoint({ events: ['member.role_changed'] });
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    await domain.members.changeRole(ownerActor, org.id, member.account.id, 'admin');
    expect((await deliver()).sent).toBe(1);
    const [got] = receiver.at(path);
    expect(got).toBeDefined();
    const verified = new Webhook(secret).verify(got!.body, got!.headers as Record<string, string>) as { type: string; data: Record<string, unknown> };
    expect(verified).toMatchObject({
      type: 'member.role_changed',
      data: {
        type: 'member.role_changed',
        org: org.id,
        actor: { type: 'account', id: ownerActor.type === 'account' ? ownerActor.accountId : '' },
        subject: { type: 'membership' },
        data: { before: { role: 'member', accountId: member.account.id }, after: { role: 'admin', accountId: member.account.id } },
      },
    });
    expect(got!.headers['webhook-id']).toMatch(/^msg_[0-9a-f]{32}$/);
    expect(got!.headers['content-type']).toBe('application/json');
    // Another secret's signature does not verify.
    expect(() => new Webhook(`whsec_${Buffer.alloc(32, 1).toString('base64')}`).verify(got!.body, got!.headers as Record<string, string>)).toThrow();
    // Only the subscribed type went: the endpoint's own creation event was not sent.
    expect(payloads(path).map((p) => p.type)).toEqual(['member.role_changed']);
  });

  it('an endpoint with no event types gets every event of its org, in order, once each, and nothing of other orgs', async () => {
    const { domain } = harness();
    const a = await orgWithEndpoint();
    const b = await orgWithEndpoint();
    for (let i = 0; i < 10; i++) await domain.orgs.rename(a.ownerActor, a.org.id, `Hooks renamed ${i} ${uniq()}`);
    await domain.orgs.rename(b.ownerActor, b.org.id, `Other ${uniq()}`);
    await deliver();
    const seqs = payloads(a.path).map((p) => p.data.sequence);
    // Its own creation, then the ten renames.
    expect(payloads(a.path).map((p) => p.type)).toEqual(['webhook.created', ...Array.from({ length: 10 }, () => 'org.renamed')]);
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(payloads(a.path).filter((p) => p.type === 'org.renamed')).toHaveLength(10);
    expect(payloads(a.path).every((p) => (p.data as unknown as { org: string }).org === a.org.id)).toBe(true);
    // Delivering again sends nothing twice.
    const before = receiver.at(a.path).length;
    await deliver();
    expect(receiver.at(a.path)).toHaveLength(before);
  });

  it('a new endpoint gets no event from before its creation, however late those events are numbered', async () => {
    const { domain, db } = harness();
    const tag = uniq();
    const owner = await domain.accounts.findOrCreateByEmail(`owner.${tag}@hooks.test`, 'Owner');
    const ownerActor = accountActor(owner.id, 'slack');
    const org = await domain.orgs.create(ownerActor, { name: `Hooks ${tag}` });
    await numberEvents(db.db);
    // Numbering waits (as when the committing process is slow to number): a rename commits, then the endpoint is made.
    const numbering = await db.pool.connect();
    try {
      await numbering.query('begin');
      await numbering.query('select pg_advisory_xact_lock($1)', [NUMBERING_LOCK]);
      await domain.orgs.rename(ownerActor, org.id, `Renamed before the endpoint ${tag}`);
      const path = `/hooks/${tag}`;
      await domain.webhooks.create(ownerActor, org.id, { url: receiver.url(path) });
      await numbering.query('commit');
      await deliver();
      expect(payloads(path).map((p) => p.type)).toEqual(['webhook.created']);
    } finally {
      // Closed, not reused: if an assertion failed with the lock held, the lock goes with the connection.
      numbering.release(true);
    }
  });

  it('an event committed after the endpoint was made reaches it, even one written (so numbered by id) before it', async () => {
    const { domain, db, clock } = harness();
    const tag = uniq();
    const owner = await domain.accounts.findOrCreateByEmail(`owner.${tag}@hooks.test`, 'Owner');
    const ownerActor = accountActor(owner.id, 'slack');
    const org = await domain.orgs.create(ownerActor, { name: `Hooks ${tag}` });
    const path = `/hooks/${tag}`;
    const long = await db.pool.connect();
    let ok = false;
    try {
      // A long transaction writes its event first, and commits after the endpoint's creation was numbered.
      await long.query('begin');
      await long.query(
        `insert into audit_events (at, org_id, actor_type, actor_label, action, target_type, target_id) values ($1, $2, 'system', 'a long job', 'org.renamed', 'org', $3)`,
        [clock.now(), org.id, org.id],
      );
      await domain.webhooks.create(ownerActor, org.id, { url: receiver.url(path) });
      await numberEvents(db.db);
      await long.query('commit');
      ok = true;
    } finally {
      long.release(!ok);
    }
    await deliver();
    expect(payloads(path).map((p) => p.type)).toEqual(['webhook.created', 'org.renamed']);
  });

  it("an endpoint's pending count includes events committed a moment ago, not yet numbered in the background", async () => {
    const { domain, db, clock } = harness();
    const { org, ownerActor, endpoint } = await orgWithEndpoint();
    await deliver();
    await domain.feed.idle();
    // Committed straight in the database: no background step is due for it.
    await db.pool.query(
      `insert into audit_events (at, org_id, actor_type, actor_label, action, target_type, target_id) values ($1, $2, 'system', 'a job', 'org.renamed', 'org', $3)`,
      [clock.now(), org.id, org.id],
    );
    const [listed] = (await domain.webhooks.list(ownerActor, org.id)).filter((e) => e.id === endpoint.id);
    expect(listed?.pending).toBe(1);
    await deliver(); // sent now, so the tests after this one start with nothing due
  });

  it('a failing receiver gets the event again with the same webhook-id, and later events wait behind it (order per endpoint)', async () => {
    const { domain, clock } = harness();
    const { org, ownerActor, path } = await orgWithEndpoint({ events: ['org.renamed'] });
    receiver.answer(path, { status: 500 }, { status: 503 });
    await domain.orgs.rename(ownerActor, org.id, `First ${uniq()}`);
    await domain.orgs.rename(ownerActor, org.id, `Second ${uniq()}`);
    expect(await deliver()).toMatchObject({ sent: 0, failed: 1 });
    expect(receiver.at(path)).toHaveLength(1);
    // Not due yet: nothing is sent, and the second waits.
    await deliver();
    expect(receiver.at(path)).toHaveLength(1);
    clock.advance(RETRY_DELAYS_MS[0]! * 1.3);
    await deliver();
    clock.advance(RETRY_DELAYS_MS[1]! * 1.3);
    await deliver();
    const got = receiver.at(path);
    expect(got).toHaveLength(4);
    const ids = got.map((g) => g.headers['webhook-id']);
    expect(ids[0]).toBe(ids[1]);
    expect(ids[1]).toBe(ids[2]);
    expect(ids[3]).not.toBe(ids[0]);
    const names = got.map((g) => (JSON.parse(g.body).data.data.after as { name: string }).name);
    expect(names[2]).toMatch(/^First/);
    expect(names[3]).toMatch(/^Second/);
  });

  it('Retry-After is honoured: the next attempt waits as long as the receiver asked', async () => {
    const { domain, clock } = harness();
    const { org, ownerActor, path, endpoint } = await orgWithEndpoint({ events: ['org.renamed'] });
    receiver.answer(path, { status: 429, headers: { 'retry-after': '3600' } });
    await domain.orgs.rename(ownerActor, org.id, `Busy ${uniq()}`);
    await deliver();
    const [d] = await domain.webhooks.deliveries(ownerActor, org.id, endpoint.id);
    expect(d).toMatchObject({ status: 'pending', attempts: 1, lastStatus: 429 });
    expect(d!.nextAttemptAt!.getTime() - clock.now().getTime()).toBeGreaterThanOrEqual(3_600_000 - 1_000);
    clock.advance(RETRY_DELAYS_MS[0]! * 2);
    await deliver();
    expect(receiver.at(path)).toHaveLength(1);
    clock.advance(3_600_000);
    await deliver();
    expect(receiver.at(path)).toHaveLength(2);
  });

  it('410 Gone stops deliveries at once: the endpoint is disabled and its owners are told; enabling it sends what waited', async () => {
    const { domain, db } = harness();
    const { org, ownerActor, owner, path, endpoint } = await orgWithEndpoint({ events: ['org.renamed'] });
    receiver.answer(path, { status: 410 });
    await domain.orgs.rename(ownerActor, org.id, `Gone ${uniq()}`);
    await deliver();
    await domain.orgs.rename(ownerActor, org.id, `After ${uniq()}`);
    await deliver();
    expect(receiver.at(path)).toHaveLength(1);
    const [view] = await domain.webhooks.list(ownerActor, org.id);
    expect(view).toMatchObject({ enabled: false, disabledReason: expect.stringContaining('410'), pending: 1 });
    const told = await db.pool.query(`select recipient_account_id, payload from notifications where kind = 'webhook.disabled' and org_id = $1`, [org.id]);
    expect(told.rows).toEqual([expect.objectContaining({ recipient_account_id: owner.id, payload: expect.objectContaining({ url: endpoint.url }) })]);
    // What the owner reads (by email when not in Slack): which endpoint, why, and how to turn it on again.
    const [notice] = (await domain.outbox.find({ kind: 'webhook.disabled' })).filter((n) => n.orgId === org.id);
    const mail = renderEmail((await domain.outbox.describe(notice!))!, 'https://roster.test')!;
    expect(mail.subject).toMatch(/^Webhooks for After \w+ stopped$/);
    // The URL was typed by a person: shown defanged, as every typed text in Roster's emails.
    expect(mail.text).toContain(`http[:]//127.0.0.1[:]${receiver.port()}${path}`);
    expect(mail.text).toContain('410 Gone');
    expect(mail.text).toContain(`webhooks/${endpoint.id}`);
    const metrics = await (await fetch(`${harness().baseUrl}/metrics`)).text();
    expect(Number(/^roster_webhook_endpoints_disabled (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(1);
    expect(Number(/^roster_webhook_deliveries_pending (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(1);
    await domain.webhooks.update(ownerActor, org.id, endpoint.id, { enabled: true });
    await deliver();
    expect(payloads(path).map((p) => (p.data.data as { after: { name: string } }).after.name)[1]).toMatch(/^After/);
  });

  it('after about three days of failures the delivery fails, the endpoint is disabled, and replay sends it again with the same id', async () => {
    const { domain, clock } = harness();
    const { org, ownerActor, path, endpoint } = await orgWithEndpoint({ events: ['org.renamed'] });
    const since = clock.now();
    receiver.answer(path, ...Array.from({ length: RETRY_DELAYS_MS.length + 1 }, () => ({ status: 500 })));
    await domain.orgs.rename(ownerActor, org.id, `Doomed ${uniq()}`);
    await deliver();
    let waited = 0;
    for (const ms of RETRY_DELAYS_MS) {
      clock.advance(ms * 1.25);
      waited += ms * 1.25;
      await deliver();
    }
    expect(waited).toBeGreaterThan(2.5 * 86_400_000);
    expect(receiver.at(path)).toHaveLength(RETRY_DELAYS_MS.length + 1);
    const [d] = await domain.webhooks.deliveries(ownerActor, org.id, endpoint.id);
    expect(d).toMatchObject({ status: 'failed', attempts: RETRY_DELAYS_MS.length + 1 });
    expect((await domain.webhooks.get(ownerActor, org.id, endpoint.id)).enabled).toBe(false);
    await domain.webhooks.update(ownerActor, org.id, endpoint.id, { enabled: true });
    expect(await domain.webhooks.replay(ownerActor, org.id, endpoint.id, since)).toEqual({ queued: 1 });
    await deliver();
    const got = receiver.at(path);
    expect(got).toHaveLength(RETRY_DELAYS_MS.length + 2);
    expect(got.at(-1)!.headers['webhook-id']).toBe(got[0]!.headers['webhook-id']);
    // A delivered one is not replayed.
    expect(await domain.webhooks.replay(ownerActor, org.id, endpoint.id, since)).toEqual({ queued: 0 });
  });

  it('after a secret rotation both secrets sign for 24 hours, then only the new one', async () => {
    const { domain, clock } = harness();
    const { org, ownerActor, path, endpoint, secret } = await orgWithEndpoint({ events: ['org.renamed'] });
    const rotated = await domain.webhooks.rotateSecret(ownerActor, org.id, endpoint.id);
    expect(rotated.secret).not.toBe(secret);
    await domain.orgs.rename(ownerActor, org.id, `Rotated ${uniq()}`);
    await deliver();
    const [first] = receiver.at(path);
    expect(String(first!.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(() => new Webhook(secret).verify(first!.body, first!.headers as Record<string, string>)).not.toThrow();
    expect(() => new Webhook(rotated.secret).verify(first!.body, first!.headers as Record<string, string>)).not.toThrow();
    clock.advance(25 * 3_600_000);
    await domain.orgs.rename(ownerActor, org.id, `Later ${uniq()}`);
    await deliver();
    const second = receiver.at(path)[1]!;
    expect(String(second.headers['webhook-signature']).split(' ')).toHaveLength(1);
    expect(() => new Webhook(rotated.secret).verify(second.body, second.headers as Record<string, string>)).not.toThrow();
    expect(() => new Webhook(secret).verify(second.body, second.headers as Record<string, string>)).toThrow();
  });

  it('the secret is stored sealed, never in the clear', async () => {
    const { db } = harness();
    const { endpoint, secret } = await orgWithEndpoint();
    const row = await db.pool.query(`select secret_sealed from webhook_endpoints where id = $1`, [endpoint.id]);
    expect(row.rows[0].secret_sealed).not.toContain(secret.slice(6, 20));
  });

  it('an attempt is bounded: a receiver that never answers counts as a failure after the bound', async () => {
    const { domain } = harness();
    const quick = createWebhookSender({ allowPrivate: true, attemptMs: 300 });
    try {
      const { org, ownerActor, path, endpoint } = await orgWithEndpoint({ events: ['org.renamed'] });
      receiver.answer(path, { status: 200, hang: true });
      await domain.orgs.rename(ownerActor, org.id, `Slow ${uniq()}`);
      expect(await deliver(quick)).toMatchObject({ failed: 1 });
      const [d] = await domain.webhooks.deliveries(ownerActor, org.id, endpoint.id);
      expect(d).toMatchObject({ status: 'pending', lastStatus: null, lastError: expect.stringContaining('no answer within') });
    } finally {
      quick.close();
    }
  });
});

describe('webhook SSRF guard', () => {
  it('loopback, private and link-local addresses are refused (also by name, and IPv4-mapped), redirects are not followed', async () => {
    const { domain } = harness();
    const guarded = createWebhookSender({ allowPrivate: false });
    try {
      const port = receiver.port();
      for (const url of [
        receiver.url('/ssrf/a'),
        `http://localhost:${port}/ssrf/b`,
        `http://[::ffff:127.0.0.1]:${port}/ssrf/c`,
        `http://10.0.0.1:${port}/ssrf/d`,
        `http://169.254.169.254/latest/meta-data`,
      ]) {
        const { org, ownerActor, endpoint } = await orgWithEndpoint({ events: ['org.renamed'], url });
        await domain.orgs.rename(ownerActor, org.id, `Ssrf ${uniq()}`);
        await deliver(guarded);
        const [d] = await domain.webhooks.deliveries(ownerActor, org.id, endpoint.id);
        expect(d, url).toMatchObject({ status: 'pending', lastError: expect.stringMatching(/^refused: .*private, loopback or link-local/) });
      }
      expect(receiver.at('/ssrf/a').length + receiver.at('/ssrf/b').length + receiver.at('/ssrf/c').length).toBe(0);
    } finally {
      guarded.close();
    }
    // A redirect (even with private addresses allowed) is a failure, and its target is never asked.
    const { org, ownerActor, path, endpoint } = await orgWithEndpoint({ events: ['org.renamed'] });
    receiver.answer(path, { status: 302, headers: { location: receiver.url('/ssrf/target') } });
    await domain.orgs.rename(ownerActor, org.id, `Redirect ${uniq()}`);
    await deliver();
    const [d] = await domain.webhooks.deliveries(ownerActor, org.id, endpoint.id);
    expect(d).toMatchObject({ status: 'pending', lastStatus: 302, lastError: expect.stringContaining('redirects are not followed') });
    expect(receiver.at('/ssrf/target')).toHaveLength(0);
  });
});

describe('webhook SSRF guard after DNS', () => {
  it('a name that resolves (on a real DNS server) to a loopback or private address is refused; a public one is tried', async () => {
    const { domain } = harness();
    const guarded = createWebhookSender({ allowPrivate: false, dnsServers: [dns.address], attemptMs: 500 });
    try {
      dns.setA('rebind.hooks.test', '127.0.0.1');
      dns.setA('intranet.hooks.test', '192.168.1.20');
      dns.setA('public.hooks.test', '8.8.8.8');
      const outcome = async (host: string) => {
        const { org, ownerActor, endpoint } = await orgWithEndpoint({ events: ['org.renamed'], url: `http://${host}:${receiver.port()}/dns` });
        await domain.orgs.rename(ownerActor, org.id, `Dns ${uniq()}`);
        await deliver(guarded);
        return (await domain.webhooks.deliveries(ownerActor, org.id, endpoint.id))[0]!.lastError;
      };
      expect(await outcome('rebind.hooks.test')).toMatch(/^refused: rebind\.hooks\.test resolves to 127\.0\.0\.1/);
      expect(await outcome('intranet.hooks.test')).toMatch(/^refused: intranet\.hooks\.test resolves to 192\.168\.1\.20/);
      // Not refused by the guard (nothing answers there offline: a timeout or a network error instead).
      expect(await outcome('public.hooks.test')).not.toMatch(/^refused/);
      expect(receiver.at('/dns')).toHaveLength(0);
    } finally {
      guarded.close();
    }
  });
});

describe('webhooks API', () => {
  async function api(path: string, key: string, init: { method?: string; body?: unknown } = {}) {
    const res = await fetch(`${harness().baseUrl}/api/v1${path}`, {
      method: init.method ?? (init.body ? 'POST' : 'GET'),
      headers: { authorization: `Bearer ${key}`, ...(init.body ? { 'content-type': 'application/json' } : {}) },
      ...(init.body ? { body: JSON.stringify(init.body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : undefined };
  }

  it('an org key adds, lists, changes, rotates, replays and removes its endpoints; the secret is shown only when made', async () => {
    const { domain } = harness();
    const { org } = await orgWithEndpoint();
    const { key } = await domain.apiKeys.create(operator, org.id, { name: `hooks-${uniq()}` });
    const made = await api(`/orgs/${org.slug}/webhooks`, key, { body: { url: 'https://example.com/hook', events: ['invite.accepted'] } });
    expect(made.status).toBe(201);
    expect(made.json).toMatchObject({ url: 'https://example.com/hook', events: ['invite.accepted'], enabled: true, secret: expect.stringMatching(/^whsec_/) });
    const list = await api(`/orgs/${org.id}/webhooks`, key);
    expect(list.json.webhooks).toHaveLength(2);
    expect(JSON.stringify(list.json)).not.toContain('whsec_');
    const id = made.json.id as string;
    expect((await api(`/orgs/${org.slug}/webhooks/${id}`, key, { method: 'PATCH', body: { events: [] } })).json).toMatchObject({ events: [] });
    expect((await api(`/orgs/${org.slug}/webhooks/${id}/rotate-secret`, key, { method: 'POST' })).json).toMatchObject({
      secret: expect.stringMatching(/^whsec_/),
    });
    const replayed = await api(`/orgs/${org.slug}/webhooks/${id}/replay?since=2020-01-01T00:00:00Z`, key, { method: 'POST' });
    expect(replayed.status).toBe(200);
    expect(replayed.json.queued).toBeGreaterThan(0);
    expect((await api(`/orgs/${org.slug}/webhooks/${id}/deliveries?limit=5`, key)).json.deliveries.length).toBeGreaterThan(0);
    expect((await api(`/orgs/${org.slug}/webhooks/${id}`, key, { method: 'DELETE' })).status).toBe(204);
    expect((await api(`/orgs/${org.slug}/webhooks/${id}`, key)).status).toBe(404);
  });

  it('bad input is a 400 problem that says what is wrong, and nothing is stored', async () => {
    const { domain } = harness();
    const { org } = await orgWithEndpoint();
    const { key } = await domain.apiKeys.create(operator, org.id, { name: `hooks-${uniq()}` });
    const cases: [unknown, RegExp][] = [
      [{ url: 'ftp://example.com/x' }, /http:\/\/ or https:\/\//],
      [{ url: 'not a url' }, /http:\/\/ or https:\/\//],
      [{ url: 'https://example.com/x', events: ['member.nonsense'] }, /Unknown event type: member\.nonsense/],
      [{ url: 'https://example.com/x', extra: 1 }, /extra|Unrecognized/i],
    ];
    for (const [body, message] of cases) {
      const r = await api(`/orgs/${org.slug}/webhooks`, key, { body });
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(JSON.stringify(r.json), JSON.stringify(body)).toMatch(message);
    }
    expect((await api(`/orgs/${org.slug}/webhooks/${crypto.randomUUID()}/replay?since=yesterday`, key, { method: 'POST' })).status).toBe(400);
    expect((await domain.webhooks.list(operator, org.id)).length).toBe(1);
  });

  it("another org's key sees nothing of this org's webhooks (404); a read key lists but cannot add; an admin cannot manage them", async () => {
    const { domain } = harness();
    const a = await orgWithEndpoint();
    const b = await orgWithEndpoint();
    const { key: keyB } = await domain.apiKeys.create(operator, b.org.id, { name: `b-${uniq()}` });
    const base = `/orgs/${a.org.id}/webhooks`;
    for (const [path, method, body] of [
      [base, 'GET'],
      [base, 'POST', { url: 'https://example.com/x' }],
      [`${base}/${a.endpoint.id}`, 'GET'],
      [`${base}/${a.endpoint.id}`, 'PATCH', { enabled: false }],
      [`${base}/${a.endpoint.id}`, 'DELETE'],
      [`${base}/${a.endpoint.id}/rotate-secret`, 'POST'],
      [`${base}/${a.endpoint.id}/replay?since=2020-01-01T00:00:00Z`, 'POST'],
      [`${base}/${a.endpoint.id}/deliveries`, 'GET'],
    ] as [string, string, unknown?][]) {
      expect((await api(path, keyB, { method, body })).status, `${method} ${path}`).toBe(404);
    }
    // B's endpoint id through B's own org but A's endpoint: not found either.
    expect((await api(`/orgs/${b.org.id}/webhooks/${a.endpoint.id}`, keyB)).status).toBe(404);
    const { key: readKey } = await domain.apiKeys.create(operator, a.org.id, { name: `r-${uniq()}`, scope: 'read' });
    expect((await api(base, readKey)).status).toBe(200);
    expect((await api(base, readKey, { body: { url: 'https://example.com/x' } })).status).toBe(403);
    const admin = await newMember(domain, a.org, a.ownerActor, 'admin');
    await expect(domain.webhooks.create(admin.actor, a.org.id, { url: 'https://example.com/x' })).rejects.toMatchObject({ code: 'forbidden' });
    expect((await domain.webhooks.list(operator, a.org.id)).length).toBe(1);
  });
});
