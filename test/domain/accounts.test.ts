import { randomBytes, randomUUID } from 'node:crypto';
import { asc, eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { accounts, auditEvents, slackIdentities } from '../../src/db/schema.js';
import { systemActor } from '../../src/domain/context.js';
import { releasedTogether } from '../helpers/db.js';
import { useWorld, type World } from '../helpers/domain.js';

/** Slack vouches for the email: confirmed, a full member of the workspace. */
const confirmedEmail = { confirmed: true, deleted: false, guest: false, external: false, workspaceTrusted: true };

const world = useWorld();

const hex = () => randomBytes(4).toString('hex');
const slackUser = () => ({ teamId: `T${hex().toUpperCase()}`, userId: `U${hex().toUpperCase()}` });

async function accountRow(w: World, id: string) {
  const [a] = await w.db.db.select().from(accounts).where(eq(accounts.id, id));
  return a;
}

async function identitiesOf(w: World, accountId: string) {
  return w.db.db.select().from(slackIdentities).where(eq(slackIdentities.accountId, accountId)).orderBy(asc(slackIdentities.userId));
}

async function accountEvents(w: World, accountId: string) {
  return w.db.db.select().from(auditEvents).where(eq(auditEvents.targetId, accountId)).orderBy(asc(auditEvents.id));
}

/** Runs the calls together behind a lock on `table` (see releasedTogether); any failure is thrown. */
async function released<T>(w: World, table: string, waiters: number, run: () => Promise<T>[]): Promise<T[]> {
  return (await releasedTogether(w.db, table, waiters, run)).map((r) => {
    if (r.status === 'rejected') throw r.reason;
    return r.value;
  });
}

describe('accounts from Slack', () => {
  it('a Slack user seen for the first time gets an account and a linked identity', async () => {
    const w = world();
    const s = slackUser();
    const email = `slacker.${hex()}@example.com`;
    const account = await w.domain.accounts.findOrCreateBySlack({ ...s, emailFacts: confirmedEmail, email, displayName: '  Sam   Slack ' });
    expect(account).toMatchObject({ email, displayName: 'Sam Slack', activeOrgId: null });
    expect(await identitiesOf(w, account.id)).toMatchObject([{ teamId: s.teamId, userId: s.userId, accountId: account.id }]);
    const events = await accountEvents(w, account.id);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ orgId: null, action: 'account.created', targetType: 'account', actorType: 'system', after: { email } });
  });

  it('the same Slack user seen twice is the same account, with one identity', async () => {
    const w = world();
    const s = slackUser();
    const email = `twice.${hex()}@example.com`;
    const first = await w.domain.accounts.findOrCreateBySlack({ ...s, emailFacts: confirmedEmail, email, displayName: 'Twice' });
    const accountsBefore = await w.count('accounts');
    const second = await w.domain.accounts.findOrCreateBySlack({ ...s, emailFacts: confirmedEmail, email, displayName: 'Twice Renamed In Slack' });
    expect(second.id).toBe(first.id);
    expect(await w.count('accounts')).toBe(accountsBefore);
    expect(await identitiesOf(w, first.id)).toHaveLength(1);
    expect(await accountEvents(w, first.id)).toHaveLength(1);
    expect((await w.domain.accounts.bySlack(s.teamId, s.userId))?.id).toBe(first.id);
  });

  it('a Slack user whose email matches an existing account (any case) is linked to it; its email is kept', async () => {
    const w = world();
    const local = `Mixed.Case.${hex()}`;
    const existing = await w.domain.accounts.findOrCreateByEmail(`${local}@Example.com`, 'From Invite');
    const accountsBefore = await w.count('accounts');
    const s = slackUser();
    const linked = await w.domain.accounts.findOrCreateBySlack({
      ...s,
      emailFacts: confirmedEmail,
      email: `${local.toLowerCase()}@EXAMPLE.COM`,
      displayName: 'From Slack',
    });
    expect(linked.id).toBe(existing.id);
    expect(await w.count('accounts')).toBe(accountsBefore);
    const row = await accountRow(w, existing.id);
    expect(row).toMatchObject({ email: `${local}@Example.com`, displayName: 'From Invite' });
    expect(await identitiesOf(w, existing.id)).toMatchObject([{ teamId: s.teamId, userId: s.userId }]);
  });

  it('the same user id in another Slack workspace is a different identity', async () => {
    const w = world();
    const userId = `U${hex().toUpperCase()}`;
    const a = await w.domain.accounts.findOrCreateBySlack({ teamId: `TA${hex()}`, userId, emailFacts: confirmedEmail, email: `ws.a.${hex()}@example.com` });
    const b = await w.domain.accounts.findOrCreateBySlack({ teamId: `TB${hex()}`, userId, emailFacts: confirmedEmail, email: `ws.b.${hex()}@example.com` });
    expect(b.id).not.toBe(a.id);
  });

  it('two Slack workspaces with the same verified email share one account', async () => {
    const w = world();
    const email = `two.spaces.${hex()}@example.com`;
    const a = await w.domain.accounts.findOrCreateBySlack({ ...slackUser(), emailFacts: confirmedEmail, email });
    const b = await w.domain.accounts.findOrCreateBySlack({ ...slackUser(), emailFacts: confirmedEmail, email: email.toUpperCase() });
    expect(b.id).toBe(a.id);
    expect(await identitiesOf(w, a.id)).toHaveLength(2);
  });

  it('a Slack user without an email still gets an account, named from the profile or "Unnamed"', async () => {
    const w = world();
    const named = await w.domain.accounts.findOrCreateBySlack({ ...slackUser(), displayName: 'No Mail' });
    expect(named).toMatchObject({ email: null, displayName: 'No Mail' });
    const unnamed = await w.domain.accounts.findOrCreateBySlack({ ...slackUser(), displayName: '   ' });
    expect(unnamed).toMatchObject({ email: null, displayName: 'Unnamed' });
    expect(unnamed.id).not.toBe(named.id);
  });

  it('without a display name, the account is named after the email', async () => {
    const w = world();
    const local = `nameless.${hex()}`;
    const a = await w.domain.accounts.findOrCreateBySlack({ ...slackUser(), emailFacts: confirmedEmail, email: `${local}@example.com` });
    expect(a.displayName).toBe(local);
  });

  it('concurrent first calls from one Slack user create one account and one identity', async () => {
    const w = world();
    const s = slackUser();
    const email = `racer.${hex()}@example.com`;
    const accountsBefore = await w.count('accounts');
    const results = await released(w, 'slack_identities', 6, () =>
      Array.from({ length: 6 }, () => w.domain.accounts.findOrCreateBySlack({ ...s, emailFacts: confirmedEmail, email, displayName: 'Racer' })),
    );
    expect(new Set(results.map((a) => a.id)).size).toBe(1);
    expect(await w.count('accounts')).toBe(accountsBefore + 1);
    expect(await w.count('slack_identities', `team_id = '${s.teamId}' and user_id = '${s.userId}'`)).toBe(1);
    expect(await accountEvents(w, results[0]!.id)).toHaveLength(1);
  });

  it('concurrent first calls from one Slack user without an email create one account, and the losers leave no audit event', async () => {
    const w = world();
    const s = slackUser();
    const accountsBefore = await w.count('accounts');
    const results = await released(w, 'slack_identities', 6, () =>
      Array.from({ length: 6 }, () => w.domain.accounts.findOrCreateBySlack({ ...s, displayName: 'Mailless Racer' })),
    );
    expect(new Set(results.map((a) => a.id)).size).toBe(1);
    expect(await w.count('accounts')).toBe(accountsBefore + 1);
    expect(await w.count('slack_identities', `team_id = '${s.teamId}' and user_id = '${s.userId}'`)).toBe(1);
    // Every losing attempt inserted an account and its audit event before failing on the identity; both rolled back.
    expect(await w.count('audit_events', `action = 'account.created' and after->>'slack' = '${s.userId}'`)).toBe(1);
  });

  it('a Slack user is linked to the account of an email only when Slack vouches for it (confirmed, a full member: not deleted, not a guest, not external)', async () => {
    const w = world();
    const email = `carol.${hex()}@b.example`;
    const carol = await w.domain.accounts.findOrCreateByEmail(email, 'Carol');
    const untrusted = [
      { ...confirmedEmail, confirmed: false },
      { ...confirmedEmail, deleted: true },
      { ...confirmedEmail, guest: true },
      { ...confirmedEmail, external: true },
      undefined,
    ];
    for (const emailFacts of untrusted) {
      const other = await w.domain.accounts.findOrCreateBySlack({ ...slackUser(), email, displayName: 'Not Carol', ...(emailFacts ? { emailFacts } : {}) });
      expect(other.id, JSON.stringify(emailFacts)).not.toBe(carol.id);
      expect(other.email).toBeNull();
    }
    expect((await accountRow(w, carol.id))?.displayName).toBe('Carol');
    const real = await w.domain.accounts.findOrCreateBySlack({ ...slackUser(), email, emailFacts: confirmedEmail, displayName: 'Carol in Slack' });
    expect(real.id).toBe(carol.id);
  });

  it('from a workspace not trusted for emails, an address Slack vouches for makes and joins no account: the person is sent a link instead', async () => {
    const w = world();
    const email = `dina.${hex()}@c.example`;
    const dina = await w.domain.accounts.findOrCreateByEmail(email, 'Dina');
    const s = slackUser();
    const accountsBefore = await w.count('accounts');
    const claim = { ...s, email, emailFacts: { ...confirmedEmail, workspaceTrusted: false } };
    await expect(w.domain.accounts.findOrCreateBySlack(claim)).rejects.toMatchObject({
      code: 'slack_email_unconfirmed',
      message: expect.stringContaining(`sent a link to ${email}`),
    });
    await expect(w.domain.accounts.findOrCreateBySlack(claim)).rejects.toMatchObject({
      code: 'slack_email_unconfirmed',
      message: expect.stringContaining('a new link can be sent in a few minutes'),
    });
    expect(await w.count('accounts')).toBe(accountsBefore);
    expect(await w.count('slack_identities', `user_id = '${s.userId}'`)).toBe(0);
    expect(await w.count('notifications', `kind = 'account.slack_link' and recipient_email = '${email}'`)).toBe(1);
    // The link (as the email carries it) links them to Dina's account, once.
    const [row] = (await w.db.pool.query(`select * from slack_email_links where user_id = $1`, [s.userId])).rows;
    const token = (await w.domain.slackLinks.pending(s.teamId, s.userId, row.expires_at.toISOString()))!.token;
    expect((await w.domain.slackLinks.confirm(token)).account.id).toBe(dina.id);
    expect((await w.domain.accounts.bySlack(s.teamId, s.userId))?.id).toBe(dina.id);
    await expect(w.domain.slackLinks.confirm(token)).rejects.toMatchObject({ code: 'slack_link_invalid' });
  });

  it('one address gets at most five Slack links a day, however many Slack users ask, and the sixth asker is told to try tomorrow', async () => {
    const w = world();
    const email = `flood.${hex()}@d.example`;
    for (let i = 0; i < 7; i++)
      await expect(
        w.domain.accounts.findOrCreateBySlack({ ...slackUser(), email, emailFacts: { ...confirmedEmail, workspaceTrusted: false } }),
      ).rejects.toMatchObject({
        code: 'slack_email_unconfirmed',
      });
    expect(await w.count('notifications', `kind = 'account.slack_link' and recipient_email = '${email}'`)).toBe(5);
    await expect(
      w.domain.accounts.findOrCreateBySlack({ ...slackUser(), email, emailFacts: { ...confirmedEmail, workspaceTrusted: false } }),
    ).rejects.toMatchObject({
      message: expect.stringContaining('try again tomorrow'),
    });
    // One Slack user asking again after the 5 minutes does not get past the address's share either.
    const again = slackUser();
    w.clock.advance(10 * 60_000);
    await expect(w.domain.accounts.findOrCreateBySlack({ ...again, email, emailFacts: { ...confirmedEmail, workspaceTrusted: false } })).rejects.toMatchObject({
      message: expect.stringContaining('try again tomorrow'),
    });
    expect(await w.count('notifications', `kind = 'account.slack_link' and recipient_email = '${email}'`)).toBe(5);
  });

  it('a Slack profile with an invalid email is refused and nothing is created', async () => {
    const w = world();
    const s = slackUser();
    const accountsBefore = await w.count('accounts');
    await expect(w.domain.accounts.findOrCreateBySlack({ ...s, emailFacts: confirmedEmail, email: 'not-an-email' })).rejects.toMatchObject({
      code: 'invalid_input',
      message: expect.stringMatching(/email/),
    });
    await expect(w.domain.accounts.findOrCreateBySlack({ teamId: '', userId: s.userId })).rejects.toMatchObject({ code: 'invalid_input' });
    expect(await w.count('accounts')).toBe(accountsBefore);
    expect(await w.count('slack_identities', `user_id = '${s.userId}'`)).toBe(0);
  });
});

describe('accounts by email', () => {
  it('"Bob@Example.com" and "bob@example.com" are one account', async () => {
    const w = world();
    const tag = hex();
    const first = await w.domain.accounts.findOrCreateByEmail(`Bob.${tag}@Example.com`, 'Bob');
    const accountsBefore = await w.count('accounts');
    const second = await w.domain.accounts.findOrCreateByEmail(`bob.${tag}@example.com`);
    const third = await w.domain.accounts.findOrCreateByEmail(`  BOB.${tag}@EXAMPLE.COM  `);
    expect(second.id).toBe(first.id);
    expect(third.id).toBe(first.id);
    expect(await w.count('accounts')).toBe(accountsBefore);
    expect(first.email).toBe(`Bob.${tag}@Example.com`);
    expect((await w.domain.accounts.findByEmail(`BOB.${tag}@example.COM`))?.id).toBe(first.id);
  });

  it('a new email creates an account with the given name, and the creation is audited', async () => {
    const w = world();
    const email = `new.${hex()}@example.com`;
    const a = await w.domain.accounts.findOrCreateByEmail(email, ' New   Person ');
    expect(a).toMatchObject({ email, displayName: 'New Person' });
    expect(await accountEvents(w, a.id)).toMatchObject([{ action: 'account.created', orgId: null, after: { email } }]);
  });

  it('concurrent creations of one email in different cases make one account', async () => {
    const w = world();
    const tag = hex();
    const accountsBefore = await w.count('accounts');
    const results = await released(w, 'audit_events', 4, () =>
      [`race.${tag}@example.com`, `RACE.${tag}@example.com`, `Race.${tag}@Example.com`, `race.${tag}@EXAMPLE.com`].map((e) =>
        w.domain.accounts.findOrCreateByEmail(e),
      ),
    );
    expect(new Set(results.map((a) => a.id)).size).toBe(1);
    expect(await w.count('accounts')).toBe(accountsBefore + 1);
    expect(await accountEvents(w, results[0]!.id)).toHaveLength(1);
  });

  it.each(['not-an-email', 'a@b', 'two words@example.com', '<x@example.com>', '', '@example.com', `${'a'.repeat(250)}@example.com`])(
    'the invalid email %j is refused and no account is created',
    async (email) => {
      const w = world();
      const accountsBefore = await w.count('accounts');
      await expect(w.domain.accounts.findOrCreateByEmail(email)).rejects.toMatchObject({
        code: 'invalid_input',
        message: expect.stringMatching(/not a valid email/),
      });
      expect(await w.count('accounts')).toBe(accountsBefore);
    },
  );

  it('get refuses a malformed id and reports an unknown one as not found', async () => {
    const w = world();
    const p = await w.person('Gettable');
    expect((await w.domain.accounts.get(p.account.id)).email).toBe(p.account.email);
    await expect(w.domain.accounts.get('nope')).rejects.toMatchObject({ code: 'invalid_input' });
    await expect(w.domain.accounts.get(randomUUID())).rejects.toMatchObject({ code: 'not_found' });
  });
});

describe('renaming an account', () => {
  it('a person renames themselves: the name is trimmed, the email never changes, and it is audited', async () => {
    const w = world();
    const p = await w.person('Old Name');
    const after = await w.domain.accounts.rename(p.actor, '   New    Name  ');
    expect(after).toMatchObject({ id: p.account.id, displayName: 'New Name', email: p.account.email });
    expect(await accountRow(w, p.account.id)).toMatchObject({ displayName: 'New Name', email: p.account.email });
    const events = (await accountEvents(w, p.account.id)).filter((e) => e.action === 'account.renamed');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      orgId: null,
      actorId: p.account.id,
      targetType: 'account',
      before: { displayName: 'Old Name' },
      after: { displayName: 'New Name' },
    });
  });

  it('a display name of exactly 80 characters is accepted', async () => {
    const w = world();
    const p = await w.person('Long');
    expect((await w.domain.accounts.rename(p.actor, 'L'.repeat(80))).displayName).toBe('L'.repeat(80));
  });

  it.each([
    ['empty', '', /cannot be empty/],
    ['only spaces', '  \t ', /cannot be empty/],
    ['81 characters', 'x'.repeat(81), /at most 80/],
  ])('a display name that is %s is refused; the name stays and nothing is audited', async (_label, name, message) => {
    const w = world();
    const p = await w.person('Stays');
    await expect(w.domain.accounts.rename(p.actor, name)).rejects.toMatchObject({
      code: 'invalid_input',
      message: expect.stringMatching(message),
    });
    expect((await accountRow(w, p.account.id))!.displayName).toBe('Stays');
    expect((await accountEvents(w, p.account.id)).filter((e) => e.action === 'account.renamed')).toHaveLength(0);
  });

  it('only a person can rename an account', async () => {
    const w = world();
    await expect(w.domain.accounts.rename(systemActor('test'), 'Robot')).rejects.toMatchObject({ code: 'forbidden' });
  });
});
