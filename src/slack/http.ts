import http from 'node:http';
import https from 'node:https';

/** Idle sockets close after 4 s, as undici's (fetch's) do; a server's shorter Keep-Alive hint wins. */
const agents = {
  http: new http.Agent({ keepAlive: true, timeout: 4_000 }),
  https: new https.Agent({ keepAlive: true, timeout: 4_000 }),
};
/**
 * An answer that takes longer than this is given up on: fetch's own limit for the headers. Not shorter:
 * the WebClient retries a timed-out call, and a slow but successful chat.postMessage would post twice.
 */
const REQUEST_TIMEOUT_MS = 300_000;

/**
 * The `fetch` Bolt (respond() to a response_url) and its WebClient (Web API calls) are given.
 * Every slash command ends with a respond() POST; through undici's fetch that POST cost ~0.6 ms of CPU
 * (spec Request/Headers objects, web streams) against ~0.1 ms through node:http with a keep-alive agent,
 * measured with bench/slack-ack.ts. The simple requests both libraries send (a string body, a plain
 * header object, no abort signal) take that path and get a real Response back; anything else goes to
 * the global fetch unchanged.
 */
export const slackFetch: typeof fetch = (input, init) => {
  const url = typeof input === 'string' ? safeUrl(input) : input instanceof URL ? input : undefined;
  const body = init?.body ?? undefined;
  const headers = init?.headers ?? {};
  const simple =
    url !== undefined &&
    (url.protocol === 'http:' || url.protocol === 'https:') &&
    (body === undefined || typeof body === 'string') &&
    !init?.signal &&
    Object.getPrototypeOf(headers) === Object.prototype;
  if (!simple) return fetch(input, init);
  return new Promise<Response>((resolve, reject) => {
    const outgoing: Record<string, string> = { ...(headers as Record<string, string>) };
    if (body !== undefined) outgoing['content-length'] = String(Buffer.byteLength(body));
    const secure = url.protocol === 'https:';
    const req = (secure ? https : http).request(
      url,
      { method: init?.method ?? 'GET', headers: outgoing, agent: secure ? agents.https : agents.http },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (err) => reject(new TypeError('fetch failed', { cause: err })));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          // Neither Slack's Web API nor a response_url redirects. If one ever does, the redirect is the
          // answer: following it would send the request (a message, a DM) a second time.
          if (status >= 300 && status < 400 && init?.redirect === 'error')
            return reject(new TypeError('fetch failed', { cause: new Error('unexpected redirect') }));
          resolve(toResponse(status, res, chunks));
        });
      },
    );
    req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)));
    req.on('error', (err) => reject(new TypeError('fetch failed', { cause: err })));
    req.end(body);
  });
};

function safeUrl(s: string): URL | undefined {
  try {
    return new URL(s);
  } catch {
    return undefined;
  }
}

function toResponse(status: number, res: http.IncomingMessage, chunks: Buffer[]): Response {
  const headers = new Headers();
  const raw = res.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) headers.append(raw[i]!, raw[i + 1]!);
  const nullBody = status === 101 || status === 204 || status === 205 || status === 304;
  return new Response(nullBody ? null : Buffer.concat(chunks), { status, statusText: res.statusMessage ?? '', headers });
}
