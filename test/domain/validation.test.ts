import { describe, expect, it } from 'vitest';
import { isDomainError } from '../../src/domain/errors.js';
import { isValidEmail, textProblem } from '../../src/domain/validation.js';
import { useWorld } from '../helpers/domain.js';

/**
 * The one rule on characters (issue 10 §2): C0 controls, DEL, C1 controls and unpaired surrogates are
 * refused in every string a person or a client gives the domain, with a message naming the field and
 * the character; free text that may span lines keeps tab and new line.
 */
const world = useWorld();

async function refusal(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (err) {
    if (isDomainError(err)) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('textProblem', () => {
  it('names C0 controls, DEL, C1 controls and unpaired surrogates, with their code point', () => {
    expect(textProblem('a\u0000b')).toBe('a control character (U+0000, NUL)');
    expect(textProblem('\u001b[31m')).toBe('a control character (U+001B, escape)');
    expect(textProblem('x\u007f')).toBe('a control character (U+007F, DEL)');
    expect(textProblem('x\u0085')).toBe('a control character (U+0085)');
    expect(textProblem('x\u009f')).toBe('a control character (U+009F)');
    expect(textProblem('\ud800')).toBe('an unpaired surrogate (U+D800), which is not valid Unicode');
    expect(textProblem('a\udc00')).toBe('an unpaired surrogate (U+DC00), which is not valid Unicode');
    expect(textProblem('\ud83d\ud83d\ude00')).toMatch(/U\+D83D/);
  });

  it('accepts ordinary Unicode: accents, CJK, right-to-left, emoji (surrogate pairs), no-break and zero-width spaces', () => {
    for (const s of ['Zoë', '日本語', 'שלום', '😀👩‍👩‍👧', 'a\u00a0b', 'a\u200bb', '\u00a0', '']) expect(textProblem(s), s).toBeUndefined();
  });

  it('a single line refuses tab, new line and carriage return; multi-line text keeps them but not the other controls', () => {
    for (const c of ['\t', '\n', '\r']) {
      expect(textProblem(`a${c}b`)).toMatch(/control character/);
      expect(textProblem(`a${c}b`, 'multiline')).toBeUndefined();
    }
    for (const c of ['\u0000', '\u000b', '\u000c', '\u001b', '\u007f', '\u0085', '\ud800'])
      expect(textProblem(`a${c}b`, 'multiline'), JSON.stringify(c)).toBeDefined();
  });

  it('an email with a control character is not a valid email', () => {
    expect(isValidEmail('a\u0000@example.com')).toBe(false);
    expect(isValidEmail('a@exam\u0085ple.com')).toBe(false);
    expect(isValidEmail('zoë@example.com')).toBe(true);
  });
});

describe('every domain entry point that takes text refuses control characters, naming the field', () => {
  it('org names and URL names (create, rename)', async () => {
    const w = world();
    const p = await w.person('Founder');
    const before = await w.count('orgs');
    const r = await refusal(w.domain.orgs.create(p.actor, { name: 'Acme\u0000' }));
    expect(r).toMatchObject({ code: 'invalid_input' });
    expect(r.message).toBe('The organization name contains a control character (U+0000, NUL). Remove it and try again.');
    expect((await refusal(w.domain.orgs.create(p.actor, { name: 'Acme', slug: 'acme\u0000' }))).code).toBe('invalid_input');
    expect(await w.count('orgs')).toBe(before);
    const { org, owner } = await w.org();
    expect((await refusal(w.domain.orgs.rename(owner.actor, org.id, 'New\u009bName'))).message).toMatch(
      /organization name contains a control character \(U\+009B\)/,
    );
    // Tabs and new lines in a name are whitespace: they collapse to one space, as before.
    expect((await w.domain.orgs.rename(owner.actor, org.id, 'New\t\nName')).name).toBe('New Name');
  });

  it('display names and emails of accounts', async () => {
    const w = world();
    const p = await w.person('Ana');
    expect((await refusal(w.domain.accounts.rename(p.actor, 'Ana\u001b[2J'))).message).toMatch(/display name contains a control character \(U\+001B, escape\)/);
    expect((await refusal(w.domain.accounts.rename(p.actor, 'Ana\udfff'))).message).toMatch(/display name contains an unpaired surrogate/);
    const before = await w.count('accounts');
    expect((await refusal(w.domain.accounts.findOrCreateByEmail('ana\u0000@example.com'))).message).toMatch(
      /email address contains a control character \(U\+0000, NUL\)/,
    );
    expect((await refusal(w.domain.accounts.findByEmail('ana\u0000@example.com'))).code).toBe('invalid_input');
    expect(await w.count('accounts')).toBe(before);
  });

  it('invited emails: each refused one says why, the others are invited', async () => {
    const w = world();
    const { org, owner } = await w.org();
    const good = `good.${Date.now()}@example.com`;
    const results = await w.domain.invites.create(owner.actor, org.id, { emails: [`bad\u0000@example.com`, good] });
    expect(results.map((r) => r.ok)).toEqual([false, true]);
    expect(results[0]).toMatchObject({ ok: false, code: 'invalid_input' });
    expect((results[0] as { message: string }).message).toMatch(/control character \(U\+0000, NUL\)/);
  });

  it('join messages and deny reasons: several lines and tabs are kept, other controls refused', async () => {
    const w = world();
    const { org, owner } = await w.org();
    const a = await w.person('Asker');
    const before = await w.count('join_requests');
    expect((await refusal(w.domain.joinRequests.request(a.actor, org, 'hi\u0000'))).message).toMatch(/message contains a control character \(U\+0000, NUL\)/);
    expect(await w.count('join_requests')).toBe(before);
    const { request } = await w.domain.joinRequests.request(a.actor, org, 'Hi,\n\tI work on the platform team.');
    expect(request.message).toBe('Hi,\n\tI work on the platform team.');
    expect((await refusal(w.domain.joinRequests.deny(owner.actor, request.id, 'no\u0007'))).message).toMatch(/reason contains a control character \(U\+0007\)/);
    const denied = await w.domain.joinRequests.deny(owner.actor, request.id, 'Not now.\nAsk again in June.');
    expect(denied.status).toBe('denied');
  });

  it('SCIM token names and group mappings, also when looking a token up by name', async () => {
    const w = world();
    const { org, owner } = await w.org();
    expect((await refusal(w.domain.scimTokens.create(owner.actor, org.id, 'okta\u0000'))).message).toMatch(/token name contains a control character/);
    for (const call of [w.domain.scimTokens.revoke(owner.actor, org.id, 'okta\u0000'), w.domain.scimTokens.rotate(owner.actor, org.id, 'okta\ud800')]) {
      const r = await refusal(call);
      expect(r.code).toBe('invalid_input');
      expect(r.message).toMatch(/token name contains/);
    }
    expect((await refusal(w.domain.scim.mapGroup(owner.actor, org.id, 'Eng\u0000', 'developer'))).message).toMatch(/group name contains a control character/);
  });

  it('audit filters: text with control characters, and dates PostgreSQL cannot hold, are refused', async () => {
    const w = world();
    const { org, owner } = await w.org();
    for (const filter of [{ actorId: 'a\u0000' }, { action: 'org.created\u0000' }, { targetType: 'org\u0085' }, { targetId: '\ud800' }]) {
      const r = await refusal(w.domain.audit.query(owner.actor, org.id, filter));
      expect(r.code, JSON.stringify(filter)).toBe('invalid_input');
      expect(r.message).toMatch(/contains/);
    }
    for (const since of ['-100000-01-01', '+200000-01-01']) {
      const r = await refusal(w.domain.audit.query(owner.actor, org.id, { since: new Date(since) }));
      expect(r.code, since).toBe('invalid_input');
    }
    expect((await w.domain.audit.query(owner.actor, org.id, { action: 'org.created' })).length).toBe(1);
  });
});
