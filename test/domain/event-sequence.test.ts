import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/wait.js';
import type { World } from '../helpers/domain.js';
import { useWorld } from '../helpers/domain.js';
import { createDomain } from '../../src/domain/index.js';
import { systemActor } from '../../src/domain/context.js';
import { emit, withEvents } from '../../src/domain/events.js';
import { numberEvents } from '../../src/domain/event-numbers.js';

const world = useWorld({ poolSize: 12 });

/** An org's events as a feed would read them: by sequence number. */
async function orgEvents(w: World, orgId: string) {
  await w.domain.feed.number();
  const r = await w.db.pool.query<{ id: string; seq: string; action: string; target_id: string }>(
    'select a.id, s.seq, a.action, a.target_id from event_seqs s join audit_events a on a.id = s.event_id where s.org_id = $1 order by s.seq',
    [orgId],
  );
  return r.rows.map((e) => ({ id: Number(e.id), seq: Number(e.seq), action: e.action, targetId: e.target_id }));
}

const oneToN = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

describe("every event is numbered in its org's sequence", () => {
  it("an org's events are numbered 1, 2, 3 … from its creation, with no gaps", async () => {
    const w = world();
    const { org, owner } = await w.org('Seq');
    const dev = await w.member(org, owner.actor, 'developer');
    await w.domain.members.changeRole(owner.actor, org.id, dev.account.id, 'admin');
    await w.domain.orgs.rename(owner.actor, org.id, 'Seq renamed');
    const events = await orgEvents(w, org.id);
    expect(events.map((e) => e.seq)).toEqual(oneToN(events.length));
    expect(events[0]!.action).toBe('org.created');
    expect(events.at(-1)!.action).toBe('org.renamed');
    expect(events.at(-2)!.action).toBe('member.role_changed');
  });

  it('changes made at the same time in one org get distinct numbers, in the order they were written, with no gaps', async () => {
    const w = world();
    const { org, owner } = await w.org('Parallel Seq');
    const before = (await orgEvents(w, org.id)).length;
    const emails = Array.from({ length: 30 }, (_, i) => `p${i}.${org.id.slice(0, 8)}@example.com`);
    await Promise.all(emails.map((email) => w.domain.invites.create(owner.actor, org.id, { emails: email, role: 'member' })));
    const events = await orgEvents(w, org.id);
    expect(events.length).toBe(before + 30);
    expect(events.map((e) => e.seq)).toEqual(oneToN(events.length));
    // The numbers follow the order the rows were written in (their ids): a reader never sees a lower
    // number appear after a higher one.
    expect(events.map((e) => e.id)).toEqual([...events.map((e) => e.id)].sort((a, b) => a - b));
  });

  it("each org has its own sequence: another org's events do not use up its numbers", async () => {
    const w = world();
    const a = await w.org('Seq A');
    const b = await w.org('Seq B');
    await w.domain.orgs.rename(a.owner.actor, a.org.id, 'Seq A2');
    await w.domain.orgs.rename(b.owner.actor, b.org.id, 'Seq B2');
    for (const o of [a.org, b.org]) {
      const events = await orgEvents(w, o.id);
      expect(events.map((e) => e.seq)).toEqual(oneToN(events.length));
    }
  });

  it("invites the expiry job expires get the next numbers of their org's sequence", async () => {
    const w = world();
    const p = await w.pendingInvite('Seq Expiry', 'member', { inviteExpiry: '72h' });
    w.clock.advance(73 * 3600_000);
    await w.domain.invites.expireDue();
    const events = await orgEvents(w, p.org.id);
    expect(events.map((e) => e.seq)).toEqual(oneToN(events.length));
    expect(events.at(-1)).toMatchObject({ action: 'invite.expired', targetId: p.invite.id });
  });

  it("an account's own changes (no org) carry no number", async () => {
    const w = world();
    const p = await w.person('Seq Person');
    await w.domain.accounts.rename(p.actor, 'Seq Person Renamed');
    await w.domain.feed.number();
    const r = await w.db.pool.query(
      `select s.seq, (select count(*)::int from unnumbered_events u where u.id = a.id) as waiting
       from audit_events a left join event_seqs s on s.event_id = a.id where a.action = 'account.renamed' and a.target_id = $1`,
      [p.account.id],
    );
    expect(r.rows).toEqual([{ seq: null, waiting: 0 }]);
  });

  it("a deleted org's numbering outlives it: its deletion is the last event, numbered after the others", async () => {
    const w = world();
    const { org, owner } = await w.org('Seq Delete');
    await w.domain.orgs.delete(owner.actor, org.id, org.name);
    const events = await orgEvents(w, org.id);
    expect(events.map((e) => e.seq)).toEqual(oneToN(events.length));
    expect(events.at(-1)!.action).toBe('org.deleted');
  });
});

describe('numbering and webhook endpoints changing at the same time', () => {
  it('a background numbering step the database refuses is reported (the server logs it), and the next reader numbers the events', async () => {
    const w = world();
    const failures: string[] = [];
    const domain = createDomain({
      db: w.db.db,
      clock: w.clock,
      settings: { membershipMode: 'multi', inviteTokenKey: Buffer.alloc(32, 1), webhookSecretKey: Buffer.alloc(32, 2) },
      onBackgroundError: (err, what) => failures.push(`${what}: ${(err as { cause?: Error }).cause?.message}`),
    });
    const { org, owner } = await w.org('Seq Refused');
    await Promise.all([domain.feed.idle(), w.domain.feed.idle()]);
    await w.db.pool.query(`create function refuse_numbering() returns trigger language plpgsql as $$ begin raise exception 'numbering refused'; end $$`);
    await w.db.pool.query(`create trigger refuse_numbering before insert or update on org_event_seqs for each row execute function refuse_numbering()`);
    try {
      await domain.orgs.rename(owner.actor, org.id, 'Seq Refused renamed');
      await waitFor(() => failures.length > 0, 'the background step to fail');
      expect(failures[0]).toMatch(/^Numbering committed events failed.*numbering refused/);
    } finally {
      await w.db.pool.query('drop trigger refuse_numbering on org_event_seqs; drop function refuse_numbering()');
    }
    const events = await orgEvents(w, org.id);
    expect(events.map((e) => e.seq)).toEqual(oneToN(events.length));
    expect(events.at(-1)!.action).toBe('org.renamed');
  });

  it('an endpoint deleted while its events are being numbered is waited for and left out: the numbering step does not fail', async () => {
    const w = world();
    const domain = createDomain({
      db: w.db.db,
      clock: w.clock,
      settings: { membershipMode: 'multi', inviteTokenKey: Buffer.alloc(32, 1), webhookSecretKey: Buffer.alloc(32, 2) },
    });
    const { org, owner } = await w.org('Seq Hooks');
    const made = await domain.webhooks.create(owner.actor, org.id, { url: 'https://example.com/hook' });
    // Both domains' background steps (due a moment after those commits) are done: none numbers the event below.
    await Promise.all([domain.feed.idle(), w.domain.feed.idle()]);
    await numberEvents(w.db.db);
    // An event written straight through withEvents (no background numbering), then the endpoint's
    // deletion held open in another connection while the numbering step runs.
    await withEvents(w.db.db).transaction((tx) =>
      emit(
        tx,
        systemActor('test'),
        { orgId: org.id, action: 'org.renamed', targetType: 'org', targetId: org.id, before: { name: 'a' }, after: { name: 'b' } },
        new Date(),
      ),
    );
    const other = await w.db.pool.connect();
    try {
      await other.query('begin');
      await other.query('delete from webhook_endpoints where id = $1', [made.endpoint.id]);
      let settled = false;
      const numbering = numberEvents(w.db.db).finally(() => (settled = true));
      await new Promise((r) => setTimeout(r, 300));
      expect(settled).toBe(false); // it waits for the deletion (key share on the endpoint)
      await other.query('commit');
      expect(await numbering).toBeGreaterThanOrEqual(1);
    } finally {
      other.release();
    }
    const events = await orgEvents(w, org.id);
    expect(events.map((e) => e.seq)).toEqual(oneToN(events.length));
    expect(events.at(-1)!.action).toBe('org.renamed');
    expect((await w.db.pool.query('select count(*)::int as n from webhook_deliveries where endpoint_id = $1', [made.endpoint.id])).rows[0].n).toBe(0);
  });
});
