import { defaultRole, describeRole } from '../../domain/access.js';
import { inviteUrl } from '../../domain/invites.js';
import { type Command, UsageError, orgAndActor } from '../context.js';
import { table, when } from '../table.js';

/** roster invite <org> <email…>: one line per address; exit code 1 when any was refused. */
export const invite: Command = async (c, [ref, ...emails]) => {
  if (!emails.length) throw new UsageError(`Give one or more emails: roster invite <org> a@example.com b@example.com --role ${defaultRole}`);
  const { org, actor } = await orgAndActor(c, ref);
  const results = await c.domain.invites.create(actor, org.id, {
    emails,
    role: c.flags.role ?? defaultRole,
    billingEmails: c.flags['billing-emails'] ?? false,
  });
  for (const r of results) {
    if (r.ok) {
      c.out.print(`✓ ${r.email}: invited as ${describeRole(r.invite.role)}, expires ${when(r.invite.expiresAt)}\n  ${inviteUrl(c.publicUrl, r.token)}`);
    } else {
      c.out.error(`✗ ${r.email}: ${r.message}`);
    }
  }
  return results.every((r) => r.ok) ? 0 : 1;
};

/** roster invites <org>: the pending ones. */
export const invites: Command = async (c, [ref]) => {
  const { org, actor } = await orgAndActor(c, ref);
  const pending = await c.domain.invites.listPending(actor, org.id);
  if (!pending.length) {
    c.out.print(`${org.name} has no pending invites.`);
    return 0;
  }
  c.out.print(
    table(
      ['EMAIL', 'ROLE', 'STATE', 'EXPIRES', 'INVITED BY', 'ID'],
      pending.map((i) => [i.email, describeRole(i.role), i.state, when(i.expiresAt), i.invitedByName ?? '', i.id]),
    ),
  );
  return 0;
};
