import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { textProblem } from '../../src/domain/validation.js';
import { GROUP_SCHEMA, PATCH_SCHEMA, USER_SCHEMA, useScimRoster } from '../helpers/scim.js';
import { useSlackRoster } from '../helpers/slack.js';

/**
 * Property-based fuzzing of what strangers can send: SCIM filters, attribute lists, paging numbers and
 * bodies (PATCH, users, groups, raw deeply nested JSON), slash-command text, invite links and the invite
 * form. Whatever arrives, Roster answers with a client error or a success — never a 5xx, never a crash —
 * and nothing it answers (so nothing it stored) holds a character it refuses. (npm test runs a few
 * thousand cases; `npm run bench:fuzz`, and `npm run bench` with it, run 100,000.)
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 800);

/**
 * Characters Roster refuses (issue 10 §2: C0 and C1 controls, DEL, unpaired surrogates), beside some it
 * keeps (tab and new line in free text, emoji as surrogate pairs, no-break and zero-width spaces, BOM).
 */
const hostileChar = fc.constantFrom(
  '\u0000',
  '\u0001',
  '\u0007',
  '\b',
  '\t',
  '\n',
  '\v',
  '\f',
  '\r',
  '\u001b',
  '\u001f',
  '\u007f',
  '\u0080',
  '\u0085',
  '\u009b',
  '\u009f',
  '\ud800',
  '\udbff',
  '\udc00',
  '\udfff',
  '\ud83d',
  '😀',
  'é',
  '\u00a0',
  '\u200b',
  '\u202e',
  '\ufeff',
);
/** Text with hostile characters spliced in anywhere. */
const hostileString = fc.array(fc.oneof(fc.string({ maxLength: 6 }), hostileChar), { minLength: 1, maxLength: 6 }).map((parts) => parts.join(''));
/** Any text a client may send: printable, hostile, or any code points at all. */
const anyText = fc.oneof(fc.string({ maxLength: 12 }), hostileString, fc.string({ unit: 'binary', maxLength: 8 }));
/** Numbers as a query string carries them: small and negative, past 2^53 and 2^63, exponents, junk. */
const numberText = fc.oneof(
  fc.integer({ min: -5, max: 3000 }).map(String),
  fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map(String),
  fc.constantFrom(
    '9007199254740991',
    '9007199254740993',
    '9223372036854775807',
    '9223372036854775808',
    '18446744073709551616',
    '1e400',
    '1'.padEnd(400, '0'),
    'NaN',
    'Infinity',
    '-0',
    '0x10',
    '1.5',
    '',
  ),
);
/** Raw JSON nested from shallow to far past Roster's limit (32 levels): arrays, objects, or both in turn. */
const deepJson = fc.tuple(fc.integer({ min: 1, max: 20_000 }), fc.constantFrom('arrays', 'objects', 'mixed')).map(([depth, kind]) => {
  const isArray = (i: number) => kind === 'arrays' || (kind === 'mixed' && i % 2 === 1);
  const parts: string[] = [];
  for (let i = 0; i < depth; i++) parts.push(isArray(i) ? '[' : '{"a":');
  parts.push('1');
  for (let i = depth - 1; i >= 0; i--) parts.push(isArray(i) ? ']' : '}');
  return { depth, text: parts.join('') };
});

/** A query value as a client's bytes: UTF-8, percent-encoded (an unpaired surrogate leaves as U+FFFD, as from any client). */
const enc = (s: string) =>
  [...Buffer.from(s, 'utf8')]
    .map((b) => (/[A-Za-z0-9_.~-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`))
    .join('');

function stringsOf(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const v of value) stringsOf(v, out);
  else if (value && typeof value === 'object') for (const v of Object.values(value)) stringsOf(v, out);
  return out;
}
/** Nothing Roster answers, and so nothing it stored, holds a character it refuses. */
function expectNoRefusedCharacters(body: unknown, context: string) {
  for (const s of stringsOf(body)) expect(textProblem(s), `${context}: ${JSON.stringify(s)}`).toBeUndefined();
}

const scimWords = [
  'userName',
  'externalId',
  'emails',
  'emails.value',
  'emails[type eq "work"].value',
  'name.givenName',
  'active',
  'id',
  'meta.created',
  'displayName',
  'members',
  'bogus',
  'urn:x',
];
const ops = ['eq', 'ne', 'co', 'sw', 'ew', 'pr', 'gt', 'ge', 'lt', 'le', 'EQ', 'xx', ''];
const values = fc.oneof(
  fc.constant('"a@b.c"'),
  fc.constant('true'),
  fc.constant('"True"'),
  fc.constant('null'),
  fc.constant('42'),
  fc.string({ maxLength: 12 }).map((s) => JSON.stringify(s)),
  fc.string({ maxLength: 8 }),
  hostileString.map((s) => JSON.stringify(s)),
  hostileString.map((s) => `"${s}"`),
  numberText,
  fc.constantFrom('"-100000-01-01T00:00:00Z"', '"+275760-09-13T00:00:00Z"', '"2026-01-01"'),
);
const filterExpr = fc.oneof(
  fc.tuple(fc.constantFrom(...scimWords), fc.constantFrom(...ops), values).map(([a, o, v]) => `${a} ${o} ${v}`.trim()),
  fc.string({ maxLength: 40 }),
  hostileString,
);
const filter = fc.array(fc.tuple(filterExpr, fc.constantFrom(' and ', ' or ', ' ', ' not ', ')', '(')), { minLength: 1, maxLength: 3 }).map((parts) =>
  parts
    .map(([e, j]) => e + j)
    .join('')
    .trim(),
);
/** attributes / excludedAttributes: real names, junk, filter syntax, hostile text, and lists far too long. */
const attributeList = fc.oneof(
  fc
    .array(fc.constantFrom(...scimWords, 'name', 'meta', 'groups', 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department', ''), {
      maxLength: 6,
    })
    .map((a) => a.join(',')),
  fc.integer({ min: 1, max: 3_000 }).map((n) => Array.from({ length: n }, () => 'id').join(',')),
  anyText,
  filter,
);

// Thousands of requests from one client in seconds: the request limits (tested on their own) are off.
const NO_LIMITS = { SCIM_RATE_LIMIT: '0', SCIM_AUTH_FAILURE_LIMIT: '0', INVITE_PAGE_RATE_LIMIT: '0' };
const scim = useScimRoster(NO_LIMITS);
const slack = useSlackRoster(NO_LIMITS);

describe('SCIM never answers 5xx to what a client sends', () => {
  it('filters, attribute lists and paging numbers: answered, or refused with 400 invalidFilter / invalidValue', async () => {
    const h = scim();
    const { token, mail } = await h.newOrgWithToken('Fuzz filters');
    await h.scim(token, 'POST', '/Users', { schemas: [USER_SCHEMA], userName: mail('fuzz') });
    const list = fc.record(
      { filter, attributes: attributeList, excludedAttributes: attributeList, startIndex: numberText, count: numberText },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(list, fc.constantFrom('/Users', '/Groups'), async (params, path) => {
        const query = Object.entries(params)
          .map(([k, v]) => `${k}=${enc(v)}`)
          .join('&');
        const r = await h.scim(token, 'GET', `${path}?${query}`);
        expect(r.status, `${query.slice(0, 300)} → ${r.text.slice(0, 200)}`).toBeLessThan(500);
        if (r.status === 400) expect(['invalidFilter', 'invalidValue']).toContain(r.body.scimType);
        if (r.status === 200) expect(r.body.Resources.length).toBeLessThanOrEqual(1000);
      }),
      { numRuns: RUNS },
    );
  });

  it('PATCH bodies: applied, or refused with a 4xx SCIM error', async () => {
    const h = scim();
    const { token, mail } = await h.newOrgWithToken('Fuzz patch');
    const created = await h.scim(token, 'POST', '/Users', { schemas: [USER_SCHEMA], userName: mail('patchme') });
    const id = created.body.id as string;
    const op = fc.record(
      {
        op: fc.constantFrom('add', 'replace', 'remove', 'Add', 'Replace', 'Remove', 'copy', ''),
        path: fc.oneof(
          fc.constantFrom('active', 'userName', 'name.givenName', 'emails[type eq "work"].value', 'externalId', 'displayName', 'groups', 'id', 'bogus[', ''),
          hostileString,
        ),
        value: fc.oneof(
          fc.boolean(),
          fc.constantFrom('True', 'False', 'x@y.z', ''),
          anyText,
          fc.integer(),
          fc.double(),
          fc.constant(null),
          fc.dictionary(fc.constantFrom('active', 'userName', 'displayName', 'externalId', 'name', 'x'), fc.oneof(fc.jsonValue({ maxDepth: 2 }), anyText), {
            maxKeys: 3,
          }),
        ),
      },
      { requiredKeys: ['op'] },
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 4 }), fc.boolean(), async (Operations, withSchema) => {
        const r = await h.scim(token, 'PATCH', `/Users/${id}`, { ...(withSchema ? { schemas: [PATCH_SCHEMA] } : {}), Operations });
        expect(r.status, `${JSON.stringify(Operations)} → ${r.text.slice(0, 200)}`).toBeLessThan(500);
        // Whatever happened, the user still reads back, holding no character Roster refuses.
        const again = await h.scim(token, 'GET', `/Users/${id}`);
        expect([200, 404]).toContain(again.status);
        expectNoRefusedCharacters(again.body, JSON.stringify(Operations));
      }),
      { numRuns: Math.ceil(RUNS / 2) },
    );
  });

  it('arbitrary JSON bodies on POST /Users never crash the server', async () => {
    const h = scim();
    const { token } = await h.newOrgWithToken('Fuzz post');
    await fc.assert(
      fc.asyncProperty(fc.jsonValue({ maxDepth: 3 }), async (body) => {
        const r = await h.scim(token, 'POST', '/Users', body);
        expect(r.status, `${JSON.stringify(body).slice(0, 200)} → ${r.text.slice(0, 200)}`).toBeLessThan(500);
      }),
      { numRuns: RUNS },
    );
  });

  it('users and groups with hostile strings in every attribute: created clean, or refused with 400 invalidValue', async () => {
    const h = scim();
    const { token, domain } = await h.newOrgWithToken('Fuzz strings');
    let n = 0;
    const user = fc.record(
      {
        userName: anyText,
        externalId: anyText,
        displayName: anyText,
        name: fc.record({ givenName: anyText, familyName: anyText }, { requiredKeys: [] }),
        emails: fc.array(
          fc.record({
            value: fc.oneof(
              anyText,
              // On the org's verified domain (access at once) or not (a pending membership): both paths.
              fc.tuple(anyText, fc.constantFrom(domain, 'example.com')).map(([s, d]) => `${s}@${d}`),
            ),
            type: fc.oneof(fc.constant('work'), anyText),
            primary: fc.boolean(),
          }),
          { maxLength: 2 },
        ),
      },
      { requiredKeys: [] },
    );
    const group = fc.record({ displayName: anyText, externalId: anyText }, { requiredKeys: [] });
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          user.map((u) => ({ path: '/Users', body: { schemas: [USER_SCHEMA], ...u } })),
          group.map((g) => ({ path: '/Groups', body: { schemas: [GROUP_SCHEMA], ...g, members: [] } })),
        ),
        async ({ path, body }) => {
          // A unique userName now and then, so that some bodies get as far as the database.
          const sent = path === '/Users' && n++ % 2 ? { ...body, userName: `${(body as { userName?: string }).userName ?? ''}.${n}@${domain}` } : body;
          const r = await h.scim(token, 'POST', path, sent);
          expect(r.status, `${JSON.stringify(sent).slice(0, 300)} → ${r.text.slice(0, 200)}`).toBeLessThan(500);
          if (r.status === 400) expect(['invalidValue', 'invalidSyntax', 'uniqueness']).toContain(r.body.scimType);
          if (r.status === 201) expectNoRefusedCharacters(r.body, JSON.stringify(sent));
        },
      ),
      { numRuns: Math.ceil(RUNS / 2) },
    );
  });

  it('raw JSON nested from 1 to 20,000 levels on every body method: answered, or refused with 400 invalidSyntax past 32 levels', async () => {
    const h = scim();
    const { token, mail } = await h.newOrgWithToken('Fuzz nesting');
    const nested = mail('nested');
    const u = await h.scim(token, 'POST', '/Users', { schemas: [USER_SCHEMA], userName: nested });
    const where = fc.constantFrom(
      { method: 'POST', path: '/Users', wrap: (v: string) => `{"schemas":["${USER_SCHEMA}"],"userName":"n@example.com","x":${v}}` },
      { method: 'PUT', path: `/Users/${u.body.id}`, wrap: (v: string) => `{"userName":"${nested}","name":${v}}` },
      {
        method: 'PATCH',
        path: `/Users/${u.body.id}`,
        wrap: (v: string) => `{"schemas":["${PATCH_SCHEMA}"],"Operations":[{"op":"add","path":"displayName","value":${v}}]}`,
      },
      { method: 'POST', path: '/Groups', wrap: (v: string) => `{"displayName":"G","members":${v}}` },
      { method: 'POST', path: '/Users', wrap: (v: string) => v },
    );
    await fc.assert(
      fc.asyncProperty(deepJson, where, async ({ depth, text }, w) => {
        const r = await h.scim(token, w.method, w.path, w.wrap(text));
        expect(r.status, `${w.method} ${w.path} at depth ${depth} → ${r.text.slice(0, 200)}`).toBeLessThan(500);
        if (depth > 40) expect(r.body).toMatchObject({ status: '400', scimType: 'invalidSyntax' });
      }),
      { numRuns: Math.ceil(RUNS / 4) },
    );
  });
});

describe('invite links never answer 5xx', () => {
  it('any token-shaped or random path under /invites gets a readable page', async () => {
    const h = scim();
    const token = fc.oneof(fc.stringMatching(/^[A-Za-z0-9_-]{43}$/), fc.string({ maxLength: 80 }), fc.webSegment(), hostileString);
    const raw = fc.oneof(token.map(enc), fc.constantFrom('%', '%E0%A4%A', '%zz', '%ED%A0%80', '%00', '%C2%85'));
    await fc.assert(
      fc.asyncProperty(raw, fc.constantFrom('', '/accept', '/decline'), async (t, suffix) => {
        const url = `${h.baseUrl}/invites/${t}${suffix}`;
        const res = suffix
          ? await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'csrf=x' })
          : await fetch(url);
        expect(res.status, `${t}${suffix}`).toBeLessThan(500);
        expect(await res.text()).toMatch(/<html/i);
      }),
      { numRuns: RUNS },
    );
  });

  it('any name in the accept form gets a readable page that shows back no character Roster refuses', async () => {
    const h = scim();
    const { org, owner } = await h.newOrgWithToken('Fuzz form');
    const [invite] = await h.domain.invites.create(owner.actor, org.id, { emails: `form.${h.tag()}@example.com` });
    if (!invite?.ok) throw new Error('invite failed');
    const pageUrl = `${h.baseUrl}/invites/${invite.token}`;
    const csrf = /name="csrf" value="([^"]+)"/.exec(await (await fetch(pageUrl)).text())![1]!;
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          anyText,
          hostileString.map((s) => `Nora ${s}`),
        ),
        async (name) => {
          const res = await fetch(`${pageUrl}/accept`, {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: `csrf=${enc(csrf)}&name=${enc(name)}`,
          });
          const text = await res.text();
          expect(res.status, JSON.stringify(name)).toBeLessThan(500);
          expect(text).toMatch(/<html/i);
          expect(textProblem(text, 'multiline'), JSON.stringify(name)).toBeUndefined();
        },
      ),
      { numRuns: Math.ceil(RUNS / 4) },
    );
  });
});

describe('slash commands never leave the user without an answer', () => {
  it('any /org text is acked with 200 and answered with an ephemeral message or a modal', async () => {
    const h = slack();
    const user = h.slack.addUser('Fuzzy', 'fuzzy@example.com');
    const words = fc.constantFrom(
      'create',
      'switch',
      'invite',
      'role',
      'remove',
      'leave',
      'audit',
      'join',
      'scim',
      'members',
      'billing-emails',
      'transfer',
      'help',
      '<@U123|x>',
      '<mailto:a@b.c|a@b.c>',
      'admin',
      'owner',
      'on',
      'off',
      '7d',
      '"',
      '&lt;',
      '',
    );
    const text = fc.oneof(
      fc.array(words, { maxLength: 5 }).map((w) => w.join(' ')),
      fc.tuple(words, hostileString, words).map((w) => w.join(' ')),
      fc.string({ maxLength: 60 }),
      fc.string({ unit: 'grapheme', maxLength: 30 }),
      hostileString,
    );
    await fc.assert(
      fc.asyncProperty(text, async (t) => {
        const since = h.slack.calls.length;
        const { status, responseId } = await h.commandNoWait(user, t);
        expect(status).toBe(200);
        // The answer is a response_url reply or a modal opened with the trigger.
        await h.slack.waitFor(
          () => h.slack.responses.find((r) => r.id === responseId) ?? h.slack.of('views.open', since).find((c) => c.args.trigger_id === `trig-${responseId}`),
          `an answer to ${JSON.stringify(t)}`,
        );
        const reply = h.slack.responses.find((r) => r.id === responseId)?.body;
        if (reply) expect(reply.text ?? '').not.toMatch(/Something went wrong on our side/);
      }),
      { numRuns: Math.ceil(RUNS / 4) },
    );
  });
});
