import { defaultRole, describeRole } from '../../domain/access.js';
import { inviteUrl } from '../../domain/invites.js';
import { type CliCtx, type Command, UsageError, onOff, orgAndActor } from '../context.js';
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

/**
 * roster invites <org>: the pending ones · invites revoke|resend <org> <email> ·
 * invites update <org> <email> [--role <role>] [--billing-emails on|off]
 */
export const invites: Command = async (c, [first, ...rest]) => {
  if (first === 'revoke' || first === 'resend' || first === 'update') return manage(c, first, rest);
  return list(c, first === 'list' ? rest[0] : first);
};

async function manage(c: CliCtx, verb: 'revoke' | 'resend' | 'update', [ref, email, value]: string[]): Promise<number> {
  const { org, actor } = await orgAndActor(c, ref);
  if (!email) throw new UsageError(`Name the invite by its email: roster invites ${verb} ${org.slug} <email>`);
  const found = (await c.domain.invites.listPending(actor, org.id)).find((i) => i.email.toLowerCase() === email.toLowerCase());
  if (!found) {
    c.out.error(`${org.name} has no pending invite for ${email}. \`roster invites ${org.slug}\` lists them.`);
    return 1;
  }
  const opts = { orgId: org.id };
  if (verb === 'revoke') {
    await c.domain.invites.revoke(actor, found.id, opts);
    c.out.print(`The invite for ${found.email} was revoked; its link no longer works.`);
    return 0;
  }
  if (verb === 'resend') {
    const { invite, token } = await c.domain.invites.resend(actor, found.id, opts);
    c.out.print(`The invite for ${invite.email} was sent again; it expires ${when(invite.expiresAt)}.\n  ${inviteUrl(c.publicUrl, token)}`);
    return 0;
  }
  // --billing-emails is a switch elsewhere; here it takes on|off (as its own word after the email).
  const changes: { role?: string; billingEmails?: boolean } = {};
  if (c.flags.role !== undefined) changes.role = c.flags.role;
  if (c.flags['billing-emails'] || value !== undefined)
    changes.billingEmails = onOff(value, `roster invites update ${org.slug} ${email} --billing-emails on|off`);
  if (!Object.keys(changes).length)
    throw new UsageError(`Say what to change: roster invites update ${org.slug} ${email} [--role <role>] [--billing-emails on|off]`);
  const after = await c.domain.invites.update(actor, found.id, changes, opts);
  c.out.print(
    `The invite for ${after.email} now gives ${describeRole(after.role)}${after.billingEmails ? ', with billing emails' : ', without billing emails'}.`,
  );
  return 0;
}

async function list(c: CliCtx, ref: string | undefined): Promise<number> {
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
}
