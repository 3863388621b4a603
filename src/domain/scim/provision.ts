import type { OrgRow } from '../../db/schema.js';
import { findOrCreateAccountByEmail } from '../accounts.js';
import type { Actor, Deps, Tx } from '../context.js';
import { isOnVerifiedDomain } from '../domains/service.js';
import { addMembership, assertMayJoinAnotherOrg, assertSeatAvailable, declinedBefore } from '../membership-rules/index.js';
import { findMembership } from '../standing.js';
import { setStatus } from './roles.js';

/** How the person asked for consent hears of the IdP: "Acme's identity provider (SCIM token okta)". */
function idpLabel(actor: Actor): string {
  return actor.type === 'scim' ? `SCIM token ${actor.label}` : 'identity provider';
}

/**
 * The account a SCIM user's email names, found or created: what the IdP calls the person stays on the
 * org's SCIM user; a new account takes that name only from a trusted IdP (one of the org's verified
 * domains: README, Domains and trust).
 */
export async function accountFor(
  tx: Tx,
  actor: Actor,
  orgId: string,
  email: string,
  idpName: string | undefined,
  now: Date,
  /** Whether the email is on one of the org's verified domains, if the caller has asked already. */
  onVerifiedDomain?: boolean,
) {
  const trusted = onVerifiedDomain ?? (await isOnVerifiedDomain(tx, orgId, email));
  const { account, created } = await findOrCreateAccountByEmail(tx, { email, displayName: trusted ? idpName : undefined }, actor, now);
  return { account, created, trusted, email };
}

/**
 * The membership of a SCIM user's account, once the user row names it: the org's default SCIM role
 * (or the membership the person already had), suspended if the IdP says inactive.
 */
export async function admit(
  tx: Tx,
  deps: Pick<Deps, 'settings'>,
  actor: Actor,
  org: OrgRow,
  linked: Awaited<ReturnType<typeof accountFor>>,
  active: boolean,
  now: Date,
): Promise<void> {
  const { account, created, trusted, email } = linked;
  // A person Roster has never seen has no membership to look for.
  const membership = created ? undefined : await findMembership(tx, org.id, account.id, { lock: true });
  if (!membership) {
    // Someone else's address waits for their consent: no access, and no refusal the IdP would retry.
    if (trusted) await assertMayJoinAnotherOrg(tx, deps.settings, account.id, org.id);
    await assertSeatAvailable(tx, org, now);
    // Someone who declined this org before is not asked again (an IdP re-creating them cannot spam them).
    const pending = trusted ? undefined : { email, idp: idpLabel(actor), quiet: !created && (await declinedBefore(tx, org.id, account.id)) };
    await addMembership(tx, actor, { org, accountId: account.id, role: org.scimDefaultRole, billingEmails: false, source: 'scim', pending }, now);
  }
  if (!active) await setStatus(tx, actor, org, account.id, 'suspended', now);
}

/** Two JSON values equal whatever their key order (jsonb keeps keys in its own order). */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((v, i) => sameJson(v, b[i]));
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(b)) {
    const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
    const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
    return ka.length === kb.length && ka.every((k) => sameJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
  }
  return false;
}
