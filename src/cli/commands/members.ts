import { describeRole } from '../../domain/access.js';
import type { OrgRow } from '../../db/schema.js';
import type { Actor } from '../../domain/context.js';
import type { MemberView } from '../../domain/members.js';
import { type CliCtx, type Command, UsageError, onOff, orgAndActor } from '../context.js';
import { table, when } from '../table.js';

const verbs = ['list', 'role', 'remove', 'billing', 'transfer'] as const;

/**
 * roster members <org> · members list <org> · members role <org> <email> <role> [--force] ·
 * members remove <org> <email> [--force] · members billing <org> <email> on|off · members transfer <org> <email>
 */
export const members: Command = async (c, args) => {
  const [first, ...rest] = args;
  if (!verbs.includes(first as (typeof verbs)[number])) return list(c, first);
  const [ref, email, value] = rest;
  if (first === 'list') return list(c, ref);
  const { org, actor } = await orgAndActor(c, ref);
  if (!email) throw new UsageError(`Name the member by email: roster members ${first} ${org.slug} <email>${first === 'role' ? ' <role>' : ''}`);
  const member = await c.domain.members.find(actor, org.id, { email });
  const force = c.flags.force === true;
  switch (first) {
    case 'role': {
      if (!value) throw new UsageError(`Give the new role: roster members role ${org.slug} ${email} <role>`);
      const after = await c.domain.members.changeRole(actor, org.id, member.accountId, value, { force });
      c.out.print(`${nameOf(after)} is now ${describeRole(after.role)} in ${org.name}.`);
      return 0;
    }
    case 'remove':
      await c.domain.members.remove(actor, org.id, member.accountId, { force });
      c.out.print(`${nameOf(member)} was removed from ${org.name}; their access ended now.`);
      return 0;
    case 'billing': {
      const on = onOff(value, `roster members billing ${org.slug} ${email} on|off`);
      const after = await c.domain.members.setBillingEmails(actor, org.id, member.accountId, on);
      c.out.print(`${nameOf(after)} ${after.billingEmails ? 'now gets' : 'no longer gets'} billing emails for ${org.name}.`);
      return 0;
    }
    case 'transfer':
      await c.domain.members.transferPrimaryOwnership(actor, org.id, member.accountId);
      c.out.print(`${nameOf(member)} is now the primary owner of ${org.name}.`);
      return 0;
  }
  return 0;
};

const nameOf = (m: Pick<MemberView, 'displayName' | 'email'>) => (m.email ? `${m.displayName} <${m.email}>` : m.displayName);

async function list(c: CliCtx, ref: string | undefined): Promise<number> {
  const { org, actor } = await orgAndActor(c, ref);
  return printMembers(c, org, actor);
}

async function printMembers(c: CliCtx, org: OrgRow, actor: Actor): Promise<number> {
  const all = await c.domain.members.list(actor, org.id);
  c.out.print(`${org.name} (${org.slug}): ${all.length} member${all.length === 1 ? '' : 's'}`);
  c.out.print(
    table(
      ['NAME', 'EMAIL', 'ROLE', 'STATUS', 'BILLING EMAILS', 'JOINED', 'VIA'],
      all.map((m) => [
        m.displayName,
        m.email,
        describeRole(m.role) + (m.isPrimaryOwner ? ' (primary)' : ''),
        m.status,
        m.billingEmails ? 'yes' : 'no',
        when(m.joinedAt),
        m.source === 'scim' ? 'scim (IdP)' : m.source + (m.scimBaseRole !== null ? ', role from IdP groups' : ''),
      ]),
    ),
  );
  return 0;
}
