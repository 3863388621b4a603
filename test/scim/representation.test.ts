import fc from 'fast-check';
import SCIMMY from 'scimmy';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ScimUserView } from '../../src/domain/scim/index.js';
import { ENTERPRISE_USER, keptResource, toScimUser, userResource } from '../../src/scim/user-resource.js';
import { applyUserPatch } from '../../src/scim/user-patch.js';
import { GROUP_SCHEMA, PATCH_SCHEMA, patchBody, useScimRoster, userBody } from '../helpers/scim.js';

/**
 * Lists write users without SCIMMY (it costs more than the database lookup); GET by id, POST, PUT and
 * PATCH answer through SCIMMY. An IdP compares what both give it, so they must be the same resource.
 */
const roster = useScimRoster();

const optional = (a: fc.Arbitrary<string>) => fc.option(a, { nil: null });
const word = fc.string({ minLength: 1, maxLength: 12 });
/** A kept resource as the IdP may send it: attributes in any order, extension included. */
const resource = fc.record(
  {
    emails: fc.array(
      fc.record({ value: fc.emailAddress(), type: fc.constantFrom('work', 'home', 'other'), primary: fc.boolean() }, { requiredKeys: ['value'] }),
      {
        minLength: 1,
        maxLength: 3,
      },
    ),
    [ENTERPRISE_USER]: fc.record(
      { manager: fc.record({ displayName: word, value: word }, { requiredKeys: ['value'] }), department: word, employeeNumber: word, costCenter: word },
      { requiredKeys: ['employeeNumber'] },
    ),
    name: fc.record({ middleName: word, givenName: word, formatted: word, familyName: word, honorificPrefix: word }, { requiredKeys: ['formatted'] }),
    title: word,
    nickName: word,
    locale: fc.constantFrom('en-US', 'fr-FR'),
    timezone: fc.constantFrom('Europe/Paris', 'America/New_York'),
    preferredLanguage: fc.constantFrom('en', 'de'),
    userType: word,
    profileUrl: fc.webUrl(),
    phoneNumbers: fc.array(fc.record({ type: fc.constantFrom('work', 'mobile'), value: word, primary: fc.boolean() }, { requiredKeys: ['value'] }), {
      minLength: 1,
      maxLength: 2,
    }),
    addresses: fc.array(
      fc.record(
        { country: fc.constantFrom('US', 'FR'), type: fc.constantFrom('work', 'home'), streetAddress: word, formatted: word, postalCode: word, locality: word },
        { requiredKeys: ['streetAddress'] },
      ),
      { minLength: 1, maxLength: 2 },
    ),
    roles: fc.array(fc.record({ value: word, type: fc.constant('WindowsAzureActiveDirectoryRole'), primary: fc.boolean() }), { minLength: 1, maxLength: 2 }),
  },
  { requiredKeys: [] },
);
const userView: fc.Arbitrary<ScimUserView> = fc.record({
  id: fc.uuid(),
  orgId: fc.uuid(),
  accountId: fc.uuid(),
  userName: fc.string({ minLength: 1, maxLength: 30 }),
  externalId: optional(fc.string({ minLength: 1, maxLength: 20 })),
  givenName: optional(fc.string({ minLength: 1, maxLength: 20 })),
  familyName: optional(fc.string({ minLength: 1, maxLength: 20 })),
  displayName: optional(fc.string({ minLength: 1, maxLength: 20 })),
  email: fc.emailAddress(),
  active: fc.boolean(),
  createdAt: fc.date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }),
  updatedAt: fc.date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }),
  groups: fc.array(fc.record({ id: fc.uuid(), displayName: fc.string({ minLength: 1, maxLength: 20 }) }), { maxLength: 3 }),
  resource,
});

/** PATCH operations the direct path applies (and some it leaves to SCIMMY: those must agree too). */
const simpleOp = fc.oneof(
  fc.record({ op: fc.constantFrom('replace', 'Replace', 'add'), value: fc.record({ active: fc.boolean() }) }),
  fc.record({ op: fc.constantFrom('replace', 'add'), path: fc.constant('active'), value: fc.boolean() }),
  fc.record({
    op: fc.constantFrom('replace', 'add'),
    path: fc.constantFrom('displayName', 'title', 'nickName', 'name.givenName', 'name.familyName', 'name.formatted', 'externalId', 'locale', 'userName'),
    value: word,
  }),
  fc.record({ op: fc.constant('replace'), value: fc.record({ displayName: word, 'name.givenName': word, title: word }, { requiredKeys: [] }) }),
  fc.record({ op: fc.constant('remove'), path: fc.constantFrom('title', 'nickName', 'name.givenName', 'displayName', 'externalId', 'active') }),
);

describe('SCIM user representation', () => {
  beforeAll(() => {
    if (!SCIMMY.Resources.declared('User')) SCIMMY.Resources.declare(SCIMMY.Resources.User).extend(SCIMMY.Schemas.EnterpriseUser, false);
  });

  it('a simple PATCH applied directly makes the same user SCIMMY makes of it', async () => {
    await fc.assert(
      fc.asyncProperty(userView, fc.array(simpleOp, { minLength: 1, maxLength: 4 }), async (u, ops) => {
        const body = { schemas: [PATCH_SCHEMA], Operations: ops };
        const viaScimmy = await applyUserPatch(body, u, { viaScimmy: true }).catch((e: Error) => `refused: ${e.message}`);
        const direct = await applyUserPatch(body, u).catch((e: Error) => `refused: ${e.message}`);
        expect(typeof direct === 'string' ? direct : JSON.parse(JSON.stringify(direct))).toEqual(
          typeof viaScimmy === 'string' ? viaScimmy : JSON.parse(JSON.stringify(viaScimmy)),
        );
      }),
      { numRuns: 300 },
    );
  });

  it('what is kept of a user is its JSON with no-value attributes (null, [], {}) left out, read in one pass', () => {
    /** The reading it replaced: a JSON copy, then pruned. */
    const viaJson = (instance: Record<string, unknown>) => {
      const prune = (v: unknown): unknown => {
        if (v === null || v === undefined) return undefined;
        if (Array.isArray(v)) {
          const items = v.map(prune).filter((x) => x !== undefined);
          return items.length ? items : undefined;
        }
        if (typeof v === 'object') {
          const e = Object.entries(v as Record<string, unknown>)
            .map(([k, x]) => [k, prune(x)] as const)
            .filter(([, x]) => x !== undefined);
          return e.length ? Object.fromEntries(e) : undefined;
        }
        return v;
      };
      const plain = JSON.parse(JSON.stringify(instance)) as Record<string, unknown>;
      return Object.fromEntries(
        Object.entries(plain)
          .filter(([k]) => !['schemas', 'id', 'meta', 'groups', 'password', 'userName', 'externalId', 'active'].includes(k))
          .map(([k, v]) => [k, prune(v)] as const)
          .filter(([, v]) => v !== undefined),
      );
    };
    const value = fc.letrec((tie) => ({
      v: fc.oneof(
        { depthSize: 'small' },
        fc.constantFrom(null, undefined, Number.NaN, Infinity, 0, true, '', 'x'),
        fc.double(),
        fc.string({ maxLength: 6 }),
        fc.date({ noInvalidDate: true }),
        fc.array(tie('v'), { maxLength: 3 }),
        fc.dictionary(fc.constantFrom('a', 'b', 'value', 'type', 'primary'), tie('v'), { maxKeys: 3 }),
      ),
    })).v;
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom('name', 'emails', 'title', 'id', 'active', ENTERPRISE_USER), value, { maxKeys: 4 }), (instance) => {
        expect(keptResource(instance)).toEqual(viaJson(instance));
      }),
      { numRuns: 500 },
    );
    const hostile = JSON.parse('{"name": {"__proto__": {"polluted": true}, "givenName": "Ann"}}') as Record<string, unknown>;
    const kept = keptResource(hostile) as { name: Record<string, unknown> };
    expect(kept).toEqual({ name: { givenName: 'Ann' } });
    expect(Object.getPrototypeOf(kept.name)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('a user in a list is byte for byte the user SCIMMY writes (same attributes, same order, the enterprise extension too)', () => {
    const location = 'https://roster.example.com/scim/v2/Users';
    fc.assert(
      fc.property(userView, (u) => {
        const viaScimmy = JSON.stringify(new SCIMMY.Schemas.User(toScimUser(u) as never, 'out', location));
        expect(JSON.stringify(userResource(u, location))).toBe(viaScimmy);
      }),
      { numRuns: 300 },
    );
  });

  it('a user in groups reads the same by id, in a filtered lookup, in a list page and in a PATCH answer', async () => {
    const h = roster();
    const { token, mail } = await h.newOrgWithToken();
    const email = mail('rep');
    const created = await h.scim(token, 'POST', '/Users', userBody(email, { externalId: `ext-${h.tag()}`, displayName: 'Rep User' }));
    expect(created.status, created.text).toBe(201);
    const id = created.body.id as string;
    for (const name of [`Zeta ${h.tag()}`, `Alpha ${h.tag()}`]) {
      const g = await h.scim(token, 'POST', '/Groups', { schemas: [GROUP_SCHEMA], displayName: name, members: [{ value: id }] });
      expect(g.status, g.text).toBe(201);
    }

    const byId = await h.scim(token, 'GET', `/Users/${id}`);
    expect(byId.status).toBe(200);
    expect(byId.body.groups.map((g: { display: string }) => g.display)).toEqual([expect.stringMatching(/^Alpha/), expect.stringMatching(/^Zeta/)]);
    const filtered = await h.scim(token, 'GET', `/Users?filter=${encodeURIComponent(`userName eq "${email.toUpperCase()}"`)}`);
    expect(filtered.body.totalResults).toBe(1);
    expect(filtered.body.Resources[0]).toEqual(byId.body);
    const page = await h.scim(token, 'GET', '/Users?startIndex=1&count=10');
    expect(page.body.Resources.find((r: { id: string }) => r.id === id)).toEqual(byId.body);

    const patched = await h.scim(token, 'PATCH', `/Users/${id}`, patchBody({ op: 'replace', value: { active: false } }));
    expect(patched.status, patched.text).toBe(200);
    expect(patched.body.active).toBe(false);
    expect(patched.body).toEqual((await h.scim(token, 'GET', `/Users/${id}`)).body);
    expect(patched.body.groups).toHaveLength(2);
  });
});
