import { request } from 'node:http';
import { connect } from 'node:net';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { accountActor, systemActor } from '../../src/domain/context.js';
import { joinByInvite, uniq } from '../helpers/fixtures.js';
import { useRoster } from '../helpers/roster.js';

/**
 * The authorize call is read straight off Node's request (src/api/direct.ts) when it is the common shape,
 * and by express otherwise (gzip, a trailing slash, another media type). Whoever calls it cannot tell: the
 * same answers, the same refusals, one rate limit, and it is counted in /metrics like every API request.
 */
const harness = useRoster({}, (r) => r);
const operator = systemActor('cli');

async function orgWithKey(base?: string) {
  const { domain } = harness();
  const tag = uniq();
  const owner = await domain.accounts.findOrCreateByEmail(`owner.${tag}@direct.test`, 'Owner');
  const org = await domain.orgs.create(accountActor(owner.id, 'cli'), { name: `Direct ${tag}` });
  const email = `member.${tag}@direct.test`;
  const member = await domain.accounts.findOrCreateByEmail(email, 'Member');
  await joinByInvite(domain, org, accountActor(owner.id, 'cli'), { actor: accountActor(member.id, 'web'), email }, 'member');
  const { key } = await domain.apiKeys.create(operator, org.id, { name: `k-${tag}`, scope: 'read' });
  const url = `${base ?? harness().baseUrl}/api/v1/orgs/${org.slug}/authorize`;
  return { org, key, email, url };
}

type Sent = { status: number; headers: Headers; text: string };
async function post(url: string, key: string | undefined, body: string | Buffer, headers: Record<string, string> = {}): Promise<Sent> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), 'content-type': 'application/json', ...headers },
    body,
  });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

describe('authorize, direct and routed paths', () => {
  it('a gzip-compressed or trailing-slash authorize (read by express) answers exactly as the plain one', async () => {
    const { key, email, url } = await orgWithKey();
    for (const [body, permission] of [
      [{ user: { email }, permission: 'resources:use' }, 'allowed'],
      [{ user: { email }, permission: 'member:invite' }, 'refused'],
      [{ user: { email: 'nobody@direct.test' }, permission: 'org:view' }, 'stranger'],
      [{ user: { email: 'not-an-email' }, permission: 'org:view' }, 'bad input'],
    ] as const) {
      const text = JSON.stringify(body);
      const plain = await post(url, key, text);
      const gzip = await post(url, key, gzipSync(text), { 'content-encoding': 'gzip' });
      const slash = await post(`${url}/`, key, text);
      for (const other of [gzip, slash]) {
        expect([other.status, other.headers.get('content-type'), JSON.parse(other.text)], permission).toEqual([
          plain.status,
          plain.headers.get('content-type'),
          JSON.parse(plain.text),
        ]);
      }
    }
  });

  it('without a key it is 401 with WWW-Authenticate, before the body is read', async () => {
    const { url } = await orgWithKey();
    const r = await post(url, undefined, '{"user":');
    expect(r.status).toBe(401);
    expect(r.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(JSON.parse(r.text)).toMatchObject({ code: 'api_unauthorized' });
  });

  it('a body streamed without Content-Length past 100 kB is 413, and the server goes on answering', async () => {
    const { key, url } = await orgWithKey();
    const target = new URL(url);
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        {
          host: target.hostname,
          port: target.port,
          path: target.pathname,
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      // Chunked: no length to refuse up front, so the limit is counted as the body arrives.
      const chunk = `"${'x'.repeat(16 * 1024)}",`;
      req.write('{"pad":[');
      for (let i = 0; i < 10; i++) req.write(chunk);
      req.end('""]}');
    });
    expect(status).toBe(413);
    expect((await post(url, key, JSON.stringify({ user: { email: 'a@b.test' }, permission: 'org:view' }))).status).toBe(200);
  });

  it('a 5 MB body written in full before reading is answered 413 (not reset), and the same connection answers next', async () => {
    const { key, email, url } = await orgWithKey();
    const target = new URL(url);
    const ok = JSON.stringify({ user: { email }, permission: 'org:view' });
    const head = (length: number) =>
      `POST ${target.pathname} HTTP/1.1\r\nHost: ${target.host}\r\nAuthorization: Bearer ${key}\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`;
    const big = Buffer.alloc(5 * 1024 * 1024, 0x20);
    const answers = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(target.port), target.hostname);
      let text = '';
      socket.on('data', (d) => {
        text += d.toString('latin1');
        if ((text.match(/HTTP\/1\.1 /g) ?? []).length >= 2 && text.endsWith('}')) {
          socket.end();
          resolve(text);
        }
      });
      socket.on('error', reject);
      socket.write(head(big.length));
      socket.write(big);
      socket.write(head(Buffer.byteLength(ok)) + ok);
    });
    expect([...answers.matchAll(/HTTP\/1\.1 (\d+)/g)].map((m) => m[1])).toEqual(['413', '200']);
    expect(answers).toContain('payload_too_large');
  });

  it('a body that starts with a UTF-8 byte-order mark is read as express reads it (the mark dropped)', async () => {
    const { key, email, url } = await orgWithKey();
    const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify({ user: { email }, permission: 'resources:use' }))]);
    const direct = await post(url, key, body);
    const routed = await post(`${url}/`, key, body);
    expect(direct.status).toBe(200);
    expect(JSON.parse(direct.text)).toEqual(JSON.parse(routed.text));
    expect(JSON.parse(direct.text)).toMatchObject({ allowed: true });
  });

  it('Content-Type parameters are read as express reads them', async () => {
    const { key, email, url } = await orgWithKey();
    const text = JSON.stringify({ user: { email }, permission: 'org:view' });
    for (const type of ['APPLICATION/JSON;CHARSET=UTF-8', 'application/json ; charset="utf-8"', 'application/json\u00a0']) {
      const direct = await post(url, key, text, { 'content-type': type });
      const routed = await post(`${url}/`, key, text, { 'content-type': type });
      expect(direct.status, type).toBe(routed.status);
    }
  });

  it('a charset other than UTF-8 goes to express and is refused as it always was; a JSON string body is 400', async () => {
    const { key, url } = await orgWithKey();
    const latin = await post(url, key, '{}', { 'content-type': 'application/json; charset=iso-8859-1' });
    expect(latin.status).toBe(415);
    expect(latin.headers.get('content-type')).toContain('application/problem+json');
    for (const raw of ['"just a string"', '  42', '{"user": {"email": "a@b.test"}, "permission": "org:view"} trailing']) {
      const r = await post(url, key, raw);
      expect(r.status, raw).toBe(400);
      expect(JSON.parse(r.text)).toMatchObject({ code: 'invalid_request' });
    }
  });

  it("one key's per-minute limit counts requests on both paths", async () => {
    const base = await harness().another({ API_RATE_LIMIT: '4' });
    const { key, email, url } = await orgWithKey(base);
    const text = JSON.stringify({ user: { email }, permission: 'resources:use' });
    const statuses = [
      (await post(url, key, text)).status,
      (await post(url, key, gzipSync(text), { 'content-encoding': 'gzip' })).status,
      (await post(url, key, text)).status,
      (await post(`${url}/`, key, text)).status,
    ];
    expect(statuses).toEqual([200, 200, 200, 200]);
    const over = await post(url, key, text);
    expect(over.status).toBe(429);
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await post(url, key, gzipSync(text), { 'content-encoding': 'gzip' })).status).toBe(429);
  });

  it('is counted in /metrics under the api surface', async () => {
    const { key, email, url } = await orgWithKey();
    const count = async () => {
      const text = await (await fetch(`${harness().baseUrl}/metrics`)).text();
      const line = text.split('\n').find((l) => l.startsWith('roster_http_requests_total{surface="api",status="2xx"} '));
      return Number(line?.split(' ')[1] ?? 0);
    };
    const before = await count();
    for (let i = 0; i < 3; i++) expect((await post(url, key, JSON.stringify({ user: { email }, permission: 'org:view' }))).status).toBe(200);
    expect((await count()) - before).toBe(3);
  });
});
