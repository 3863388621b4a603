import { createHmac } from 'node:crypto';
import dns from 'node:dns';
import { Resolver } from 'node:dns/promises';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';
import { WEBHOOK_ATTEMPT_MS, type AttemptResult, type WebhookRequest } from '../domain/webhooks/index.js';

/**
 * The "how" of webhooks: a Standard Webhooks signed POST with Node's own HTTP client, each attempt bounded,
 * no redirects followed, and (unless allowed) no private, loopback or link-local address reached — checked
 * on the address the socket connects to, after DNS, so a name that resolves (or re-resolves) to one is
 * refused too.
 */

/** What is read of a receiver's answer (for the error shown to owners); the rest is dropped. */
const MAX_ANSWER_BYTES = 4_096;

/** Standard Webhooks' signature header: `v1,<base64 HMAC-SHA256 of id.timestamp.body>` per secret, space-separated. */
export function signatureHeader(secrets: string[], id: string, timestamp: number, body: string): string {
  return secrets
    .map((s) => {
      const key = Buffer.from(s.startsWith('whsec_') ? s.slice('whsec_'.length) : s, 'base64');
      return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
    })
    .join(' ');
}

/** Only public unicast addresses, unless private ones are allowed (tests, intranet deployments). */
export function addressAllowed(address: string, allowPrivate: boolean): boolean {
  if (allowPrivate) return true;
  if (!ipaddr.isValid(address)) return false;
  // An IPv4-mapped IPv6 address (::ffff:127.0.0.1) is judged as the IPv4 address it is.
  return ipaddr.process(address).range() === 'unicast';
}

class AddressRefused extends Error {
  override name = 'AddressRefused';
}

export type WebhookSenderOptions = {
  /** Reach private, loopback and link-local addresses (WEBHOOKS_ALLOW_PRIVATE): off by default. */
  allowPrivate: boolean;
  /** DNS servers (host:port) to resolve receivers' names with; none: the system's resolver. */
  dnsServers?: string[] | undefined;
  attemptMs?: number;
  userAgent?: string;
};

export function createWebhookSender(opts: WebhookSenderOptions) {
  const attemptMs = opts.attemptMs ?? WEBHOOK_ATTEMPT_MS;
  const resolver = opts.dnsServers?.length ? new Resolver({ timeout: 3_000, tries: 2 }) : undefined;
  if (resolver && opts.dnsServers) resolver.setServers(opts.dnsServers);

  const resolve = async (host: string): Promise<{ address: string; family: number }[]> => {
    if (!resolver) {
      const all = await dns.promises.lookup(host, { all: true });
      return all.map((a) => ({ address: a.address, family: a.family }));
    }
    const [v4, v6] = await Promise.all([resolver.resolve4(host).catch(() => []), resolver.resolve6(host).catch(() => [])]);
    const found = [...v4.map((address) => ({ address, family: 4 })), ...v6.map((address) => ({ address, family: 6 }))];
    if (!found.length) throw Object.assign(new Error(`the name ${host} does not resolve`), { code: 'ENOTFOUND' });
    return found;
  };

  // Called for every connection the agents open (not for IP literals: those are checked before the request).
  const lookup: LookupFunction = (hostname, options, callback) => {
    resolve(hostname).then(
      (found) => {
        const allowed = found.filter((a) => addressAllowed(a.address, opts.allowPrivate));
        if (!allowed.length) {
          const refused = new AddressRefused(`${hostname} resolves to ${found[0]!.address}, a private, loopback or link-local address`);
          return callback(refused as NodeJS.ErrnoException, '', 0);
        }
        if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, a: typeof allowed) => void)(null, allowed);
        callback(null, allowed[0]!.address, allowed[0]!.family);
      },
      (err: NodeJS.ErrnoException) => callback(err, '', 0),
    );
  };

  const agents = {
    http: new http.Agent({ keepAlive: true, maxSockets: 32, lookup } as http.AgentOptions),
    https: new https.Agent({ keepAlive: true, maxSockets: 32, lookup } as https.AgentOptions),
  };

  /** Sends one attempt; never throws: the result says how it went. */
  async function send(req: WebhookRequest): Promise<AttemptResult> {
    const url = new URL(req.url);
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    if (ipaddr.isValid(host) && !addressAllowed(host, opts.allowPrivate))
      return { ok: false, status: null, error: `refused: ${host} is a private, loopback or link-local address` };
    const headers = {
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(req.body)),
      'user-agent': opts.userAgent ?? 'Roster-Webhooks',
      'webhook-id': req.id,
      'webhook-timestamp': String(req.timestamp),
      'webhook-signature': signatureHeader(req.secrets, req.id, req.timestamp, req.body),
    };
    const client = url.protocol === 'https:' ? https : http;
    const agent = url.protocol === 'https:' ? agents.https : agents.http;
    return new Promise<AttemptResult>((done) => {
      let settled = false;
      const finish = (r: AttemptResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        done(r);
      };
      const request = client.request(url, { method: 'POST', headers, agent }, (res) => {
        const status = res.statusCode ?? 0;
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          if (size < MAX_ANSWER_BYTES) chunks.push(c);
          size += c.length;
        });
        res.on('error', () => {});
        res.on('end', () => {
          if (status >= 200 && status < 300) return finish({ ok: true, status });
          const answer = Buffer.concat(chunks).toString('utf8').slice(0, 300).replace(/\s+/g, ' ').trim();
          const redirect =
            status >= 300 && status < 400
              ? ` (redirects are not followed${res.headers.location ? `: to ${String(res.headers.location).slice(0, 200)}` : ''})`
              : '';
          finish({
            ok: false,
            status,
            error: `HTTP ${status}${redirect}${answer ? `: ${answer}` : ''}`,
            retryAfterMs: retryAfterMs(res.headers['retry-after']),
            gone: status === 410,
          });
        });
      });
      const timer = setTimeout(() => {
        const error = `no answer within ${Math.round(attemptMs / 1000)} s`;
        finish({ ok: false, status: null, error });
        request.destroy(new Error(error));
      }, attemptMs);
      request.on('error', (err: NodeJS.ErrnoException) => {
        const why = err instanceof AddressRefused || err.name === 'AddressRefused' ? `refused: ${err.message}` : err.message || err.code || 'connection failed';
        finish({ ok: false, status: null, error: why });
      });
      request.end(req.body);
    });
  }

  function close(): void {
    agents.http.destroy();
    agents.https.destroy();
  }

  return { send, close, maxAttemptMs: attemptMs };
}

export type WebhookSender = ReturnType<typeof createWebhookSender>;

/** Retry-After in seconds or as an HTTP date, in ms from now. */
function retryAfterMs(value: string | string[] | undefined): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return undefined;
  if (/^\d{1,9}$/.test(v.trim())) return Number(v.trim()) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}
