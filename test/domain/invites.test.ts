import { eq, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { useWorld, type World } from '../helpers/domain.js';
import { accountActor, type Actor } from '../../src/domain/context.js';
import type { InviteResult } from '../../src/domain/invites.js';
import { accounts, invites, memberships, type InviteRow, type Role } from '../../src/db/schema.js';

const world = useWorld();

const DAY = 24;

type Ok = Extract<InviteResult, { ok: true }>;
type Refused = Extract<InviteResult, { ok: false }>;

function ok(r: InviteResult | undefined): Ok {
  if (!r?.ok) throw new Error(`expected an invite, got ${r ? `${r.code}: ${r.message}` : 'nothing'}`);
  return r;
}
function refused(r: InviteResult | undefined): Refused {
  if (!r || r.ok) throw new Error(`expected a refusal, got ${r ? 'an invite' : 'nothing'}`);
  return r;
}

/** A new unique email of nobody yet. */
let seq = 0;
function freshEmail(tag = 'guest'): string {
  seq += 1;
  return `${tag}.${seq}.${Math.random().toString(36).slice(2, 8)}@example.org`;
}

async function inviteOne(w: World, by: Actor, orgId: string, email: string, opts: { role?: Role; billingEmails?: boolean } = {}): Promise<Ok> {
  return ok((await w.domain.invites.create(by, orgId, { emails: email, ...opts }))[0]);
}

async function inviteRow(w: World, id: string): Promise<InviteRow> {
  const [row] = await w.db.db.select().from(invites).where(eq(invites.id, id));
  if (!row) throw new Error(`no invite ${id}`);
  return row;
}

const audits = (w: World, action: string, targetId: string) => w.count('audit_events', `action = '${action}' and target_id = '${targetId}'`);
const invitesFor = (w: World, orgId: string, where = 'true') => w.count('invites', `org_id = '${orgId}' and (${where})`);
const membersOf = (w: World, orgId: string) => w.count('memberships', `org_id = '${orgId}'`);

async function membership(w: World, orgId: string, accountId: string) {
  const [m] = await w.db.db
    .select()
    .from(memberships)
    .where(sql`${memberships.orgId} = ${orgId} and ${memberships.accountId} = ${accountId}`);
  return m;
}

async function activeOrgOf(w: World, accountId: string) {
  const [a] = await w.db.db.select({ activeOrgId: accounts.activeOrgId }).from(accounts).where(eq(accounts.id, accountId));
  return a?.activeOrgId ?? null;
}

describe('creating invites', () => {
  it('invites many emails at once separated by spaces, commas, semicolons or newlines, one result each', async () => {
    const w = world();
    const { org, owner } = await w.org('Batch');
    const emails = [freshEmail('a'), freshEmail('b'), freshEmail('c'), freshEmail('d'), freshEmail('e')];
    const input = `${emails[0]} ${emails[1]},${emails[2]};${emails[3]}\n${emails[4]}`;
    const results = await w.domain.invites.create(owner.actor, org.id, { emails: input, role: 'developer' });
    expect(results.map((r) => r.email)).toEqual(emails);
    expect(results.every((r) => r.ok)).toBe(true);
    expect(await invitesFor(w, org.id, `status = 'pending' and role = 'developer'`)).toBe(5);
  });

  it('duplicate emails in any case collapse to one invite', async () => {
    const w = world();
    const { org, owner } = await w.org('Dupes');
    const e = freshEmail('dup');
    const results = await w.domain.invites.create(owner.actor, org.id, { emails: `${e}, ${e.toUpperCase()}\n${e}` });
    expect(results).toHaveLength(1);
    expect(ok(results[0]).email).toBe(e);
    expect(await invitesFor(w, org.id)).toBe(1);
  });

  it('an invalid email is refused on its own while the others are invited', async () => {
    const w = world();
    const { org, owner } = await w.org('Invalid');
    const good = freshEmail('good');
    const results = await w.domain.invites.create(owner.actor, org.id, { emails: `not-an-email ${good} bob@nodot` });
    expect(results).toHaveLength(3);
    expect(refused(results[0])).toMatchObject({ email: 'not-an-email', code: 'invalid_input' });
    expect(refused(results[0]).message).toMatch(/valid email/i);
    expect(ok(results[1]).email).toBe(good);
    expect(refused(results[2]).code).toBe('invalid_input');
    expect(await invitesFor(w, org.id)).toBe(1);
  });

  it('an existing member is refused as already_member, whatever the case of the email', async () => {
    const w = world();
    const { org, owner } = await w.org('Members');
    const dev = await w.member(org, owner.actor, 'developer');
    const results = await w.domain.invites.create(owner.actor, org.id, { emails: [dev.account.email!.toUpperCase(), owner.account.email!] });
    expect(results.map((r) => (r.ok ? 'ok' : r.code))).toEqual(['already_member', 'already_member']);
    expect(refused(results[0]).message).toMatch(/already a member/i);
    expect(await invitesFor(w, org.id, `status = 'pending'`)).toBe(0);
    expect(await w.count('audit_events', `org_id = '${org.id}' and action = 'invite.created'`)).toBe(1); // only dev's own invite
  });

  it('a pending invite blocks a second one with invite_pending and the pending invite id', async () => {
    const w = world();
    const { org, owner } = await w.org('Pending');
    const admin = await w.member(org, owner.actor, 'admin');
    const e = freshEmail('pend');
    const first = await inviteOne(w, owner.actor, org.id, e);
    const [again] = await w.domain.invites.create(admin.actor, org.id, { emails: e.toUpperCase(), role: 'admin' });
    const r = refused(again);
    expect(r.code).toBe('invite_pending');
    expect(r.inviteId).toBe(first.invite.id);
    expect(r.message).toMatch(/resend or update/i);
    expect(await invitesFor(w, org.id, `lower(email) = lower('${e}')`)).toBe(1);
    expect((await inviteRow(w, first.invite.id)).role).toBe('member');
  });

  it('the seat limit counts members and pending invites, refusing the invites past it', async () => {
    const w = world();
    const { org, owner } = await w.org('Seats');
    await w.domain.orgs.updateSettings(owner.actor, org.id, { seatLimit: 3 });
    const [a, b, c] = [freshEmail('s1'), freshEmail('s2'), freshEmail('s3')];
    const results = await w.domain.invites.create(owner.actor, org.id, { emails: [a, b, c] });
    expect(results.map((r) => (r.ok ? 'ok' : r.code))).toEqual(['ok', 'ok', 'seat_limit']);
    expect(refused(results[2]).message).toMatch(/seat/i);
    expect(await invitesFor(w, org.id)).toBe(2);
    expect(await w.count('audit_events', `org_id = '${org.id}' and action = 'invite.created'`)).toBe(2);
    expect(await w.count('notifications', `kind = 'invite.sent' and recipient_email = '${c}'`)).toBe(0);
  });

  it('a revoked invite frees its seat', async () => {
    const w = world();
    const { org, owner } = await w.org('SeatFree');
    await w.domain.orgs.updateSettings(owner.actor, org.id, { seatLimit: 2 });
    const first = await inviteOne(w, owner.actor, org.id, freshEmail());
    const e = freshEmail();
    expect(refused((await w.domain.invites.create(owner.actor, org.id, { emails: e }))[0]).code).toBe('seat_limit');
    await w.domain.invites.revoke(owner.actor, first.invite.id);
    await inviteOne(w, owner.actor, org.id, e);
  });

  it('an invite past its expiry does not count against the seat limit', async () => {
    const w = world();
    const { org, owner } = await w.org('SeatExpiry');
    await w.domain.orgs.updateSettings(owner.actor, org.id, { seatLimit: 2, inviteExpiry: '72h' });
    const stale = await inviteOne(w, owner.actor, org.id, freshEmail('stale'));
    const e = freshEmail('late');
    expect(refused((await w.domain.invites.create(owner.actor, org.id, { emails: e }))[0]).code).toBe('seat_limit');
    w.clock.advanceHours(73); // past expiry, no job has run
    await inviteOne(w, owner.actor, org.id, e);
    expect((await inviteRow(w, stale.invite.id)).status).toBe('pending'); // untouched: it just does not count
  });

  it('an admin cannot invite as owner: the whole batch is refused', async () => {
    const w = world();
    const { org, owner } = await w.org('AdminOwner');
    const admin = await w.member(org, owner.actor, 'admin');
    const before = await w.count('audit_events', `org_id = '${org.id}'`);
    const err = await w.domain.invites.create(admin.actor, org.id, { emails: `${freshEmail()} ${freshEmail()}`, role: 'owner' }).catch((e) => e);
    expect(err).toMatchObject({ code: 'forbidden' });
    expect(err.message).toMatch(/only owners/i);
    expect(await invitesFor(w, org.id, `status = 'pending'`)).toBe(0);
    expect(await w.count('audit_events', `org_id = '${org.id}'`)).toBe(before);
  });

  it('an owner can invite as owner and an admin can invite as admin', async () => {
    const w = world();
    const { org, owner } = await w.org('OwnerOwner');
    const admin = await w.member(org, owner.actor, 'admin');
    expect((await inviteOne(w, owner.actor, org.id, freshEmail(), { role: 'owner' })).invite.role).toBe('owner');
    expect((await inviteOne(w, admin.actor, org.id, freshEmail(), { role: 'admin' })).invite.role).toBe('admin');
  });

  it('member, billing and developer cannot invite at all', async () => {
    const w = world();
    const { org, owner } = await w.org('NoInvite');
    for (const role of ['member', 'billing', 'developer'] as const) {
      const p = await w.member(org, owner.actor, role);
      const err = await w.domain.invites.create(p.actor, org.id, { emails: freshEmail(), role: 'member' }).catch((e) => e);
      expect(err).toMatchObject({ code: 'forbidden' });
      expect(err.message).toMatch(/owners and admins/i);
    }
    expect(await invitesFor(w, org.id, `status = 'pending'`)).toBe(0);
  });

  it('an outsider cannot invite into an org', async () => {
    const w = world();
    const { org } = await w.org('Outsider');
    const stranger = await w.person('Stranger');
    await expect(w.domain.invites.create(stranger.actor, org.id, { emails: freshEmail() })).rejects.toMatchObject({ code: 'not_a_member' });
    expect(await invitesFor(w, org.id)).toBe(0);
  });

  it('at most 100 emails at once: 100 are invited, 101 are refused as invalid_input', async () => {
    const w = world();
    const { org, owner } = await w.org('Hundred');
    const tooMany = Array.from({ length: 101 }, () => freshEmail('many'));
    const err = await w.domain.invites.create(owner.actor, org.id, { emails: tooMany.join('\n') }).catch((e) => e);
    expect(err).toMatchObject({ code: 'invalid_input' });
    expect(err.message).toMatch(/at most 100/);
    expect(await invitesFor(w, org.id)).toBe(0);
    const results = await w.domain.invites.create(owner.actor, org.id, { emails: tooMany.slice(0, 100).join('\n') });
    expect(results.filter((r) => r.ok)).toHaveLength(100);
    expect(await invitesFor(w, org.id)).toBe(100);
  });

  it('an empty list of emails is invalid_input', async () => {
    const w = world();
    const { org, owner } = await w.org('Empty');
    for (const emails of ['', '  , ;\n ', [] as string[]]) {
      const err = await w.domain.invites.create(owner.actor, org.id, { emails }).catch((e) => e);
      expect(err).toMatchObject({ code: 'invalid_input' });
      expect(err.message).toMatch(/at least one email/i);
    }
    expect(await invitesFor(w, org.id)).toBe(0);
  });

  it('an unknown role is invalid_input', async () => {
    const w = world();
    const { org, owner } = await w.org('BadRole');
    const err = await w.domain.invites.create(owner.actor, org.id, { emails: freshEmail(), role: 'superuser' }).catch((e) => e);
    expect(err).toMatchObject({ code: 'invalid_input' });
    expect(err.message).toMatch(/not a role/i);
    expect(await invitesFor(w, org.id)).toBe(0);
  });

  it('an expired invite never blocks a new invite to the same email, even before the job runs', async () => {
    const w = world();
    const { org, owner } = await w.org('ExpiredBlock');
    const e = freshEmail('exp');
    const old = await inviteOne(w, owner.actor, org.id, e);
    w.clock.advanceHours(15 * DAY);
    const fresh = await inviteOne(w, owner.actor, org.id, e);
    expect(fresh.invite.id).not.toBe(old.invite.id);
    expect((await inviteRow(w, old.invite.id)).status).toBe('expired');
    expect(await audits(w, 'invite.expired', old.invite.id)).toBe(1);
    expect(await invitesFor(w, org.id, `status = 'pending'`)).toBe(1);
  });

  it('an invite expired by the job never blocks a new invite to the same email', async () => {
    const w = world();
    const { org, owner } = await w.org('ExpiredJob');
    const e = freshEmail('expjob');
    const old = await inviteOne(w, owner.actor, org.id, e);
    w.clock.advanceHours(15 * DAY);
    await w.domain.invites.expireDue();
    expect((await inviteRow(w, old.invite.id)).status).toBe('expired');
    await inviteOne(w, owner.actor, org.id, e);
  });

  it('a revoked invite never blocks a new invite to the same email', async () => {
    const w = world();
    const { org, owner } = await w.org('RevokedBlock');
    const e = freshEmail('rev');
    const old = await inviteOne(w, owner.actor, org.id, e);
    await w.domain.invites.revoke(owner.actor, old.invite.id);
    const fresh = await inviteOne(w, owner.actor, org.id, e);
    expect((await inviteRow(w, fresh.invite.id)).status).toBe('pending');
  });

  it('a declined invite never blocks a new invite to the same email', async () => {
    const w = world();
    const { org, owner } = await w.org('DeclinedBlock');
    const e = freshEmail('dec');
    const old = await inviteOne(w, owner.actor, org.id, e);
    await w.domain.invites.declineByToken(old.token);
    await inviteOne(w, owner.actor, org.id, e);
    expect(await invitesFor(w, org.id, `status = 'pending'`)).toBe(1);
  });

  it('invite expiry follows the org setting: 14 days by default, 72 hours, or never', async () => {
    const w = world();
    const { org, owner } = await w.org('Expiry');
    const t0 = w.clock.now().getTime();
    const def = await inviteOne(w, owner.actor, org.id, freshEmail());
    expect(def.invite.expiresAt?.getTime()).toBe(t0 + 14 * DAY * 3_600_000);
    await w.domain.orgs.updateSettings(owner.actor, org.id, { inviteExpiry: '72h' });
    const short = await inviteOne(w, owner.actor, org.id, freshEmail());
    expect(short.invite.expiresAt?.getTime()).toBe(t0 + 72 * 3_600_000);
    await w.domain.orgs.updateSettings(owner.actor, org.id, { inviteExpiry: 'never' });
    const forever = await inviteOne(w, owner.actor, org.id, freshEmail());
    expect(forever.invite.expiresAt).toBeNull();
    w.clock.advanceHours(400 * DAY);
    const look = await w.domain.invites.lookupByToken(forever.token);
    expect(look.state).toBe('pending');
  });

  it('creating an invite writes invite.created and queues an invite.sent notification to the email', async () => {
    const w = world();
    const { org, owner } = await w.org('Outbox');
    const e = freshEmail('box');
    const r = await inviteOne(w, owner.actor, org.id, e, { role: 'billing', billingEmails: true });
    const [event] = await w.domain.audit.query(owner.actor, org.id, { action: 'invite.created', targetId: r.invite.id });
    expect(event).toMatchObject({
      actorId: owner.account.id,
      targetType: 'invite',
      after: { email: e, role: 'billing', billingEmails: true, status: 'pending' },
    });
    // Invites go out by email and, for people in the Slack workspace, as a DM: one outbox row per channel.
    const sent = await w.db.pool.query(
      `select org_id, channel, payload from notifications where kind = 'invite.sent' and recipient_email = $1 order by channel`,
      [e],
    );
    expect(sent.rows.map((x) => x.channel)).toEqual(['email', 'slack']);
    expect(sent.rows[0]).toMatchObject({ org_id: org.id, payload: { inviteId: r.invite.id, orgName: org.name, role: 'billing' } });
  });
});

describe('invite tokens', () => {
  it('the token is 43 url-safe characters and only its sha256 is stored', async () => {
    const w = world();
    const { org, owner } = await w.org('Token');
    const r = await inviteOne(w, owner.actor, org.id, freshEmail('tok'));
    expect(r.token).toMatch(/^[A-Za-z0-9_-]{43}$/); // 43 base64url chars = 256 bits (≥128)
    const row = await inviteRow(w, r.invite.id);
    expect(row.tokenHash).not.toBe(r.token);
    expect(row.tokenHash).toBe((await import('node:crypto')).createHash('sha256').update(r.token).digest('hex'));
    // No column anywhere holds the token itself.
    for (const table of ['invites', 'audit_events', 'notifications']) {
      const hit = await w.db.pool.query(`select count(*)::int as n from ${table} t where row_to_json(t)::text like $1`, [`%${r.token}%`]);
      expect(hit.rows[0].n, table).toBe(0);
    }
  });

  it('two invites get different tokens', async () => {
    const w = world();
    const { org, owner } = await w.org('Tokens2');
    const a = await inviteOne(w, owner.actor, org.id, freshEmail());
    const b = await inviteOne(w, owner.actor, org.id, freshEmail());
    expect(a.token).not.toBe(b.token);
  });

  it('the invite page shows the org name, the inviter name, the role and the state', async () => {
    const w = world();
    const { org, owner } = await w.org('Lookup');
    const r = await inviteOne(w, owner.actor, org.id, freshEmail('look'), { role: 'developer' });
    const look = await w.domain.invites.lookupByToken(r.token);
    expect(look).toMatchObject({ state: 'pending', org: { id: org.id, name: org.name, slug: org.slug }, invitedByName: owner.account.displayName });
    expect(look.invite).toMatchObject({ id: r.invite.id, role: 'developer' });
    w.clock.advanceHours(15 * DAY);
    expect((await w.domain.invites.lookupByToken(r.token)).state).toBe('expired');
  });

  it('a made-up or malformed token is invite_not_found', async () => {
    const w = world();
    for (const token of ['A'.repeat(43), 'short', '', `${'x'.repeat(42)}!`, 'A'.repeat(44)]) {
      await expect(w.domain.invites.lookupByToken(token)).rejects.toMatchObject({ code: 'invite_not_found' });
      await expect(w.domain.invites.acceptByToken(token)).rejects.toMatchObject({ code: 'invite_not_found' });
      await expect(w.domain.invites.declineByToken(token)).rejects.toMatchObject({ code: 'invite_not_found' });
    }
  });
});

describe('accepting invites', () => {
  it('accepting by link adds the membership with the invite role and billing flag, source invite', async () => {
    const w = world();
    const { org, owner } = await w.org('AcceptLink');
    const p = await w.person('Joiner');
    const r = await inviteOne(w, owner.actor, org.id, p.account.email!, { role: 'developer', billingEmails: true });
    const res = await w.domain.invites.acceptByToken(r.token);
    expect(res.alreadyMember).toBe(false);
    expect(await membership(w, org.id, p.account.id)).toMatchObject({ role: 'developer', billingEmails: true, source: 'invite', status: 'active' });
    expect((await inviteRow(w, r.invite.id)).status).toBe('accepted');
    expect((await w.domain.invites.lookupByToken(r.token)).state).toBe('accepted');
  });

  it('accepting as the invited account (Slack) adds the membership with the invite role', async () => {
    const w = world();
    const { org, owner } = await w.org('AcceptSlack');
    const p = await w.person('SlackJoiner');
    const r = await inviteOne(w, owner.actor, org.id, p.account.email!, { role: 'billing' });
    await w.domain.invites.accept(accountActor(p.account.id, 'slack'), r.invite.id);
    expect(await membership(w, org.id, p.account.id)).toMatchObject({ role: 'billing', billingEmails: false, source: 'invite' });
  });

  it('accepting by link creates an email-only account for an email never seen before', async () => {
    const w = world();
    const { org, owner } = await w.org('NewAccount');
    const e = freshEmail('newbie');
    const r = await inviteOne(w, owner.actor, org.id, e);
    expect(await w.count('accounts', `lower(email) = lower('${e}')`)).toBe(0);
    const res = await w.domain.invites.acceptByToken(r.token, { displayName: 'New Bie' });
    const [acc] = await w.db.db.select().from(accounts).where(eq(accounts.id, res.membership.accountId));
    expect(acc).toMatchObject({ email: e, displayName: 'New Bie', activeOrgId: org.id });
  });

  it('accepting sets the active org for someone with none', async () => {
    const w = world();
    const { org, owner } = await w.org('ActiveNone');
    const p = await w.person('NoActive');
    expect(await activeOrgOf(w, p.account.id)).toBeNull();
    const r = await inviteOne(w, owner.actor, org.id, p.account.email!);
    await w.domain.invites.accept(p.actor, r.invite.id);
    expect(await activeOrgOf(w, p.account.id)).toBe(org.id);
  });

  it('accepting does not change an existing active org (multi-membership mode)', async () => {
    const w = world();
    const home = await w.org('Home');
    const other = await w.org('Other');
    const r = await inviteOne(w, other.owner.actor, other.org.id, home.owner.account.email!, { role: 'admin' });
    await w.domain.invites.accept(home.owner.actor, r.invite.id);
    expect(await activeOrgOf(w, home.owner.account.id)).toBe(home.org.id);
    const mine = await w.domain.orgs.listMine(home.owner.actor);
    expect(mine.map((m) => [m.org.id, m.role, m.active]).sort()).toEqual(
      [
        [home.org.id, 'owner', true],
        [other.org.id, 'admin', false],
      ].sort(),
    );
  });

  it('an invite can be used only once: a second accept is invite_used', async () => {
    const w = world();
    const { org, owner } = await w.org('Once');
    const p = await w.person('Once');
    const r = await inviteOne(w, owner.actor, org.id, p.account.email!);
    await w.domain.invites.acceptByToken(r.token);
    const err = await w.domain.invites.acceptByToken(r.token).catch((e) => e);
    expect(err).toMatchObject({ code: 'invite_used' });
    expect(err.message).toMatch(/already been used/i);
    await expect(w.domain.invites.accept(p.actor, r.invite.id)).rejects.toMatchObject({ code: 'invite_used' });
    expect(await w.count('memberships', `org_id = '${org.id}' and account_id = '${p.account.id}'`)).toBe(1);
    expect(await audits(w, 'invite.accepted', r.invite.id)).toBe(1);
  });

  it('an invite past its expiry cannot be accepted, even if no job has run', async () => {
    const w = world();
    const { org, owner } = await w.org('LateAccept');
    const p = await w.person('Late');
    const stranger = freshEmail('late-new');
    const r = await inviteOne(w, owner.actor, org.id, p.account.email!);
    const r2 = await inviteOne(w, owner.actor, org.id, stranger);
    w.clock.advanceHours(14 * DAY); // exactly at expiry
    const err = await w.domain.invites.acceptByToken(r.token).catch((e) => e);
    expect(err).toMatchObject({ code: 'invite_expired' });
    expect(err.message).toMatch(/expired/i);
    await expect(w.domain.invites.accept(p.actor, r.invite.id)).rejects.toMatchObject({ code: 'invite_expired' });
    await expect(w.domain.invites.acceptByToken(r2.token)).rejects.toMatchObject({ code: 'invite_expired' });
    expect(await membersOf(w, org.id)).toBe(1);
    expect(await w.count('accounts', `lower(email) = lower('${stranger}')`)).toBe(0); // the refused accept created no account
    expect((await inviteRow(w, r.invite.id)).status).toBe('pending');
    expect(await audits(w, 'invite.accepted', r.invite.id)).toBe(0);
  });

  it('an invite accepted just before its expiry works', async () => {
    const w = world();
    const { org, owner } = await w.org('JustInTime');
    const p = await w.person('InTime');
    const r = await inviteOne(w, owner.actor, org.id, p.account.email!);
    w.clock.advanceHours(14 * DAY - 1);
    await w.domain.invites.acceptByToken(r.token);
    expect(await membership(w, org.id, p.account.id)).toBeDefined();
  });

  it('a revoked invite cannot be accepted', async () => {
    const w = world();
    const { org, owner } = await w.org('RevokedAccept');
    const p = await w.person('Revoked');
    const r = await inviteOne(w, owner.actor, org.id, p.account.email!);
    await w.domain.invites.revoke(owner.actor, r.invite.id);
    await expect(w.domain.invites.acceptByToken(r.token)).rejects.toMatchObject({ code: 'invite_revoked' });
    await expect(w.domain.invites.accept(p.actor, r.invite.id)).rejects.toMatchObject({ code: 'invite_revoked', message: expect.stringMatching(/revoked/i) });
    expect(await membership(w, org.id, p.account.id)).toBeUndefined();
  });

  it('a declined invite cannot be accepted', async () => {
    const w = world();
    const { org, owner } = await w.org('DeclinedAccept');
    const p = await w.person('Decliner');
    const r = await inviteOne(w, owner.actor, org.id, p.account.email!);
    await w.domain.invites.decline(p.actor, r.invite.id);
    await expect(w.domain.invites.acceptByToken(r.token)).rejects.toMatchObject({ code: 'invite_declined' });
    await expect(w.domain.invites.accept(p.actor, r.invite.id)).rejects.toMatchObject({ code: 'invite_declined' });
    expect(await membership(w, org.id, p.account.id)).toBeUndefined();
  });

  it('a Slack user may accept only an invite addressed to their own email', async () => {
    const w = world();
    const { org, owner } = await w.org('WrongEmail');
    const intended = await w.person('Intended');
    const other = await w.person('Other');
    const r = await inviteOne(w, owner.actor, org.id, intended.account.email!);
    const err = await w.domain.invites.accept(accountActor(other.account.id, 'slack'), r.invite.id).catch((e) => e);
    expect(err).toMatchObject({ code: 'invite_wrong_email' });
    expect(err.message).toMatch(/isn't addressed to you/);
    expect(await membership(w, org.id, other.account.id)).toBeUndefined();
    expect((await inviteRow(w, r.invite.id)).status).toBe('pending');
  });

  it("refusing someone else's accept or decline never reveals the address the invite was sent to", async () => {
    const w = world();
    const { org, owner } = await w.org('NoLeak');
    const intended = await w.person('Bob Invitee');
    const other = await w.person('Eve Other');
    const r = await inviteOne(w, owner.actor, org.id, intended.account.email!);
    const address = intended.account.email!;
    for (const attempt of [() => w.domain.invites.accept(other.actor, r.invite.id), () => w.domain.invites.decline(other.actor, r.invite.id)]) {
      const err = await attempt().catch((e) => e);
      expect(err).toMatchObject({ code: 'invite_wrong_email' });
      expect(err.message).toMatch(/isn't addressed to you/);
      expect(err.message.toLowerCase()).not.toContain(address.toLowerCase());
      expect(err.message.toLowerCase()).not.toContain(address.split('@')[0]!.toLowerCase());
      expect(JSON.stringify((err as { details?: unknown }).details ?? {})).not.toContain(address);
    }
    expect((await inviteRow(w, r.invite.id)).status).toBe('pending');
  });

  it('the email match for a Slack user is case-insensitive', async () => {
    const w = world();
    const { org, owner } = await w.org('CaseAccept');
    const p = await w.person('Casey');
    const r = await inviteOne(w, owner.actor, org.id, p.account.email!.toUpperCase());
    await w.domain.invites.accept(accountActor(p.account.id, 'slack'), r.invite.id);
    expect(await membership(w, org.id, p.account.id)).toMatchObject({ role: 'member' });
  });

  it('a non-person actor cannot accept an invite', async () => {
    const w = world();
    const { org, owner } = await w.org('SystemAccept');
    const r = await inviteOne(w, owner.actor, org.id, freshEmail());
    await expect(w.domain.invites.accept({ type: 'system', job: 'x' }, r.invite.id)).rejects.toMatchObject({ code: 'forbidden' });
    expect((await inviteRow(w, r.invite.id)).status).toBe('pending');
  });

  it('the seat limit is checked again at accept', async () => {
    const w = world();
    const { org, owner } = await w.org('SeatAccept');
    const p = await w.person('Seated');
    const r = await inviteOne(w, owner.actor, org.id, p.account.email!);
    await w.domain.orgs.updateSettings(owner.actor, org.id, { seatLimit: 1 }); // only the owner fits now
    const err = await w.domain.invites.acceptByToken(r.token).catch((e) => e);
    expect(err).toMatchObject({ code: 'seat_limit' });
    expect(err.message).toMatch(/seat/i);
    expect(await membersOf(w, org.id)).toBe(1);
    expect((await inviteRow(w, r.invite.id)).status).toBe('pending');
    await w.domain.orgs.updateSettings(owner.actor, org.id, { seatLimit: 2 });
    await w.domain.invites.acceptByToken(r.token);
    expect(await membersOf(w, org.id)).toBe(2);
  });

  it('accepting notifies the inviter and writes invite.accepted and member.added', async () => {
    const w = world();
    const { org, owner } = await w.org('AcceptAudit');
    const admin = await w.member(org, owner.actor, 'admin');
    const p = await w.person('Audited');
    const r = await inviteOne(w, admin.actor, org.id, p.account.email!, { role: 'developer' });
    const res = await w.domain.invites.accept(p.actor, r.invite.id);
    const note = await w.db.pool.query(`select recipient_account_id, payload from notifications where kind = 'invite.accepted' and payload->>'inviteId' = $1`, [
      r.invite.id,
    ]);
    expect(note.rows).toEqual([
      { recipient_account_id: admin.account.id, payload: expect.objectContaining({ email: p.account.email, role: 'developer', orgName: org.name }) },
    ]);
    const [accepted] = await w.domain.audit.query(owner.actor, org.id, { action: 'invite.accepted', targetId: r.invite.id });
    expect(accepted).toMatchObject({ actorId: p.account.id, before: { status: 'pending' }, after: { status: 'accepted' } });
    const [added] = await w.domain.audit.query(owner.actor, org.id, { action: 'member.added', targetId: res.membership.id });
    expect(added).toMatchObject({ after: { accountId: p.account.id, role: 'developer', source: 'invite' } });
  });

  it('in multi-membership mode a member of one org can accept an invite to another', async () => {
    const w = world();
    const a = await w.org('MultiA');
    const b = await w.org('MultiB');
    const p = await w.member(a.org, a.owner.actor, 'member');
    const r = await inviteOne(w, b.owner.actor, b.org.id, p.account.email!);
    await w.domain.invites.acceptByToken(r.token);
    expect(await w.count('memberships', `account_id = '${p.account.id}'`)).toBe(2);
    // …and may create an org of their own.
    await w.domain.orgs.create(p.actor, { name: 'Multi Own' });
    expect(await w.count('memberships', `account_id = '${p.account.id}'`)).toBe(3);
  });
});

describe('declining invites', () => {
  it('the invitee can decline by link and the inviter is notified', async () => {
    const w = world();
    const { org, owner } = await w.org('DeclineLink');
    const e = freshEmail('nope');
    const r = await inviteOne(w, owner.actor, org.id, e);
    const after = await w.domain.invites.declineByToken(r.token);
    expect(after.status).toBe('declined');
    expect((await w.domain.invites.lookupByToken(r.token)).state).toBe('declined');
    expect(
      await w.count('notifications', `kind = 'invite.declined' and recipient_account_id = '${owner.account.id}' and payload->>'inviteId' = '${r.invite.id}'`),
    ).toBe(1);
    expect(await audits(w, 'invite.declined', r.invite.id)).toBe(1);
    expect(await w.count('accounts', `lower(email) = lower('${e}')`)).toBe(0); // declining creates no account
  });

  it('the invitee can decline as themselves; someone else cannot', async () => {
    const w = world();
    const { org, owner } = await w.org('DeclineSelf');
    const p = await w.person('SelfDecline');
    const other = await w.person('NotMe');
    const r = await inviteOne(w, owner.actor, org.id, p.account.email!);
    await expect(w.domain.invites.decline(other.actor, r.invite.id)).rejects.toMatchObject({ code: 'invite_wrong_email' });
    expect((await inviteRow(w, r.invite.id)).status).toBe('pending');
    await w.domain.invites.decline(p.actor, r.invite.id);
    expect(await inviteRow(w, r.invite.id)).toMatchObject({ status: 'declined', decidedById: p.account.id });
    expect(await w.count('notifications', `kind = 'invite.declined' and payload->>'inviteId' = '${r.invite.id}'`)).toBe(1);
  });

  it('an invite past its expiry can still be declined, before and after the expiry job', async () => {
    const w = world();
    const { org, owner } = await w.org('DeclineLate');
    const p = await w.person('LateDecline');
    const a = await inviteOne(w, owner.actor, org.id, p.account.email!);
    const b = await inviteOne(w, owner.actor, org.id, freshEmail('late-b'));
    w.clock.advanceHours(15 * DAY);
    await w.domain.invites.decline(p.actor, a.invite.id); // no job has run
    expect((await inviteRow(w, a.invite.id)).status).toBe('declined');
    await w.domain.invites.expireDue();
    expect((await inviteRow(w, b.invite.id)).status).toBe('expired');
    await w.domain.invites.declineByToken(b.token);
    expect((await inviteRow(w, b.invite.id)).status).toBe('declined');
    expect(await w.count('notifications', `kind = 'invite.declined' and org_id = '${org.id}'`)).toBe(2);
  });

  it('an accepted invite cannot be declined', async () => {
    const w = world();
    const { org, owner } = await w.org('DeclineUsed');
    const p = await w.person('Used');
    const r = await inviteOne(w, owner.actor, org.id, p.account.email!);
    await w.domain.invites.acceptByToken(r.token);
    await expect(w.domain.invites.declineByToken(r.token)).rejects.toMatchObject({ code: 'invite_used' });
    await expect(w.domain.invites.decline(p.actor, r.invite.id)).rejects.toMatchObject({ code: 'invite_used' });
    expect((await inviteRow(w, r.invite.id)).status).toBe('accepted');
    expect(await membership(w, org.id, p.account.id)).toBeDefined();
    expect(await w.count('notifications', `kind = 'invite.declined' and payload->>'inviteId' = '${r.invite.id}'`)).toBe(0);
  });

  it('a revoked invite cannot be declined', async () => {
    const w = world();
    const { org, owner } = await w.org('DeclineRevoked');
    const r = await inviteOne(w, owner.actor, org.id, freshEmail());
    await w.domain.invites.revoke(owner.actor, r.invite.id);
    await expect(w.domain.invites.declineByToken(r.token)).rejects.toMatchObject({ code: 'invite_revoked' });
    expect((await inviteRow(w, r.invite.id)).status).toBe('revoked');
  });
});

describe('resending invites', () => {
  it('resend issues a new token: the old link stops working and the new one works', async () => {
    const w = world();
    const { org, owner } = await w.org('Resend');
    const p = await w.person('Resent');
    const r = await inviteOne(w, owner.actor, org.id, p.account.email!);
    const again = await w.domain.invites.resend(owner.actor, r.invite.id);
    expect(again.token).not.toBe(r.token);
    expect(again.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    await expect(w.domain.invites.lookupByToken(r.token)).rejects.toMatchObject({ code: 'invite_not_found' });
    await expect(w.domain.invites.acceptByToken(r.token)).rejects.toMatchObject({ code: 'invite_not_found' });
    expect(await membership(w, org.id, p.account.id)).toBeUndefined();
    await w.domain.invites.acceptByToken(again.token);
    expect(await membership(w, org.id, p.account.id)).toBeDefined();
  });

  it('resend sets a new expiry, resets sent reminders, notifies again and writes invite.resent', async () => {
    const w = world();
    const { org, owner } = await w.org('ResendExpiry');
    const e = freshEmail('again');
    const r = await inviteOne(w, owner.actor, org.id, e);
    await w.db.db
      .update(invites)
      .set({ remindersSent: [72, 24] })
      .where(eq(invites.id, r.invite.id));
    w.clock.advanceHours(5 * DAY);
    const again = await w.domain.invites.resend(owner.actor, r.invite.id);
    expect(again.invite.expiresAt?.getTime()).toBe(w.clock.now().getTime() + 14 * DAY * 3_600_000);
    expect(again.invite.remindersSent).toEqual([]);
    expect(again.invite.status).toBe('pending');
    expect(await w.count('notifications', `kind = 'invite.sent' and channel = 'email' and recipient_email = '${e}'`)).toBe(2);
    const [event] = await w.domain.audit.query(owner.actor, org.id, { action: 'invite.resent', targetId: r.invite.id });
    expect(event?.before).toMatchObject({ expiresAt: r.invite.expiresAt!.toISOString() });
    expect(event?.after).toMatchObject({ expiresAt: again.invite.expiresAt!.toISOString(), status: 'pending' });
  });

  it('an expired invite can be resent, whether or not the job has swept it', async () => {
    const w = world();
    const { org, owner } = await w.org('ResendExpired');
    const a = await w.person('ExpA');
    const b = await w.person('ExpB');
    const ra = await inviteOne(w, owner.actor, org.id, a.account.email!);
    const rb = await inviteOne(w, owner.actor, org.id, b.account.email!);
    w.clock.advanceHours(15 * DAY);
    await w.db.db.update(invites).set({ status: 'expired' }).where(eq(invites.id, rb.invite.id)); // as the job would
    const na = await w.domain.invites.resend(owner.actor, ra.invite.id);
    const nb = await w.domain.invites.resend(owner.actor, rb.invite.id);
    expect(na.invite.status).toBe('pending');
    expect(nb.invite.status).toBe('pending');
    await w.domain.invites.acceptByToken(na.token);
    await w.domain.invites.accept(b.actor, rb.invite.id);
    expect(await membersOf(w, org.id)).toBe(3);
  });

  it('accepted, revoked and declined invites cannot be resent', async () => {
    const w = world();
    const { org, owner } = await w.org('ResendDone');
    const accepted = await inviteOne(w, owner.actor, org.id, freshEmail());
    await w.domain.invites.acceptByToken(accepted.token);
    const revoked = await inviteOne(w, owner.actor, org.id, freshEmail());
    await w.domain.invites.revoke(owner.actor, revoked.invite.id);
    const declined = await inviteOne(w, owner.actor, org.id, freshEmail());
    await w.domain.invites.declineByToken(declined.token);
    for (const r of [accepted, revoked, declined]) {
      const before = await inviteRow(w, r.invite.id);
      await expect(w.domain.invites.resend(owner.actor, r.invite.id)).rejects.toMatchObject({ code: 'invite_not_pending' });
      expect(await inviteRow(w, r.invite.id)).toEqual(before);
      expect(await audits(w, 'invite.resent', r.invite.id)).toBe(0);
    }
  });

  it('an admin cannot resend an owner invite; an owner can', async () => {
    const w = world();
    const { org, owner } = await w.org('ResendOwner');
    const admin = await w.member(org, owner.actor, 'admin');
    const r = await inviteOne(w, owner.actor, org.id, freshEmail(), { role: 'owner' });
    await expect(w.domain.invites.resend(admin.actor, r.invite.id)).rejects.toMatchObject({ code: 'forbidden' });
    expect((await inviteRow(w, r.invite.id)).tokenHash).toBe(r.invite.tokenHash);
    await w.domain.invites.resend(owner.actor, r.invite.id);
    expect((await inviteRow(w, r.invite.id)).tokenHash).not.toBe(r.invite.tokenHash);
  });

  it('resending an expired invite checks the seat limit', async () => {
    const w = world();
    const { org, owner } = await w.org('ResendSeat');
    await w.domain.orgs.updateSettings(owner.actor, org.id, { seatLimit: 2, inviteExpiry: '72h' });
    const stale = await inviteOne(w, owner.actor, org.id, freshEmail());
    w.clock.advanceHours(73);
    const taker = await inviteOne(w, owner.actor, org.id, freshEmail()); // took the freed seat
    const err = await w.domain.invites.resend(owner.actor, stale.invite.id).catch((e) => e);
    expect(err).toMatchObject({ code: 'seat_limit' });
    expect(err.message).toMatch(/seat/i);
    expect((await inviteRow(w, stale.invite.id)).tokenHash).toBe(stale.invite.tokenHash);
    // A pending invite can always be resent: it already holds its seat.
    await w.domain.invites.resend(owner.actor, taker.invite.id);
  });

  it('a member cannot resend an invite', async () => {
    const w = world();
    const { org, owner } = await w.org('ResendMember');
    const m = await w.member(org, owner.actor, 'member');
    const r = await inviteOne(w, owner.actor, org.id, freshEmail());
    await expect(w.domain.invites.resend(m.actor, r.invite.id)).rejects.toMatchObject({ code: 'forbidden' });
    expect(await audits(w, 'invite.resent', r.invite.id)).toBe(0);
  });
});

describe('updating invites', () => {
  it('an admin can change the role and billing emails of a pending invite, audited with before and after', async () => {
    const w = world();
    const { org, owner } = await w.org('Update');
    const admin = await w.member(org, owner.actor, 'admin');
    const p = await w.person('Updated');
    const r = await inviteOne(w, owner.actor, org.id, p.account.email!, { role: 'member' });
    const after = await w.domain.invites.update(admin.actor, r.invite.id, { role: 'admin', billingEmails: true });
    expect(after).toMatchObject({ role: 'admin', billingEmails: true, status: 'pending' });
    const [event] = await w.domain.audit.query(owner.actor, org.id, { action: 'invite.updated', targetId: r.invite.id });
    expect(event).toMatchObject({ actorId: admin.account.id, before: { role: 'member', billingEmails: false }, after: { role: 'admin', billingEmails: true } });
    await w.domain.invites.acceptByToken(r.token); // the link still works and gives the new role
    expect(await membership(w, org.id, p.account.id)).toMatchObject({ role: 'admin', billingEmails: true });
  });

  it('an admin cannot set owner on an invite; an owner can', async () => {
    const w = world();
    const { org, owner } = await w.org('UpdateOwner');
    const admin = await w.member(org, owner.actor, 'admin');
    const r = await inviteOne(w, owner.actor, org.id, freshEmail());
    await expect(w.domain.invites.update(admin.actor, r.invite.id, { role: 'owner' })).rejects.toMatchObject({ code: 'forbidden' });
    expect((await inviteRow(w, r.invite.id)).role).toBe('member');
    expect(await audits(w, 'invite.updated', r.invite.id)).toBe(0);
    await w.domain.invites.update(owner.actor, r.invite.id, { role: 'owner' });
    expect((await inviteRow(w, r.invite.id)).role).toBe('owner');
    // …and from then on an admin cannot touch it at all.
    await expect(w.domain.invites.update(admin.actor, r.invite.id, { billingEmails: true })).rejects.toMatchObject({ code: 'forbidden' });
  });

  it('an invite that is not pending cannot be updated', async () => {
    const w = world();
    const { org, owner } = await w.org('UpdateDone');
    const revoked = await inviteOne(w, owner.actor, org.id, freshEmail());
    await w.domain.invites.revoke(owner.actor, revoked.invite.id);
    await expect(w.domain.invites.update(owner.actor, revoked.invite.id, { role: 'admin' })).rejects.toMatchObject({ code: 'invite_not_pending' });
    const late = await inviteOne(w, owner.actor, org.id, freshEmail());
    w.clock.advanceHours(15 * DAY);
    const err = await w.domain.invites.update(owner.actor, late.invite.id, { role: 'admin' }).catch((e) => e);
    expect(err).toMatchObject({ code: 'invite_not_pending' });
    expect(err.message).toMatch(/expired/i);
    expect((await inviteRow(w, late.invite.id)).role).toBe('member');
    expect(await audits(w, 'invite.updated', late.invite.id)).toBe(0);
  });

  it('an update with nothing to change or an unknown role is invalid_input', async () => {
    const w = world();
    const { org, owner } = await w.org('UpdateEmpty');
    const r = await inviteOne(w, owner.actor, org.id, freshEmail());
    await expect(w.domain.invites.update(owner.actor, r.invite.id, {})).rejects.toMatchObject({ code: 'invalid_input' });
    await expect(w.domain.invites.update(owner.actor, r.invite.id, { role: 'king' })).rejects.toMatchObject({ code: 'invalid_input' });
    expect(await audits(w, 'invite.updated', r.invite.id)).toBe(0);
  });
});

describe('revoking invites', () => {
  it('revoking a pending invite makes its link show revoked; revoking twice is refused', async () => {
    const w = world();
    const { org, owner } = await w.org('Revoke');
    const admin = await w.member(org, owner.actor, 'admin');
    const r = await inviteOne(w, owner.actor, org.id, freshEmail());
    const after = await w.domain.invites.revoke(admin.actor, r.invite.id);
    expect(after).toMatchObject({ status: 'revoked', decidedById: admin.account.id });
    expect((await w.domain.invites.lookupByToken(r.token)).state).toBe('revoked');
    expect(await audits(w, 'invite.revoked', r.invite.id)).toBe(1);
    await expect(w.domain.invites.revoke(admin.actor, r.invite.id)).rejects.toMatchObject({ code: 'invite_not_pending' });
    expect(await audits(w, 'invite.revoked', r.invite.id)).toBe(1);
  });

  it('a member cannot revoke an invite and an admin cannot revoke an owner invite', async () => {
    const w = world();
    const { org, owner } = await w.org('RevokeRights');
    const admin = await w.member(org, owner.actor, 'admin');
    const m = await w.member(org, owner.actor, 'member');
    const plain = await inviteOne(w, owner.actor, org.id, freshEmail());
    const own = await inviteOne(w, owner.actor, org.id, freshEmail(), { role: 'owner' });
    await expect(w.domain.invites.revoke(m.actor, plain.invite.id)).rejects.toMatchObject({ code: 'forbidden' });
    await expect(w.domain.invites.revoke(admin.actor, own.invite.id)).rejects.toMatchObject({ code: 'forbidden' });
    expect((await inviteRow(w, plain.invite.id)).status).toBe('pending');
    expect((await inviteRow(w, own.invite.id)).status).toBe('pending');
  });
});

describe('invite links', () => {
  it('linkToken returns the current working token, the same as tokenOf', async () => {
    const w = world();
    const { org, owner } = await w.org('Link');
    const admin = await w.member(org, owner.actor, 'admin');
    const p = await w.person('Linked');
    const r = await inviteOne(w, owner.actor, org.id, p.account.email!);
    expect(await w.domain.invites.linkToken(admin.actor, r.invite.id)).toBe(r.token);
    expect(w.domain.invites.tokenOf(r.invite)).toBe(r.token);
    const again = await w.domain.invites.resend(owner.actor, r.invite.id);
    const link = await w.domain.invites.linkToken(admin.actor, r.invite.id, { orgId: org.id });
    expect(link).toBe(again.token);
    expect(w.domain.invites.tokenOf(await inviteRow(w, r.invite.id))).toBe(again.token);
    await w.domain.invites.acceptByToken(link);
    expect(await membership(w, org.id, p.account.id)).toBeDefined();
  });

  it('there is no link to copy for an invite that is not pending, and members cannot copy links', async () => {
    const w = world();
    const { org, owner } = await w.org('LinkDone');
    const m = await w.member(org, owner.actor, 'member');
    const r = await inviteOne(w, owner.actor, org.id, freshEmail());
    await expect(w.domain.invites.linkToken(m.actor, r.invite.id)).rejects.toMatchObject({ code: 'forbidden' });
    await w.domain.invites.revoke(owner.actor, r.invite.id);
    await expect(w.domain.invites.linkToken(owner.actor, r.invite.id)).rejects.toMatchObject({ code: 'invite_not_pending' });
  });
});

describe('listing invites', () => {
  it('pending invites are listed for owners and admins only', async () => {
    const w = world();
    const { org, owner } = await w.org('List');
    const admin = await w.member(org, owner.actor, 'admin');
    const m = await w.member(org, owner.actor, 'member');
    const e = freshEmail('listed');
    await inviteOne(w, admin.actor, org.id, e, { role: 'developer' });
    const list = await w.domain.invites.listPending(owner.actor, org.id);
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ email: e, role: 'developer', state: 'pending', invitedByName: admin.account.displayName });
    expect(await w.domain.invites.listPending(admin.actor, org.id)).toHaveLength(1);
    await expect(w.domain.invites.listPending(m.actor, org.id)).rejects.toMatchObject({ code: 'forbidden' });
    const stranger = await w.person('Nosy');
    await expect(w.domain.invites.listPending(stranger.actor, org.id)).rejects.toMatchObject({ code: 'not_a_member' });
  });

  it('an expired invite no job has swept yet is listed as expired; accepted and revoked ones are not listed', async () => {
    const w = world();
    const { org, owner } = await w.org('ListExpired');
    const late = await inviteOne(w, owner.actor, org.id, freshEmail('late'));
    const gone = await inviteOne(w, owner.actor, org.id, freshEmail('gone'));
    await w.domain.invites.revoke(owner.actor, gone.invite.id);
    const used = await inviteOne(w, owner.actor, org.id, freshEmail('used'));
    await w.domain.invites.acceptByToken(used.token);
    w.clock.advanceHours(15 * DAY);
    const fresh = await inviteOne(w, owner.actor, org.id, freshEmail('fresh'));
    const list = await w.domain.invites.listPending(owner.actor, org.id);
    expect(list.map((i) => [i.id, i.state])).toEqual([
      [late.invite.id, 'expired'],
      [fresh.invite.id, 'pending'],
    ]);
  });

  it('listForMe shows the invites addressed to my email across orgs, and only live ones', async () => {
    const w = world();
    const a = await w.org('ForMeA');
    const b = await w.org('ForMeB');
    const c = await w.org('ForMeC');
    const me = await w.person('Me');
    const other = await w.person('NotMe');
    const ra = await inviteOne(w, a.owner.actor, a.org.id, me.account.email!);
    const rb = await inviteOne(w, b.owner.actor, b.org.id, me.account.email!.toUpperCase(), { role: 'admin' });
    const rc = await inviteOne(w, c.owner.actor, c.org.id, me.account.email!);
    await w.domain.invites.revoke(c.owner.actor, rc.invite.id);
    await inviteOne(w, a.owner.actor, a.org.id, other.account.email!);
    const mine = await w.domain.invites.listForMe(me.actor);
    expect(mine.map((i) => [i.id, i.orgName, i.role]).sort()).toEqual(
      [
        [ra.invite.id, a.org.name, 'member'],
        [rb.invite.id, b.org.name, 'admin'],
      ].sort(),
    );
    expect(mine.find((i) => i.id === ra.invite.id)?.invitedByName).toBe(a.owner.account.displayName);
    w.clock.advanceHours(15 * DAY);
    expect(await w.domain.invites.listForMe(me.actor)).toEqual([]);
  });
});

describe('the expiry job', () => {
  it('expireDue expires only invites past expiry, one invite.expired event each, and a second run expires nothing', async () => {
    const w = world();
    // Sweep whatever earlier tests in this file left behind, so the counts below are this test's alone.
    w.clock.advanceHours(1000 * DAY);
    await w.domain.invites.expireDue();
    const { org, owner } = await w.org('Job');
    await w.domain.orgs.updateSettings(owner.actor, org.id, { inviteExpiry: '72h' });
    const a = await inviteOne(w, owner.actor, org.id, freshEmail('ja'));
    const b = await inviteOne(w, owner.actor, org.id, freshEmail('jb'));
    await w.domain.orgs.updateSettings(owner.actor, org.id, { inviteExpiry: '7d' });
    const c = await inviteOne(w, owner.actor, org.id, freshEmail('jc'));
    await w.domain.orgs.updateSettings(owner.actor, org.id, { inviteExpiry: 'never' });
    const d = await inviteOne(w, owner.actor, org.id, freshEmail('jd'));
    w.clock.advanceHours(71);
    expect(await w.domain.invites.expireDue()).toBe(0);
    w.clock.advanceHours(1);
    expect(await w.domain.invites.expireDue()).toBe(2);
    expect(await w.domain.invites.expireDue()).toBe(0);
    const statuses = await Promise.all([a, b, c, d].map(async (r) => (await inviteRow(w, r.invite.id)).status));
    expect(statuses).toEqual(['expired', 'expired', 'pending', 'pending']);
    for (const r of [a, b]) expect(await audits(w, 'invite.expired', r.invite.id)).toBe(1);
    for (const r of [c, d]) expect(await audits(w, 'invite.expired', r.invite.id)).toBe(0);
    const [event] = await w.domain.audit.query(owner.actor, org.id, { action: 'invite.expired', targetId: a.invite.id });
    expect(event).toMatchObject({ actorType: 'system', orgId: org.id, targetType: 'invite' });
    expect((await w.domain.invites.lookupByToken(a.token)).state).toBe('expired');
    await expect(w.domain.invites.acceptByToken(a.token)).rejects.toMatchObject({ code: 'invite_expired' });
  });
});

describe('invites of another org', () => {
  it("an admin of one org cannot see or change another org's invite, and nothing changes", async () => {
    const w = world();
    const a = await w.org('TenantA');
    const b = await w.org('TenantB');
    const adminA = await w.member(a.org, a.owner.actor, 'admin');
    const r = await inviteOne(w, b.owner.actor, b.org.id, freshEmail('tenant'));
    const before = await inviteRow(w, r.invite.id);
    const eventsBefore = await w.count('audit_events', `target_id = '${r.invite.id}'`);
    const id = r.invite.id;
    const scoped = { orgId: a.org.id };
    const attempts: [string, () => Promise<unknown>][] = [
      ['resend', () => w.domain.invites.resend(adminA.actor, id)],
      ['resend scoped', () => w.domain.invites.resend(adminA.actor, id, scoped)],
      ['update', () => w.domain.invites.update(adminA.actor, id, { role: 'admin' })],
      ['update scoped', () => w.domain.invites.update(adminA.actor, id, { role: 'admin' }, scoped)],
      ['revoke', () => w.domain.invites.revoke(adminA.actor, id)],
      ['revoke scoped', () => w.domain.invites.revoke(adminA.actor, id, scoped)],
      ['linkToken', () => w.domain.invites.linkToken(adminA.actor, id)],
      ['linkToken scoped', () => w.domain.invites.linkToken(adminA.actor, id, scoped)],
      ['get', () => w.domain.invites.get(adminA.actor, id)],
    ];
    for (const [name, attempt] of attempts) {
      const err = await attempt().then(
        () => undefined,
        (e) => e,
      );
      expect(['invite_not_found', 'not_a_member'], name).toContain(err?.code);
    }
    expect(await inviteRow(w, r.invite.id)).toEqual(before);
    expect(await w.count('audit_events', `target_id = '${r.invite.id}'`)).toBe(eventsBefore);
    expect(await w.domain.invites.linkToken(b.owner.actor, id)).toBe(r.token); // the link still works for org B
  });

  it('an unknown or malformed invite id is refused', async () => {
    const w = world();
    const { owner } = await w.org('Unknown');
    await expect(w.domain.invites.resend(owner.actor, '00000000-0000-4000-8000-000000000000')).rejects.toMatchObject({ code: 'invite_not_found' });
    await expect(w.domain.invites.accept(owner.actor, '00000000-0000-4000-8000-000000000000')).rejects.toMatchObject({ code: 'invite_not_found' });
    await expect(w.domain.invites.revoke(owner.actor, 'nope')).rejects.toMatchObject({ code: 'invalid_input' });
  });
});
