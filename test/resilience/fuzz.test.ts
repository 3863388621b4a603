import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PATCH_SCHEMA, USER_SCHEMA, useScimRoster } from '../helpers/scim.js';
import { useSlackRoster } from '../helpers/slack.js';

/**
 * Property-based fuzzing of what strangers can send: SCIM filters and PATCH bodies, slash-command
 * text, invite tokens. Whatever arrives, Roster answers with a client error or a success — never a
 * 5xx, never a crash. (npm test runs a few thousand cases; `npm run bench:fuzz`, and `npm run bench` with it, run 100,000.)
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 800);

const scimWords = ['userName', 'externalId', 'emails', 'emails.value', 'emails[type eq "work"].value', 'name.givenName', 'active', 'id', 'meta.created', 'displayName', 'members', 'bogus', 'urn:x'];
const ops = ['eq', 'ne', 'co', 'sw', 'ew', 'pr', 'gt', 'ge', 'lt', 'le', 'EQ', 'xx', ''];
const values = fc.oneof(fc.constant('"a@b.c"'), fc.constant('true'), fc.constant('"True"'), fc.constant('null'), fc.constant('42'), fc.string({ maxLength: 12 }).map((s) => JSON.stringify(s)), fc.string({ maxLength: 8 }));
const filterExpr = fc.oneof(
  fc.tuple(fc.constantFrom(...scimWords), fc.constantFrom(...ops), values).map(([a, o, v]) => `${a} ${o} ${v}`.trim()),
  fc.string({ maxLength: 40 }),
);
const filter = fc
  .array(fc.tuple(filterExpr, fc.constantFrom(' and ', ' or ', ' ', ' not ', ')', '(')), { minLength: 1, maxLength: 3 })
  .map((parts) => parts.map(([e, j]) => e + j).join('').trim());

const scim = useScimRoster();
const slack = useSlackRoster();

describe('SCIM never answers 5xx to what a client sends', () => {
  it('filters: parsed and answered, or refused with 400 invalidFilter', async () => {
    const h = scim();
    const { token } = await h.newOrgWithToken('Fuzz filters');
    await h.scim(token, 'POST', '/Users', { schemas: [USER_SCHEMA], userName: 'fuzz@example.com' });
    await fc.assert(
      fc.asyncProperty(filter, fc.constantFrom('/Users', '/Groups'), fc.integer({ min: -5, max: 3000 }), fc.integer({ min: -5, max: 2000 }), async (f, path, startIndex, count) => {
        const r = await h.scim(token, 'GET', `${path}?filter=${encodeURIComponent(f)}&startIndex=${startIndex}&count=${count}`);
        expect(r.status, `${f} → ${r.text.slice(0, 200)}`).toBeLessThan(500);
        if (r.status === 400) expect(r.body.scimType).toBe('invalidFilter');
      }),
      { numRuns: RUNS },
    );
  });

  it('PATCH bodies: applied, or refused with a 4xx SCIM error', async () => {
    const h = scim();
    const { token } = await h.newOrgWithToken('Fuzz patch');
    const created = await h.scim(token, 'POST', '/Users', { schemas: [USER_SCHEMA], userName: 'patchme@example.com' });
    const id = created.body.id as string;
    const op = fc.record(
      {
        op: fc.constantFrom('add', 'replace', 'remove', 'Add', 'Replace', 'Remove', 'copy', ''),
        path: fc.constantFrom('active', 'userName', 'name.givenName', 'emails[type eq "work"].value', 'externalId', 'displayName', 'groups', 'id', 'bogus[', ''),
        value: fc.oneof(fc.boolean(), fc.constantFrom('True', 'False', 'x@y.z', ''), fc.integer(), fc.constant(null), fc.dictionary(fc.constantFrom('active', 'userName', 'name', 'x'), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 })),
      },
      { requiredKeys: ['op'] },
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 4 }), fc.boolean(), async (Operations, withSchema) => {
        const r = await h.scim(token, 'PATCH', `/Users/${id}`, { ...(withSchema ? { schemas: [PATCH_SCHEMA] } : {}), Operations });
        expect(r.status, `${JSON.stringify(Operations)} → ${r.text.slice(0, 200)}`).toBeLessThan(500);
        // Whatever happened, the user still reads back.
        const again = await h.scim(token, 'GET', `/Users/${id}`);
        expect([200, 404]).toContain(again.status);
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
});

describe('invite links never answer 5xx', () => {
  it('any token-shaped or random path under /invites gets a readable page', async () => {
    const h = scim();
    const token = fc.oneof(fc.stringMatching(/^[A-Za-z0-9_-]{43}$/), fc.string({ maxLength: 80 }), fc.webSegment());
    await fc.assert(
      fc.asyncProperty(token, fc.constantFrom('', '/accept', '/decline'), async (t, suffix) => {
        const url = `${h.baseUrl}/invites/${encodeURIComponent(t)}${suffix}`;
        const res = suffix ? await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'csrf=x' }) : await fetch(url);
        expect(res.status, `${t}${suffix}`).toBeLessThan(500);
        expect(await res.text()).toMatch(/<html/i);
      }),
      { numRuns: RUNS },
    );
  });
});

describe('slash commands never leave the user without an answer', () => {
  it('any /org text is acked with 200 and answered with an ephemeral message or a modal', async () => {
    const h = slack();
    const user = h.slack.addUser('Fuzzy', 'fuzzy@example.com');
    const words = fc.constantFrom('create', 'switch', 'invite', 'role', 'remove', 'leave', 'audit', 'join', 'scim', 'members', 'billing-emails', 'transfer', 'help', '<@U123|x>', '<mailto:a@b.c|a@b.c>', 'admin', 'owner', 'on', 'off', '7d', '"', '&lt;', '');
    const text = fc.oneof(fc.array(words, { maxLength: 5 }).map((w) => w.join(' ')), fc.string({ maxLength: 60 }), fc.string({ unit: 'grapheme', maxLength: 30 }));
    await fc.assert(
      fc.asyncProperty(text, async (t) => {
        const since = h.slack.calls.length;
        const { status, responseId } = await h.commandNoWait(user, t);
        expect(status).toBe(200);
        // The answer is a response_url reply or a modal opened with the trigger.
        await h.slack.waitFor(
          () => h.slack.responses.find((r) => r.id === responseId) ?? h.slack.of('views.open', since).find((c) => c.args.trigger_id === `trig-${responseId}`),
          `an answer to "${t}"`,
        );
        const reply = h.slack.responses.find((r) => r.id === responseId)?.body;
        if (reply) expect(reply.text ?? '').not.toMatch(/Something went wrong on our side/);
      }),
      { numRuns: Math.ceil(RUNS / 4) },
    );
  });
});
