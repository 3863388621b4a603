import { randomUUID } from 'node:crypto';
import autocannon from 'autocannon';
import type { SignedRequest } from './slack.js';

/** Concurrent connections of every load run. */
export const CONNECTIONS = 10;

/** autocannon with the benches' defaults (CONNECTIONS; `duration` seconds unless opts say otherwise). */
export function cannon(duration: number, opts: autocannon.Options): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    autocannon({ connections: CONNECTIONS, duration, ...opts }, (err, res) => (err ? reject(err) : resolve(res)));
  });
}

export const rps = (r: autocannon.Result) => Math.round(r.requests.average);
export const errorsOf = (r: autocannon.Result) => r.errors + r.timeouts + r.non2xx;

const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

/** SCIM POST /Users, a new user u-<run>-<n>@bench.test each time. */
export function scimCreateUsers(): autocannon.Request[] {
  let seq = 0;
  const run = randomUUID().slice(0, 8);
  return [
    {
      method: 'POST',
      setupRequest: (req: any) => {
        const userName = `u-${run}-${seq++}@bench.test`;
        return {
          ...req,
          path: '/scim/v2/Users',
          body: JSON.stringify({
            schemas: [USER_SCHEMA],
            userName,
            name: { givenName: 'B', familyName: 'U' },
            emails: [{ value: userName, type: 'work', primary: true }],
            active: true,
          }),
        };
      },
    },
  ];
}

/** SCIM GET /Users?filter=userName eq "seed<i>@bench.test", i random below `size` (seedScimUsers' names). */
export function scimFilterUsers(size: number): autocannon.Request[] {
  return [
    {
      setupRequest: (req: any) => ({
        ...req,
        path: `/scim/v2/Users?filter=${encodeURIComponent(`userName eq "seed${Math.floor(Math.random() * size)}@bench.test"`)}`,
      }),
    },
  ];
}

/** SCIM PATCH active (true or false at random) on a user picked by `pick`. */
export function scimPatchActive(pick: () => string | undefined): autocannon.Request[] {
  return [
    {
      method: 'PATCH',
      setupRequest: (req: any) => ({
        ...req,
        path: `/scim/v2/Users/${pick()}`,
        body: JSON.stringify({ schemas: [PATCH_SCHEMA], Operations: [{ op: 'replace', value: { active: Math.random() < 0.5 } }] }),
      }),
    },
  ];
}

/** POSTs, each with the body and headers `next` gives (a freshly signed Slack request). */
export function signedPosts(next: () => SignedRequest): autocannon.Request[] {
  return [
    {
      method: 'POST',
      setupRequest: (req: any) => {
        const r = next();
        return { ...req, body: r.body, headers: { ...req.headers, ...r.headers } };
      },
    },
  ];
}

/** The Authorization and content type of SCIM requests with the token. */
export const scimHeaders = (token: string) => ({ authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' });

/** The value at percentile p of ascending numbers. */
export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export type PacedResult = { sent: number; errors: number; p50: number; p99: number; max: number };

/**
 * An open-loop load at an even rate (one request every 1/rate s, each timed from when it was due, so a
 * stall counts against every request it delays): latency as a product sending steady traffic sees it.
 * autocannon's `overallRate` sends each second's quota in a burst, which measures its own bursts.
 */
export async function paced(
  seconds: number,
  rate: number,
  req: { url: string; method?: string; headers?: Record<string, string>; body?: string },
): Promise<PacedResult> {
  const { request, Agent } = await import('node:http');
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const url = new URL(req.url);
  const latencies: number[] = [];
  let errors = 0;
  const total = Math.round(seconds * rate);
  const start = performance.now();
  const one = (due: number) =>
    new Promise<void>((resolve) => {
      const r = request(
        { agent, host: url.hostname, port: url.port, path: url.pathname + url.search, method: req.method ?? 'GET', headers: req.headers },
        (res) => {
          res.resume();
          res.once('end', () => {
            if ((res.statusCode ?? 0) >= 300) errors++;
            latencies.push(performance.now() - due);
            resolve();
          });
        },
      );
      r.once('error', () => {
        errors++;
        resolve();
      });
      r.end(req.body);
    });
  const inflight: Promise<void>[] = [];
  let sent = 0;
  while (sent < total) {
    const now = performance.now();
    const dueCount = Math.min(total, Math.floor(((now - start) / 1000) * rate) + 1);
    for (; sent < dueCount; sent++) inflight.push(one(start + (sent / rate) * 1000));
    await new Promise((r) => setTimeout(r, 1));
  }
  await Promise.all(inflight);
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const ms = (v: number) => Math.round(v * 10) / 10;
  return { sent, errors, p50: ms(percentile(latencies, 50)), p99: ms(percentile(latencies, 99)), max: ms(latencies.at(-1) ?? 0) };
}
