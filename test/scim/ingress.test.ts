import fc from 'fast-check';
import SCIMMY from 'scimmy';
import { beforeAll, describe, expect, it } from 'vitest';
import { declareResources } from '../../src/scim/router.js';
import { plainUserInstance } from '../../src/scim/user-ingress.js';
import { ENTERPRISE_USER, USER_SCHEMA } from '../../src/scim/user-resource.js';

/**
 * POST and PUT bodies of the usual shape are read without SCIMMY (plainUserInstance). What that gives
 * must be exactly what SCIMMY's own reading gives, or the body must be left to SCIMMY.
 */
beforeAll(() => declareResources());

const scimmyReads = (body: unknown): unknown => {
  try {
    return JSON.parse(JSON.stringify(new SCIMMY.Schemas.User(body as never, 'in')));
  } catch (err) {
    return { refused: (err as Error).message };
  }
};

// Each value is usually one an IdP sends, else an edge SCIMMY may refuse or coerce: empty, look-alike, of another type.
const edge = fc.constantFrom<unknown>('', 'Work', 'True', 'true', 1, null, [], {}, ['x'], { value: 'x' });
const ok = <T>(a: fc.Arbitrary<T>) => fc.oneof({ weight: 3, arbitrary: a as fc.Arbitrary<unknown> }, { weight: 1, arbitrary: edge });
// Any UTF-16 (control characters and lone surrogates included), not only ASCII.
const word = fc.oneof(fc.string({ minLength: 1, maxLength: 12, unit: 'binary' }), fc.constantFrom(' ', 'ünï 名字', 'a@b.example', '\u0000', '\ud800'));
const email = fc.record(
  { value: ok(fc.emailAddress()), type: ok(fc.constantFrom('work', 'home', 'other')), primary: ok(fc.constantFrom(false, false, true)), display: ok(word) },
  { requiredKeys: [] },
);
const usual = fc.record(
  {
    schemas: fc.oneof(
      { weight: 8, arbitrary: fc.constantFrom([USER_SCHEMA], [USER_SCHEMA, ENTERPRISE_USER], [USER_SCHEMA, ENTERPRISE_USER]) },
      { weight: 1, arbitrary: fc.constantFrom([ENTERPRISE_USER, USER_SCHEMA], [], ['urn:other'], USER_SCHEMA) },
    ),
    userName: ok(fc.oneof(fc.emailAddress(), word)),
    externalId: ok(word),
    displayName: ok(word),
    nickName: ok(word),
    title: ok(word),
    userType: ok(word),
    preferredLanguage: ok(fc.constantFrom('en', 'de-CH')),
    locale: ok(fc.constantFrom('en-US', 'fr-FR')),
    timezone: ok(fc.constantFrom('Europe/Paris', 'America/New_York')),
    active: ok(fc.boolean()),
    password: ok(word),
    id: ok(fc.uuid()),
    groups: ok(fc.constant([])),
    meta: ok(fc.constantFrom({ resourceType: 'User' }, { resourceType: 'User' }, { resourceType: 'Group' }, { resourceType: 'User', created: '2020' })),
    name: ok(
      fc.record(
        { givenName: ok(word), familyName: ok(word), formatted: ok(word), middleName: ok(word), honorificPrefix: ok(word), honorificSuffix: ok(word) },
        { requiredKeys: [] },
      ),
    ),
    emails: ok(fc.array(email, { minLength: 1, maxLength: 3 })),
    [ENTERPRISE_USER]: ok(
      fc.record(
        {
          employeeNumber: ok(word),
          department: ok(word),
          costCenter: ok(word),
          organization: ok(word),
          division: ok(word),
          manager: ok(fc.oneof(fc.record({ value: ok(word) }), fc.record({ value: word, displayName: word }))),
        },
        { requiredKeys: [] },
      ),
    ),
  },
  { requiredKeys: [] },
);
/** A body holds schemas, userName and a few of the others (a record of all of them is nearly never clean). */
const usualBody = fc
  .tuple(
    usual,
    fc.subarray(
      [
        'externalId',
        'displayName',
        'nickName',
        'title',
        'userType',
        'preferredLanguage',
        'locale',
        'timezone',
        'active',
        'password',
        'id',
        'groups',
        'meta',
        'name',
        'emails',
        ENTERPRISE_USER,
      ],
      { maxLength: 7 },
    ),
  )
  .map(([all, keys]) => Object.fromEntries(Object.entries(all).filter(([k]) => k === 'schemas' || k === 'userName' || keys.includes(k))));
/** Now and then one attribute the fast reading leaves to SCIMMY. */
const other = fc.constantFrom<Record<string, unknown>>(
  {},
  {},
  {},
  { UserName: 'ada@example.com' },
  { phoneNumbers: [{ value: '+1 555', type: 'work' }] },
  { Active: true },
  { emails: [{ Value: 'ada@example.com' }] },
  { groups: [{ value: 'g' }] },
);
/** Or one of the attributes the fast reading takes, spelled in another case (SCIMMY matches names in any case). */
const respelled = fc
  .constantFrom(
    'userName',
    'externalId',
    'displayName',
    'nickName',
    'title',
    'userType',
    'locale',
    'timezone',
    'active',
    'name',
    'emails',
    'password',
    ENTERPRISE_USER,
  )
  .chain((k) => fc.constantFrom(k.toUpperCase(), k[0]!.toUpperCase() + k.slice(1), k.toLowerCase()).filter((v) => v !== k))
  .map((k) => ({
    [k]:
      k.toLowerCase() === 'active'
        ? true
        : k.toLowerCase() === 'emails'
          ? [{ value: 'ada@example.com' }]
          : k.toLowerCase() === 'name'
            ? { givenName: 'Ada' }
            : 'x',
  }));
const body = fc.tuple(usualBody, fc.oneof({ weight: 3, arbitrary: other }, { weight: 1, arbitrary: respelled })).map(([u, o]) => ({ ...u, ...o }));

describe('a user body read without SCIMMY', () => {
  it('reads exactly as SCIMMY reads it, or is left to SCIMMY', () => {
    let fast = 0;
    fc.assert(
      fc.property(body, (b) => {
        const plain = plainUserInstance(b);
        if (plain === undefined) return;
        fast++;
        expect(plain).toEqual(scimmyReads(b));
      }),
      { numRuns: 8000 },
    );
    // The property says something only if many bodies take the fast reading.
    expect(fast).toBeGreaterThan(150);
  });

  it("takes the bodies Okta and Entra ID send when they create a user, and Okta's PUT of a profile", () => {
    const okta = {
      schemas: [USER_SCHEMA],
      userName: 'ada@example.com',
      name: { givenName: 'Ada', familyName: 'Lovelace' },
      emails: [{ primary: true, value: 'ada@example.com', type: 'work' }],
      displayName: 'Ada Lovelace',
      locale: 'en-US',
      externalId: '00u1ab2cd3',
      groups: [],
      password: 'tmp-Pa55',
      active: true,
    };
    const entra = {
      schemas: [USER_SCHEMA, ENTERPRISE_USER],
      externalId: 'b5e1',
      userName: 'grace@example.com',
      active: true,
      displayName: 'Grace Hopper',
      emails: [{ primary: true, type: 'work', value: 'grace@example.com' }],
      meta: { resourceType: 'User' },
      name: { formatted: 'Grace Hopper', familyName: 'Hopper', givenName: 'Grace' },
      title: 'Rear Admiral',
      [ENTERPRISE_USER]: { employeeNumber: '1906', department: 'Navy', manager: { value: 'c0ffee' } },
    };
    const oktaPut = { ...okta, id: '0f8fad5b-d9cb-469f-a165-70867728950e' };
    for (const b of [okta, entra, oktaPut]) {
      expect(plainUserInstance(b)).toBeDefined();
      expect(plainUserInstance(b)).toEqual(scimmyReads(b));
    }
  });
});
