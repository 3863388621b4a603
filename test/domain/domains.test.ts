import { randomBytes } from 'node:crypto';
import { and, asc, eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { auditEvents, orgDomains } from '../../src/db/schema.js';
import { isOnVerifiedDomain } from '../../src/domain/domains/service.js';
import { useDnsServer } from '../helpers/dns.js';
import { useWorld, type World } from '../helpers/domain.js';

const dns = useDnsServer();
const world = useWorld({ dns });

/** A domain nobody else in this file uses (.test is reserved for testing: RFC 2606). */
const newDomain = () => `acme-${randomBytes(3).toString('hex')}.test`;

async function eventsOf(w: World, orgId: string, action: string) {
  return w.db.db
    .select()
    .from(auditEvents)
    .where(and(eq(auditEvents.orgId, orgId), eq(auditEvents.action, action)))
    .orderBy(asc(auditEvents.id));
}

async function refusal(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (err) {
    return err as { code: string; message: string };
  }
  throw new Error('expected a refusal');
}

/** An org with a domain added, its record published in the test DNS server, and verified. */
async function verifiedOrg(w: World, domain = newDomain()) {
  const { org, owner } = await w.org('Verified');
  const added = await w.domain.domains.add(owner.actor, org.id, domain);
  dns.setTxt(added.record.name, added.record.value);
  const v = await w.domain.domains.verify(owner.actor, org.id, domain);
  expect(v.status).toBe('verified');
  return { org, owner, domain };
}

describe('adding a domain', () => {
  it('an owner adds a domain and is shown the TXT record to publish; it stays pending until proven', async () => {
    const w = world();
    const { org, owner } = await w.org();
    const domain = newDomain();
    const view = await w.domain.domains.add(owner.actor, org.id, `  https://${domain.toUpperCase()}./ `);
    expect(view).toMatchObject({ domain, status: 'pending', enrollment: 'off', record: { type: 'TXT', name: `_roster-challenge.${domain}` } });
    expect(view.record.value).toMatch(/^roster-verification=[\w-]{32}$/);
    expect(view.failsAt!.getTime() - w.clock.now().getTime()).toBe(30 * 86_400_000);
    expect(await w.domain.domains.list(owner.actor, org.id)).toEqual([view]);
    const [event] = await eventsOf(w, org.id, 'domain.added');
    expect(event!.after).toMatchObject({ domain, status: 'pending', record: `_roster-challenge.${domain}` });
  });

  it('each org gets its own challenge value, so one org cannot publish a record that proves another', async () => {
    const w = world();
    const domain = newDomain();
    const a = await w.org('A');
    const b = await w.org('B');
    const va = await w.domain.domains.add(a.owner.actor, a.org.id, domain);
    const vb = await w.domain.domains.add(b.owner.actor, b.org.id, domain);
    expect(va.record.value).not.toBe(vb.record.value);
    dns.setTxt(va.record.name, va.record.value);
    expect((await w.domain.domains.verify(b.owner.actor, b.org.id, domain)).status).toBe('pending');
    expect((await w.domain.domains.verify(b.owner.actor, b.org.id, domain)).lastCheckResult).toMatch(/does not hold this domain's value/);
  });

  it.each([
    ['gmail.com', /free email provider/],
    ['outlook.com', /free email provider/],
    ['mailinator.com', /(free email provider|disposable)/],
    ['co.uk', /public suffix/],
    ['github.io', /public suffix/],
    ['carol@acme.com', /domain only \(e\.g\. acme\.com\)/],
    ['10.0.0.1', /not an IP address/],
    ['not a domain', /is not a domain name/],
    ['localhost', /is not a domain name/],
  ])('%s cannot be claimed: %s', async (typed, message) => {
    const w = world();
    const { org, owner } = await w.org();
    const err = await refusal(w.domain.domains.add(owner.actor, org.id, typed));
    expect(err.message).toMatch(message);
    expect(await w.count('org_domains', `org_id = '${org.id}'`)).toBe(0);
  });

  it('only owners manage domains: an admin is refused and nothing is stored', async () => {
    const w = world();
    const { org, owner } = await w.org();
    const admin = await w.member(org, owner.actor, 'admin');
    const err = await refusal(w.domain.domains.add(admin.actor, org.id, newDomain()));
    expect(err.code).toBe('forbidden');
    expect(await w.count('org_domains', `org_id = '${org.id}'`)).toBe(0);
  });

  it('the same domain twice on one org is refused with a clear message', async () => {
    const w = world();
    const { org, owner } = await w.org();
    const domain = newDomain();
    await w.domain.domains.add(owner.actor, org.id, domain);
    const err = await refusal(w.domain.domains.add(owner.actor, org.id, domain));
    expect(err.code).toBe('domain_already_added');
  });
});

describe('DNS verification (a real DNS server on loopback)', () => {
  it('verify finds the published TXT record, marks the domain verified, and audits it', async () => {
    const w = world();
    const { org, owner } = await w.org();
    const domain = newDomain();
    const added = await w.domain.domains.add(owner.actor, org.id, domain);
    const missing = await w.domain.domains.verify(owner.actor, org.id, domain);
    expect(missing).toMatchObject({ status: 'pending', lastCheckResult: expect.stringMatching(/No TXT record found at _roster-challenge\./) });
    // Other TXT records beside it (SPF, other vendors) do not matter; a long value split in strings is one value.
    const half = added.record.value.length / 2;
    dns.setTxt(added.record.name, 'v=spf1 -all', [added.record.value.slice(0, half), added.record.value.slice(half)]);
    const v = await w.domain.domains.verify(owner.actor, org.id, domain);
    expect(v).toMatchObject({ status: 'verified', lastCheckResult: null, failsAt: null });
    expect(v.verifiedAt).toEqual(w.clock.now());
    const [event] = await eventsOf(w, org.id, 'domain.verified');
    expect(event).toMatchObject({ before: { domain, status: 'pending' }, after: { domain, status: 'verified' } });
    expect(await isOnVerifiedDomain(w.db.db, org.id, `Carol@${domain.toUpperCase()}`)).toBe(true);
    expect(await isOnVerifiedDomain(w.db.db, org.id, `carol@eu.${domain}`)).toBe(false);
  });

  it('a DNS server that fails or does not answer leaves the domain pending, saying DNS did not answer', async () => {
    const w = world();
    const { org, owner } = await w.org();
    const [d1, d2] = [newDomain(), newDomain()];
    await w.domain.domains.add(owner.actor, org.id, d1);
    await w.domain.domains.add(owner.actor, org.id, d2);
    dns.fail(`_roster-challenge.${d1}`, 'servfail');
    dns.fail(`_roster-challenge.${d2}`, 'timeout');
    for (const d of [d1, d2]) {
      const v = await w.domain.domains.verify(owner.actor, org.id, d);
      expect(v.status).toBe('pending');
      expect(v.lastCheckResult).toMatch(/DNS did not answer for _roster-challenge\..*Roster will try again/);
    }
  });

  it('one domain, one org: once verified, no other org can add it or verify it', async () => {
    const w = world();
    const domain = newDomain();
    const other = await w.org('Other');
    // A claim made before the first org proved the domain stays pending, and says why.
    const early = await w.domain.domains.add(other.owner.actor, other.org.id, domain);
    dns.setTxt(early.record.name, 'something else');
    await verifiedOrg(w, domain);
    dns.setTxt(early.record.name, early.record.value);
    const late = await w.domain.domains.verify(other.owner.actor, other.org.id, domain);
    expect(late).toMatchObject({ status: 'pending', lastCheckResult: expect.stringMatching(/Another organization has verified this domain/) });
    const third = await w.org('Third');
    expect((await refusal(w.domain.domains.add(third.owner.actor, third.org.id, domain))).code).toBe('domain_taken');
    expect(await w.count('org_domains', `domain = '${domain}' and status = 'verified'`)).toBe(1);
  });

  it('removing a verified domain frees it for another org, and is audited', async () => {
    const w = world();
    const { org, owner, domain } = await verifiedOrg(w);
    await w.domain.domains.remove(owner.actor, org.id, domain);
    expect(await eventsOf(w, org.id, 'domain.removed')).toHaveLength(1);
    const next = await w.org('Next');
    const added = await w.domain.domains.add(next.owner.actor, next.org.id, domain);
    dns.setTxt(added.record.name, added.record.value);
    expect((await w.domain.domains.verify(next.owner.actor, next.org.id, domain)).status).toBe('verified');
  });
});

describe('what verifying changes', () => {
  it("people the org's IdP added on the domain before it was verified get access once it is (IdP first, DNS second)", async () => {
    const w = world();
    const { org, owner } = await w.org();
    const domain = newDomain();
    const added = await w.domain.domains.add(owner.actor, org.id, domain);
    const idp = { type: 'scim' as const, tokenId: 'okta-token', orgId: org.id, label: 'okta' };
    const email = `early.${randomBytes(3).toString('hex')}@${domain}`;
    await w.domain.scim.createUser(idp, { userName: email, emails: [{ value: email, primary: true }] });
    const status = async () =>
      (await w.db.pool.query(`select m.status from memberships m join accounts a on a.id = m.account_id where m.org_id = $1 and a.email = $2`, [org.id, email]))
        .rows[0]?.status;
    expect(await status()).toBe('pending');
    dns.setTxt(added.record.name, added.record.value);
    await w.domain.domains.verify(owner.actor, org.id, domain);
    expect(await status()).toBe('active');
    expect((await eventsOf(w, org.id, 'member.added')).at(-1)!.after).toMatchObject({ domainVerified: domain, source: 'scim' });
  });
});

describe('the recheck job', () => {
  it('rechecks pending domains, verifying those whose record appeared, and not more often than every 15 minutes', async () => {
    const w = world();
    const { org, owner } = await w.org();
    const domain = newDomain();
    const added = await w.domain.domains.add(owner.actor, org.id, domain);
    await w.domain.domains.recheckPending();
    expect(dns.asked(added.record.name)).toBe(1);
    dns.setTxt(added.record.name, added.record.value);
    await w.domain.domains.recheckPending();
    expect(dns.asked(added.record.name)).toBe(1);
    w.clock.advance(15 * 60_000 + 1);
    await w.domain.domains.recheckPending();
    const [row] = await w.db.db.select().from(orgDomains).where(eq(orgDomains.orgId, org.id));
    expect(row!.status).toBe('verified');
    const [event] = await eventsOf(w, org.id, 'domain.verified');
    expect(event!.actorLabel).toBe('Roster job verify-domains');
  });

  it('two processes rechecking at once never check the same domain twice', async () => {
    const w = world();
    const { org, owner } = await w.org();
    const names: string[] = [];
    for (let i = 0; i < 6; i++) names.push((await w.domain.domains.add(owner.actor, org.id, newDomain())).record.name);
    w.clock.advance(16 * 60_000);
    await Promise.all([w.domain.domains.recheckPending(), w.domain.domains.recheckPending()]);
    expect(names.map((n) => dns.asked(n))).toEqual(names.map(() => 1));
  });

  it('a domain not verified within 30 days is marked failed, audited, and can be retried with a new window', async () => {
    const w = world();
    const { org, owner } = await w.org();
    const domain = newDomain();
    const added = await w.domain.domains.add(owner.actor, org.id, domain);
    w.clock.advance(30 * 86_400_000 - 60_000);
    await w.domain.domains.recheckPending();
    expect((await w.domain.domains.list(owner.actor, org.id))[0]!.status).toBe('pending');
    w.clock.advance(20 * 60_000);
    expect(await w.domain.domains.recheckPending()).toMatchObject({ failed: 1 });
    const [failed] = await w.domain.domains.list(owner.actor, org.id);
    expect(failed).toMatchObject({ status: 'failed', failsAt: null });
    const [event] = await eventsOf(w, org.id, 'domain.verification_failed');
    expect(event!.after).toMatchObject({ status: 'failed', reason: expect.stringMatching(/^Not verified within 30 days\. No TXT record found/) });
    // A failed domain is no longer rechecked by the job…
    w.clock.advance(60 * 60_000);
    const askedBefore = dns.asked(added.record.name);
    await w.domain.domains.recheckPending();
    expect(dns.asked(added.record.name)).toBe(askedBefore);
    // …but the owner can retry it, which starts a new 30-day window; publishing the record then proves it.
    const retried = await w.domain.domains.verify(owner.actor, org.id, domain);
    expect(retried.status).toBe('pending');
    expect(retried.failsAt!.getTime()).toBe(w.clock.now().getTime() + 30 * 86_400_000);
    dns.setTxt(added.record.name, added.record.value);
    expect((await w.domain.domains.verify(owner.actor, org.id, domain)).status).toBe('verified');
  });
});

describe('enrollment modes', () => {
  it('a pending domain cannot let people join; a verified one can, with member as the default role and owner refused', async () => {
    const w = world();
    const { org, owner } = await w.org();
    const pending = newDomain();
    await w.domain.domains.add(owner.actor, org.id, pending);
    expect((await refusal(w.domain.domains.setEnrollment(owner.actor, org.id, pending, 'auto_join'))).code).toBe('domain_not_verified');
    const { domain, org: vorg, owner: vowner } = await verifiedOrg(w);
    const v = await w.domain.domains.setEnrollment(vowner.actor, vorg.id, domain, 'auto_join');
    expect(v).toMatchObject({ enrollment: 'auto_join', enrollmentRole: 'member' });
    expect((await refusal(w.domain.domains.setEnrollment(vowner.actor, vorg.id, domain, 'auto_join', 'owner'))).message).toMatch(/Nobody becomes an owner/);
    expect((await w.domain.domains.setEnrollment(vowner.actor, vorg.id, domain, 'suggest', 'developer')).enrollmentRole).toBe('developer');
    const events = await eventsOf(w, vorg.id, 'domain.enrollment_changed');
    expect(events.map((e) => e.after)).toEqual([
      { domain, enrollment: 'auto_join', role: 'member' },
      { domain, enrollment: 'suggest', role: 'developer' },
    ]);
    expect((await refusal(w.domain.domains.setEnrollment(vowner.actor, vorg.id, domain, 'everyone'))).message).toMatch(/Enrollment is one of/);
  });
});
