import { sql } from 'drizzle-orm';
import { builtOnceSql, slot } from '../db/built-once.js';
import { rowOf } from '../db/rows.js';
import { accounts, type AccountRow } from '../db/schema.js';
import { emit } from './events.js';
import type { Actor, Executor } from './context.js';
import { fail } from './errors.js';
import { emailSchema, nameSchema, parseInput } from './validation.js';

/** Accounts by email: the one place an address becomes an account (Slack, SCIM, invites and links all come here). */

export const displayNameSchema = nameSchema('display name', 80);

export async function findAccountByEmail(ex: Executor, email: string): Promise<AccountRow | undefined> {
  const [a] = await ex
    .select()
    .from(accounts)
    .where(sql`lower(${accounts.email}) = lower(${email.trim()})`);
  return a;
}

function nameFromEmail(email: string): string {
  return email.split('@')[0]!.slice(0, 80) || email.slice(0, 80);
}

export function cleanDisplayName(name: string | undefined, email: string | undefined): string {
  const r = displayNameSchema.safeParse(name ?? '');
  if (r.success) return r.data;
  return email ? nameFromEmail(email) : 'Unnamed';
}

// One round trip: the existing account, or a new one (an IdP provisioning thousands mostly creates).
const accountForEmail = builtOnceSql<Record<string, unknown> & { created: boolean }>(
  'account for email',
  sql`
    with found as (select * from accounts where lower(email) = lower(${slot('email')}))
    , made as (
      insert into accounts (email, display_name, created_at, updated_at)
      select ${slot('email')}, ${slot('name')}, ${slot('now')}, ${slot('now')}
      where not exists (select 1 from found)
      on conflict do nothing
      returning *)
    select *, true as created from made
    union all
    select *, false as created from found`,
);

/**
 * The account owning this email, created if nobody has it yet. The same email from Slack, SCIM or an
 * invite is the same account (case-insensitive). Safe under concurrency: a racing insert is re-read.
 */
export async function findOrCreateAccountByEmail(
  ex: Executor,
  input: { email: string; displayName?: string | undefined },
  actor: Actor,
  now: Date,
): Promise<{ account: AccountRow; created: boolean }> {
  const email = parseInput(emailSchema, input.email);
  // One round trip: the existing account, or a new one (an IdP provisioning thousands mostly creates).
  const r = await accountForEmail(ex, { email, name: cleanDisplayName(input.displayName, email), now });
  const hit = r.rows[0];
  if (!hit) {
    // Another transaction created it after this statement's snapshot was taken: read it now.
    const raced = await findAccountByEmail(ex, email);
    if (!raced) fail('invalid_input', 'Could not create an account for that email.');
    return { account: raced, created: false };
  }
  const account = rowOf(accounts, hit);
  if (!hit.created) return { account, created: false };
  await emit(ex, actor, { orgId: null, action: 'account.created', targetType: 'account', targetId: account.id, after: { email } }, now);
  return { account, created: true };
}
