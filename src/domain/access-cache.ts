import type { Invalidation } from '../db/notify.js';
import type { MembershipRow } from '../db/schema.js';
import type { Role } from './access.js';
import { createTokenCache } from './token-cache.js';

/**
 * The memberships authorize found (org, person → role and status), kept in memory so the product's
 * call on every request usually costs no query. Served only while this process listens on
 * roster_access: migration 0019 notifies every process at the commit of anything that can change a
 * found answer (a role or status, a membership ending, an email or Slack identity moving), and this
 * process also forgets at once after its own such changes (`changesAccess`). A person not found is not
 * kept, so a new member needs no notification. Between another process's commit and the notification
 * arriving (milliseconds) the previous answer can still be given.
 */
export type FoundMembership = { role: Role; status: MembershipRow['status'] };

const MAX_ENTRIES = 100_000;

export function createAccessCache(changes?: Invalidation) {
  return createTokenCache<FoundMembership>(changes, { maxEntries: MAX_ENTRIES });
}

export type AccessCache = ReturnType<typeof createAccessCache>;

/** Event actions after which this process forgets what it found (anything that may move a membership). */
export function changesAccess(action: string): boolean {
  return action.startsWith('member.') || action.startsWith('account.') || action.startsWith('scim.') || action === 'org.deleted';
}
