import { assertCanGrant, authorize, parseRole, type Role } from '../access.js';
import type { Actor, Deps, Tx } from '../context.js';
import { fail } from '../errors.js';
import { lockOrgFor, requireMembership } from '../standing.js';
import { normalizeEmail, parseInput } from '../validation.js';
import { emailProblem, inviteOneIn, refusalOf } from './invite-one.js';
import { createSchema, MAX_EMAILS_PER_INVITE, splitEmails, type CreateInvitesInput, type InviteResult } from './state.js';

/** Inviting one or many emails at once, each with its own result. */
export function createInviteCreation(deps: Deps) {
  const { db, clock, settings } = deps;

  /** Invites one or many emails with one role; each email gets its own result. */
  async function create(actor: Actor, orgId: string, input: CreateInvitesInput): Promise<InviteResult[]> {
    const parsed = parseInput(createSchema, input);
    const role = parseRole(parsed.role);
    const emails = splitEmails(parsed.emails);
    if (!emails.length) fail('invalid_input', 'Give at least one email address to invite.');
    if (emails.length > MAX_EMAILS_PER_INVITE) {
      fail('invalid_input', `You can invite at most ${MAX_EMAILS_PER_INVITE} emails at once (you gave ${emails.length}).`);
    }
    // Rights are checked once up front so a refusal is one clear message, not one per email.
    const standing = await requireMembership(db, actor, orgId);
    authorize(standing, 'member:invite');
    assertCanGrant(standing.role, role);

    const results: InviteResult[] = [];
    for (const raw of emails) {
      const email = normalizeEmail(raw);
      const problem = emailProblem(email);
      if (problem) {
        results.push({ email, ok: false, code: 'invalid_input', message: problem });
        continue;
      }
      try {
        results.push(await db.transaction((tx) => createOne(tx, actor, orgId, email, role, parsed.billingEmails)));
      } catch (err) {
        const refusal = refusalOf(err);
        if (!refusal) throw err;
        results.push({ email, ok: false, ...refusal });
      }
    }
    return results;
  }

  async function createOne(tx: Tx, actor: Actor, orgId: string, email: string, role: Role, billingEmails: boolean): Promise<InviteResult> {
    const { org, standing } = await lockOrgFor(tx, actor, orgId, 'member:invite');
    const { invite, token } = await inviteOneIn(tx, settings, actor, { org, standing, email, role, billingEmails, now: clock.now() });
    return { email, ok: true, invite, token };
  }

  return { create };
}
