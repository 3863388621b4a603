import type { App } from '@slack/bolt';
import { textProblem } from '../../domain/validation.js';
import { emailTrustOf, identityKeyOf, slackPerson } from '../actor.js';
import type { SlackDeps } from '../context.js';
import { ids } from '../ids.js';
import { helpText } from '../blocks/messages.js';
import { infoModal, loadingModal } from '../blocks/modals.js';
import { parseCommand } from '../parse.js';
import { errorText } from '../reply.js';
import { audit } from './audit.js';
import { domains } from './domains.js';
import { invite, invites } from './invites.js';
import { join } from './join.js';
import { profile } from './profile.js';
import { scim } from './scim.js';
import { apiKeys } from './api-keys.js';
import { webhooks } from './webhooks.js';
import * as members from './members.js';
import * as orgs from './orgs.js';
import { type CommandCtx, type SubcommandHandler, say } from './types.js';

const MAX_TEXT = 4000;

const subcommands: Record<string, SubcommandHandler> = {
  help: async (c) => {
    await say(c, helpText);
  },
  create: orgs.create,
  list: orgs.list,
  switch: orgs.switchOrg,
  rename: orgs.rename,
  delete: orgs.remove,
  settings: orgs.settings,
  profile,
  members: members.members,
  role: members.role,
  remove: members.remove,
  leave: members.leave,
  'billing-emails': members.billingEmails,
  transfer: members.transfer,
  invite,
  invites,
  join,
  audit,
  scim,
  domains,
  'api-keys': apiKeys,
  webhooks,
};

/**
 * Subcommands that show a form when given no arguments (and `/org domains add`): their modal is opened
 * first as "Loading…". Those that always confirm in a form (delete, leave, settings) too.
 */
function opensForm(sub: string, args: string[]): boolean {
  if (['delete', 'leave', 'settings'].includes(sub)) return true;
  if (['create', 'switch', 'rename', 'role', 'invite'].includes(sub)) return args.length === 0;
  return sub === 'domains' && args.length === 1 && args[0]!.toLowerCase() === 'add';
}

/** `/org <sub> …`: ack at once, then resolve who is asking and run the subcommand. */
export function registerCommands(app: App, deps: SlackDeps) {
  app.command(ids.command, async ({ command, ack, respond, client, context }) => {
    await ack();
    let loadingViewId: string | undefined;
    try {
      if (command.text.length > MAX_TEXT) {
        await respond({
          response_type: 'ephemeral',
          text: `:warning: That command is longer than ${MAX_TEXT} characters. To invite many people, use the form: \`/org invite\` with no arguments.`,
        });
        return;
      }
      // The domain refuses these in each field too; said once here, for the whole text, before anything runs.
      const problem = textProblem(command.text, 'multiline');
      if (problem) {
        await respond({ response_type: 'ephemeral', text: `:warning: Your command contains ${problem}. Remove it and try again.` });
        return;
      }
      const parsed = parseCommand(command.text);
      const handler = Object.hasOwn(subcommands, parsed.sub) ? subcommands[parsed.sub] : undefined;
      // A command that shows a form opens it first, as "Loading…", before any lookup: a slow database or
      // a first-time users.info must not outlast the trigger_id (3 s).
      if (handler && opensForm(parsed.sub, parsed.args))
        loadingViewId = (await client.views.open({ trigger_id: command.trigger_id, view: loadingModal() as never })).view?.id;
      const me = await slackPerson(
        deps.domain,
        client,
        identityKeyOf(command),
        command.user_id,
        command.team_id,
        emailTrustOf(deps, context, identityKeyOf(command)),
      );
      const ctx: CommandCtx = { deps, me, client, respond, triggerId: command.trigger_id, args: parsed.args, rest: parsed.rest, loadingViewId };
      if (!handler) {
        const prefix = parsed.sub ? `I don't know \`/org ${parsed.sub.slice(0, 40)}\`. ` : '';
        await say(ctx, `${prefix}${helpText}`);
        return;
      }
      await handler(ctx);
      // Whatever the change told someone (a role changed, a member removed) goes out now, not at the next poll.
      deps.kickOutbox();
    } catch (err) {
      const text = errorText(err, deps.log);
      // Into the loading modal if one is open; if that fails (closed meanwhile), as a reply.
      const inModal = loadingViewId
        ? client.views.update({ view_id: loadingViewId, view: infoModal('Roster', text) as never }).then(
            () => true,
            () => false,
          )
        : Promise.resolve(false);
      if (!(await inModal)) await respond({ response_type: 'ephemeral', text }).catch((e) => deps.log.error({ err: e }, 'could not reply'));
    }
  });
}
