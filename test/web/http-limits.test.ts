import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/wait.js';
import { useInviteRoster } from './harness.js';

// Slowly fed and idle sockets must not be able to hold a Roster process (slowloris): the server ends
// them on its own, and refuses connections beyond its cap, while answering everyone else.

const harness = useInviteRoster({
  HTTP_HEADERS_TIMEOUT_MS: '1000',
  HTTP_REQUEST_TIMEOUT_MS: '2000',
  HTTP_KEEP_ALIVE_TIMEOUT_MS: '1000',
  HTTP_MAX_CONNECTIONS: '60',
});

function port(): number {
  return Number(new URL(harness().baseUrl).port);
}

/** A socket that starts a request and then feeds a header byte now and then, never finishing. */
function slowClient(): { socket: net.Socket; connected: Promise<void>; closed: Promise<number> } {
  const started = Date.now();
  const socket = net.connect(port(), '127.0.0.1');
  socket.on('error', () => {});
  socket.on('connect', () => socket.write('GET /healthz HTTP/1.1\r\nHost: roster.test\r\nX-Slow: '));
  const connected = new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  const drip = setInterval(() => socket.writable && socket.write('a'), 200);
  const closed = new Promise<number>((resolve) =>
    socket.once('close', () => {
      clearInterval(drip);
      resolve(Date.now() - started);
    }),
  );
  return { socket, connected, closed };
}

async function healthz(): Promise<number> {
  const r = await fetch(`${harness().baseUrl}/healthz`, { signal: AbortSignal.timeout(5_000) });
  await r.text();
  return r.status;
}

describe('HTTP limits', () => {
  it('a client that never finishes its headers is disconnected once the headers timeout passes', async () => {
    const clients = Array.from({ length: 40 }, slowClient);
    const times = await Promise.race([
      Promise.all(clients.map((c) => c.closed)),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('slow clients were still connected after 8 s')), 8_000)),
    ]).finally(() => clients.forEach((c) => c.socket.destroy()));
    for (const t of times) expect(t).toBeLessThan(8_000);
    expect(await healthz()).toBe(200);
  });

  it('connections beyond HTTP_MAX_CONNECTIONS are refused at once, and the server answers again when they go', async () => {
    const held = Array.from({ length: 60 }, slowClient);
    // All 60 are in the server's accept queue ahead of the next one.
    await Promise.all(held.map((c) => c.connected));
    const extra = slowClient();
    // The one over the cap is closed right away, long before any timeout.
    const extraClosedAfter = await extra.closed;
    expect(extraClosedAfter).toBeLessThan(900);
    held.forEach((c) => c.socket.destroy());
    await Promise.all(held.map((c) => c.closed));
    // The server counts a connection as gone once it has seen it close: answered again from then on.
    await waitFor(async () => (await healthz().catch(() => 0)) === 200, '/healthz to answer 200 again', { timeoutMs: 5_000, intervalMs: 50 });
  });
});
