import { joinRequestPermission, whoMay } from '../../domain/access.js';
import { VERIFY_WINDOW_DAYS, type DomainView } from '../../domain/domains/service.js';
import { type Command, UsageError, orgAndActor } from '../context.js';
import { table, when } from '../table.js';

const use = 'Use: roster domain add|list|verify|remove <org> <domain>  or  roster domain enrollment <org> <domain> off|suggest|auto-join [role]';

/** roster domain add | list | verify | remove | enrollment: an org's verified email domains. */
export const domain: Command = async (c, [verb, ref, name, ...rest]) => {
  if (!verb || !['add', 'list', 'verify', 'remove', 'enrollment'].includes(verb)) throw new UsageError(use);
  const { org, actor } = await orgAndActor(c, ref);
  const { domains } = c.domain;
  if (verb === 'list') {
    const list = await domains.list(actor, org.id);
    if (!list.length) c.out.print(`${org.name} has no domains. Add one: roster domain add ${org.slug} example.com`);
    else c.out.print(domainTable(list));
    return 0;
  }
  if (!name) throw new UsageError(`Name the domain. ${use}`);
  switch (verb) {
    case 'add': {
      const v = await domains.add(actor, org.id, name);
      c.out.print(`Added ${v.domain} to ${org.name}. To prove you control it, publish this DNS record, then run: roster domain verify ${org.slug} ${v.domain}`);
      c.out.print(recordLines(v));
      return 0;
    }
    case 'verify': {
      const v = await domains.verify(actor, org.id, name);
      if (v.status === 'verified') {
        c.out.print(`${v.domain} is verified for ${org.name}.`);
        return 0;
      }
      c.out.print(`${v.domain} is not verified yet: ${v.lastCheckResult ?? 'no record found.'}`);
      c.out.print(recordLines(v));
      c.out.print(
        v.failsAt
          ? `Roster rechecks it by itself until ${when(v.failsAt)}.`
          : `It was not verified within ${VERIFY_WINDOW_DAYS} days; publish the record and verify again to retry.`,
      );
      return 1;
    }
    case 'remove':
      await domains.remove(actor, org.id, name);
      c.out.print(`Removed ${name} from ${org.name}.`);
      return 0;
    default: {
      const [mode, role] = rest;
      if (!mode) throw new UsageError(`Give the mode. ${use}`);
      const v = await domains.setEnrollment(actor, org.id, name, mode, role);
      c.out.print(enrollmentLine(v, org.name));
      return 0;
    }
  }
};

function recordLines(v: DomainView): string {
  return `  Type:  TXT\n  Name:  ${v.record.name}\n  Value: ${v.record.value}`;
}

function enrollmentLine(v: DomainView, orgName: string): string {
  if (v.enrollment === 'off') return `People on ${v.domain} join ${orgName} only when invited.`;
  if (v.enrollment === 'suggest')
    return `People with a confirmed ${v.domain} email are offered to ask to join ${orgName} (on App Home in Slack); ${whoMay(joinRequestPermission)} approve.`;
  return `People with a confirmed ${v.domain} email join ${orgName} as ${v.enrollmentRole} by themselves.`;
}

function domainTable(list: DomainView[]): string {
  return table(
    ['DOMAIN', 'STATUS', 'ENROLLMENT', 'ROLE', 'TXT RECORD', 'NOTE'],
    list.map((d) => [
      d.domain,
      d.status,
      d.enrollment.replace('_', '-'),
      d.enrollmentRole,
      d.status === 'verified' ? '' : `${d.record.name} = ${d.record.value}`,
      d.status === 'pending'
        ? `fails ${when(d.failsAt)}${d.lastCheckResult ? `; ${d.lastCheckResult}` : ''}`
        : d.status === 'failed'
          ? 'verify again to retry'
          : '',
    ]),
  );
}
