import type { App } from '@slack/bolt';
import { textProblem } from '../../domain/validation.js';
import { slackPerson } from '../actor.js';
import type { SlackDeps } from '../context.js';
import { ids } from '../ids.js';
import { helpText } from '../blocks/messages.js';
import { parseCommand } from '../parse.js';
import { errorText } from '../reply.js';
import { audit } from './audit.js';
import { domains } from './domains.js';
import { invite, invites } from './invites.js';
import { join } from './join.js';
import { profile } from './profile.js';
import { scim } from './scim.js';
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
};

/** `/org <sub> …`: ack at once, then resolve who is asking and run the subcommand. */
export function registerCommands(app: App, deps: SlackDeps) {
  app.command(ids.command, async ({ command, ack, respond, client }) => {
    await ack();
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
      const me = await slackPerson(deps.domain, client, command.team_id, command.user_id);
      const ctx: CommandCtx = { deps, me, client, respond, triggerId: command.trigger_id, args: parsed.args, rest: parsed.rest };
      if (!handler) {
        const prefix = parsed.sub ? `I don't know \`/org ${parsed.sub.slice(0, 40)}\`. ` : '';
        await say(ctx, `${prefix}${helpText}`);
        return;
      }
      await handler(ctx);
    } catch (err) {
      await respond({ response_type: 'ephemeral', text: errorText(err, deps.log) }).catch((e) => deps.log.error({ err: e }, 'could not reply'));
    }
  });
}
