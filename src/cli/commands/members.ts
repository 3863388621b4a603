import { describeRole } from '../../domain/access.js';
import { type Command, orgAndActor } from '../context.js';
import { table, when } from '../table.js';

/** roster members <org> */
export const members: Command = async (c, [ref]) => {
  const { org, actor } = await orgAndActor(c, ref);
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
};
