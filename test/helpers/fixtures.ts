import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { Database } from '../../src/db/client.js';
import type { AccountRow, OrgRow, Role } from '../../src/db/schema.js';
import { accountActor, type Actor } from '../../src/domain/context.js';
import type { Domain } from '../../src/domain/index.js';

/** Fixtures made through the real domain, shared by every harness. */

/** A short random hex tag, for unique org names and emails. */
export const uniq = (): string => randomBytes(4).toString('hex');

export type Person = { account: AccountRow; actor: Actor };

/** A new person (unique `name.<tag>@example.com` email) in no org. */
export async function newPerson(domain: Domain, name = 'Person'): Promise<Person> {
  const email = `${name.toLowerCase().replace(/\W+/g, '.')}.${uniq()}@example.com`;
  const account = await domain.accounts.findOrCreateByEmail(email, name);
  return { account, actor: accountActor(account.id, 'api') };
}

/** `by` invites the person (by email) to the org with the role, and they accept: a real invite, start to end. */
export async function joinByInvite(domain: Domain, org: OrgRow, by: Actor, p: { actor: Actor; email: string }, role: Role): Promise<void> {
  const [r] = await domain.invites.create(by, org.id, { emails: p.email, role });
  if (!r?.ok) throw new Error(`invite failed: ${r?.message}`);
  await domain.invites.accept(p.actor, r.invite.id);
}

/** A new person who joined the org with the role through a real invite from `by`. */
export async function newMember(domain: Domain, org: OrgRow, by: Actor, role: Role): Promise<Person> {
  const p = await newPerson(domain, `${role} person`);
  await joinByInvite(domain, org, by, { actor: p.actor, email: p.account.email! }, role);
  return p;
}

/** How many rows of `table` match the SQL condition `where` (test-written SQL, never user input). */
export async function countRows(db: Database, table: string, where = 'true'): Promise<number> {
  const r = await db.db.execute<{ n: number }>(sql.raw(`select count(*)::int as n from ${table} where ${where}`));
  return r.rows[0]!.n;
}

/**
 * Marks a domain verified for the org, as if its TXT record had been checked: for tests about what a
 * verified domain allows (SCIM, enrollment), not about verifying one (test/domain/domains.test.ts runs
 * the real DNS check against a loopback DNS server).
 */
export async function verifiedDomainForTest(db: Database, orgId: string, domain: string): Promise<void> {
  await db.db.execute(sql`
    insert into org_domains (org_id, domain, status, challenge, verified_at)
    values (${orgId}, ${domain.toLowerCase()}, 'verified', ${`roster-verification=test-${uniq()}`}, now())`);
}
