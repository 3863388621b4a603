import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express, { type Router } from 'express';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebApp } from '../../src/web/server.js';
import { useInviteRoster } from './harness.js';

/**
 * The app's last error handler (issue 10 §2): whatever no router answers gets the surface's own format
 * (SCIM error JSON under /scim/v2, JSON for /slack, a plain page elsewhere), never a stack trace, a
 * server path or express's default page.
 */

const STACK = /\n\s+at |node_modules|\/work\/|URIError|TypeError|Error: boom|Cannot (GET|POST)|<pre>/;

describe('the real app', () => {
  const roster = useInviteRoster();

  it('a path nobody serves is Roster\'s own 404 page, never express\'s "Cannot GET"', async () => {
    const h = roster();
    for (const path of ['/nope', '/%', '/%E0%A4%A', '/invitations/x', '/healthz/%zz']) {
      const r = await h.get(path);
      expect(r.status, path).toBe(404);
      expect(r.headers.get('content-type')).toMatch(/text\/html/);
      expect(r.text).toMatch(/Page not found/);
      expect(r.text).not.toMatch(STACK);
    }
  });

  it('GET / is a small page saying what runs here and linking to health, the API reference and SCIM, not "Cannot GET /"', async () => {
    const h = roster();
    const r = await h.get('/');
    expect(r.status).toBe(200);
    expect(r.text).toMatch(/<h1>Roster \d+\.\d+\.\d+<\/h1>/);
    expect(r.text).toContain('href="/healthz"');
    expect(r.text).toContain('href="/api/docs"');
    expect(r.text).toContain('/scim/v2');
    expect(r.text).not.toMatch(STACK);
  });

  it('a path under /slack that nothing serves is answered as JSON', async () => {
    const h = roster();
    const r = await h.get('/slack/nothing');
    expect(r.status).toBe(404);
    expect(JSON.parse(r.text)).toMatchObject({ ok: false, error: 'not_found' });
  });
});

/** createWebApp with routers that fail in the given way, on 127.0.0.1. */
function appWith(fail: (path: string) => unknown) {
  const failing = (): Router => {
    const r = express.Router();
    r.use((req, _res, next) => next(fail(req.path)));
    return r;
  };
  const logged: unknown[] = [];
  const log = { error: (o: unknown) => logged.push(o), warn: (o: unknown) => logged.push(o) } as never;
  const app = createWebApp({
    pool: {} as pg.Pool,
    databaseUp: async () => true,
    version: 'test',
    slackMode: 'http',
    slackRouter: express.Router().use('/slack', failing()),
    scimRouter: failing(),
    inviteRouter: failing(),
    log,
  });
  return { app, logged };
}

describe('errors no router handled', () => {
  let server: Server;
  let base = '';
  let current: (path: string) => unknown = () => new Error('boom');
  let logged: unknown[] = [];
  beforeAll(async () => {
    const made = appWith((p) => current(p));
    logged = made.logged;
    server = await new Promise<Server>((resolve) => {
      const s = made.app.listen(0, '127.0.0.1', () => resolve(s));
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => server?.close(r));
  });

  async function fetchAll(fails: (path: string) => unknown) {
    current = fails;
    const get = async (path: string) => {
      const res = await fetch(`${base}${path}`);
      return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text(), headers: res.headers };
    };
    return { scim: await get('/scim/v2/Users'), slack: await get('/slack/events'), page: await get('/invites/abc') };
  }

  it("an unexpected error is a 500 in each surface's format with a reference, and is logged; never a stack", async () => {
    logged.length = 0;
    const { scim, slack, page } = await fetchAll(() => Object.assign(new Error('boom'), { stack: 'Error: boom\n    at /work/main/src/x.ts:1:1' }));
    for (const r of [scim, slack, page]) {
      expect(r.status).toBe(500);
      expect(r.text).not.toMatch(STACK);
      expect(r.text).toMatch(/ref [0-9a-f]{8}/);
    }
    expect(scim.type).toMatch(/application\/scim\+json/);
    expect(JSON.parse(scim.text)).toMatchObject({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '500' });
    expect(slack.type).toMatch(/application\/json/);
    expect(JSON.parse(slack.text)).toMatchObject({ ok: false, error: 'internal_error' });
    expect(page.type).toMatch(/text\/html/);
    expect(page.text).toMatch(/Something went wrong on our side/);
    expect(logged).toHaveLength(3);
  });

  it("a malformed URI (a URIError, or express's 400 for bad percent-encoding) is a 400 in each surface's format", async () => {
    for (const make of [() => new URIError('URI malformed'), () => Object.assign(new URIError("Failed to decode param '%'"), { status: 400 })]) {
      const { scim, slack, page } = await fetchAll(make);
      for (const r of [scim, slack, page]) {
        expect(r.status).toBe(400);
        expect(r.text).not.toMatch(STACK);
      }
      expect(JSON.parse(scim.text)).toMatchObject({ status: '400', scimType: 'invalidSyntax' });
      expect(JSON.parse(slack.text)).toMatchObject({ ok: false, error: 'invalid_request' });
      expect(page.text).toMatch(/could not be read/);
    }
  });

  it("a body parser's own 4xx keeps its status: entity.too.large is 413, entity.parse.failed 400", async () => {
    const tooLarge = await fetchAll(() => Object.assign(new Error('request entity too large'), { status: 413, type: 'entity.too.large' }));
    for (const r of Object.values(tooLarge)) expect(r.status).toBe(413);
    expect(JSON.parse(tooLarge.scim.text)).toMatchObject({ status: '413' });
    const parse = await fetchAll(() => Object.assign(new SyntaxError('Unexpected token'), { status: 400, type: 'entity.parse.failed' }));
    for (const r of Object.values(parse)) {
      expect(r.status).toBe(400);
      expect(r.text).not.toMatch(/Unexpected token/);
    }
  });

  it("PostgreSQL's encoding and range errors (22021, 22P02, 22P05, 22003), wrapped as drizzle wraps them, are a 400", async () => {
    for (const code of ['22021', '22P02', '22P05', '22003']) {
      const { scim, slack, page } = await fetchAll(() =>
        Object.assign(new Error('Failed query: insert into …'), {
          cause: Object.assign(new Error('invalid byte sequence for encoding "UTF8": 0x00'), { code }),
        }),
      );
      for (const r of [scim, slack, page]) {
        expect(r.status, code).toBe(400);
        expect(r.text).not.toMatch(/Failed query|byte sequence/);
      }
      expect(JSON.parse(scim.text)).toMatchObject({ status: '400', scimType: 'invalidValue' });
    }
  });

  it('an unreachable database is a 503 with Retry-After', async () => {
    const { scim, page } = await fetchAll(() => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }));
    for (const r of [scim, page]) {
      expect(r.status).toBe(503);
      expect(r.headers.get('retry-after')).toBe('30');
      expect(r.text).not.toMatch(/ECONNREFUSED|5432/);
    }
  });
});
