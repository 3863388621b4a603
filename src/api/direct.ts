import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Gate } from './gate.js';
import { API_BASE } from './openapi.js';
import { bodyTooLarge, bodyUnreadable, sendError, sendProblem, sendRefusal, type Problem } from './problem.js';
import { bodySent, runRoute, sendAnswer, type RouteDeps } from './route.js';
import { authorizeInOrg } from './routes/orgs.js';

/**
 * The authorize call without express: the one request a product makes on every one of its own, so it is
 * read straight off Node's request (express's router and send allocate about half of what an authorize
 * costs, and that garbage set the p99; bench/RESULTS.md). It is the same route as the routed path: the
 * same gate (limits shared), the same runRoute (validation, handler, answer shape), the same writers.
 * Only the common request takes this path — `POST /api/v1/orgs/{org}/authorize` with a JSON body,
 * uncompressed; anything else (another media type, gzip, a trailing slash) goes to express, which answers
 * it the same way it always has.
 */
export type DirectRoute = {
  /** The org named in the path when this request is for the direct path, else undefined. */
  match: (req: IncomingMessage) => string | undefined;
  /** Answers it (never throws; a failure is answered like express's error handler would). */
  serve: (req: IncomingMessage, res: ServerResponse, org: string, ip: string) => Promise<void>;
};

const PATH = new RegExp(`^${API_BASE}/orgs/([^/?#]+)/authorize(?:\\?.*)?$`);
const JSON_TYPE = /^application\/json[ \t]*(?:;[ \t]*charset[ \t]*=[ \t]*"?utf-8"?[ \t]*)?$/i;
/** Decodes as body-parser does (iconv-lite's utf-8): invalid bytes become U+FFFD, a leading BOM is dropped. */
const utf8 = new TextDecoder();
/** express.json's limit, '100kb'. */
const LIMIT = 100 * 1024;

export function directAuthorize(deps: RouteDeps & { log: NonNullable<RouteDeps['log']> }, gate: Gate): DirectRoute {
  const match = (req: IncomingMessage) => {
    if (req.method !== 'POST') return undefined;
    const m = PATH.exec(req.url ?? '');
    const type = req.headers['content-type'];
    const encoding = req.headers['content-encoding'];
    if (!m || type === undefined || !JSON_TYPE.test(type) || (encoding !== undefined && encoding.toLowerCase() !== 'identity')) return undefined;
    try {
      return decodeURIComponent(m[1]!);
    } catch {
      return undefined;
    }
  };

  const serve = async (req: IncomingMessage, res: ServerResponse, org: string, ip: string) => {
    try {
      // The key first, as on every API path: a caller without one is told so (401), whatever its body.
      const verdict = await gate(ip, req.headers.authorization);
      if (!('actor' in verdict)) return sendRefusal(res, verdict);
      const text = await readBody(req);
      if (text === undefined) return; // the caller went away
      if (typeof text !== 'string') return sendProblem(res, text);
      const body = parseStrict(text);
      if (body instanceof Error) return sendProblem(res, bodyUnreadable());
      sendAnswer(res, await runRoute(authorizeInOrg, deps, { actor: verdict.actor, params: { org }, query: {}, body, sent: bodySent(req), json: true }));
    } catch (err) {
      sendError(res, err, deps.log);
    }
  };

  return { match, serve };
}

/** The body as text (UTF-8, a BOM dropped, as body-parser reads it); a problem when it is over the limit; undefined when the request broke off. */
function readBody(req: IncomingMessage): Promise<string | Problem | undefined> {
  if (req.destroyed) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    // As body-parser: an over-long body is read off to its end (and thrown away) before the 413, so the
    // connection stays usable and a client that writes its whole body before reading is not reset.
    let over = Number(req.headers['content-length']) > LIMIT;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= LIMIT) return void chunks.push(chunk);
      over = true;
      chunks.length = 0;
      req.off('data', onData);
      req.resume();
    };
    if (over) req.resume();
    else req.on('data', onData);
    req.once('end', () => resolve(over ? bodyTooLarge() : utf8.decode(Buffer.concat(chunks, size))));
    req.once('error', () => resolve(undefined));
    req.once('close', () => resolve(undefined));
  });
}

/**
 * JSON as express.json (strict) reads it: an empty body is {}, and only an object or an array is a body
 * (body-parser's first-character check); anything else is an Error.
 */
function parseStrict(text: string): unknown {
  const first = /^[ \t\n\r]*([\s\S])/.exec(text)?.[1];
  if (first === undefined) return {};
  if (first !== '{' && first !== '[') return new Error('not an object or array');
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    return err as Error;
  }
}
