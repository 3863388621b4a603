import { authorize, can, describeRole, whoMay } from '../../domain/access.js';
import { fail } from '../../domain/errors.js';
import { domainAddedText, domainCheckedText, domainsMessage, domainsUsage, enrollmentText } from '../blocks/domains.js';
import { esc } from '../blocks/kit.js';
import { addDomainModal } from '../blocks/modals.js';
import { type CommandCtx, openModal, say } from './types.js';

/** The one domain a subcommand is about; more than one is refused rather than half done. */
function oneDomain(args: string[], verb: string): string {
  if (!args[0]) fail('invalid_input', `Say which domain: \`/org domains ${verb} acme.com\`.`);
  if (args.length > 1) fail('invalid_input', `One domain at a time: \`/org domains ${verb} ${args[0]}\`.`);
  return args[0];
}

/** `/org domains …`: the active org's verified email domains. */
export async function domains(c: CommandCtx) {
  const current = await c.deps.domain.orgs.active(c.me.actor);
  const { org } = current;
  const service = c.deps.domain.domains;
  const [sub = '', ...args] = c.args;
  switch (sub.toLowerCase()) {
    case '':
    case 'list': {
      const msg = domainsMessage(org.name, await service.list(c.me.actor, org.id));
      await say(c, msg.text, msg.blocks);
      return;
    }
    case 'add': {
      if (!args.length) {
        if (!can(current.role, 'domain:manage')) {
          await say(c, `:warning: Only ${whoMay('domain:manage')} can add domains to *${esc(org.name)}*. Your role is ${describeRole(current.role)}.`);
          return;
        }
        // A suspended owner gets the domain's own explanation rather than a form they cannot submit.
        authorize(current, 'domain:manage');
        await openModal(c, addDomainModal(org));
        return;
      }
      const v = await service.add(c.me.actor, org.id, oneDomain(args, 'add'));
      await say(c, domainAddedText(org.name, v));
      return;
    }
    case 'verify': {
      const v = await service.verify(c.me.actor, org.id, oneDomain(args, 'verify'));
      await say(c, domainCheckedText(org.name, v));
      return;
    }
    case 'remove': {
      const name = oneDomain(args, 'remove');
      await service.remove(c.me.actor, org.id, name);
      await say(c, `Removed *${esc(name)}* from *${esc(org.name)}*. Its DNS record can be deleted now.`);
      return;
    }
    case 'enrollment': {
      const [name, mode, role, ...extra] = args;
      if (!name || !mode || extra.length)
        fail('invalid_input', 'Use `/org domains enrollment <domain> off|suggest|auto-join [role]`, e.g. `/org domains enrollment acme.com auto-join`.');
      const v = await service.setEnrollment(c.me.actor, org.id, name, mode, role?.toLowerCase());
      await say(c, enrollmentText(org.name, v));
      return;
    }
    default:
      await say(c, `I don't know \`/org domains ${esc(sub.slice(0, 30))}\`.\n${domainsUsage}`);
  }
}
