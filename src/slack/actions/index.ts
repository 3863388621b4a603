import type { App, BlockAction } from '@slack/bolt';
import { personOfInteraction } from '../actor.js';
import type { SlackDeps } from '../context.js';
import { ids } from '../ids.js';
import { menuChoice } from './metadata.js';
import { loadingModal } from '../blocks/modals.js';
import { errorText } from '../reply.js';
import { consentAccept, consentDecline } from './consent.js';
import { createOrgAnyway } from './create-org-anyway.js';
import { domainAskToJoin } from './domain-ask-to-join.js';
import { homeCreateOrg } from './home-create-org.js';
import { homeInvite } from './home-invite.js';
import { homePage } from './home-page.js';
import { homeSwitchOrg } from './home-switch-org.js';
import { inviteAccept } from './invite-accept.js';
import { inviteDecline } from './invite-decline.js';
import { inviteMenu } from './invite-menu.js';
import { joinApprove } from './join-approve.js';
import { joinDeny } from './join-deny.js';
import { memberMenu } from './member-menu.js';
import { type ActionHandler, tell } from './types.js';

const actions: [string | RegExp, ActionHandler][] = [
  [ids.actions.inviteAccept, inviteAccept],
  [ids.actions.inviteDecline, inviteDecline],
  [ids.actions.consentAccept, consentAccept],
  [ids.actions.consentDecline, consentDecline],
  [ids.actions.domainAskToJoin, domainAskToJoin],
  [ids.actions.createOrgAnyway, createOrgAnyway],
  [ids.actions.joinApprove, joinApprove],
  [ids.actions.joinDeny, joinDeny],
  [ids.actions.homeSwitchOrg, homeSwitchOrg],
  // Previous and Next carry distinct action_ids (home_page:prev / home_page:next); plain home_page from older views too.
  [new RegExp(`^${ids.actions.homePage}(:(prev|next))?$`), homePage],
  [ids.actions.homeCreateOrg, homeCreateOrg],
  [ids.actions.homeInvite, homeInvite],
  [ids.actions.homeMemberMenu, memberMenu],
  [ids.actions.memberMenu, memberMenu],
  [ids.actions.homeInviteMenu, inviteMenu],
  [ids.actions.inviteMenu, inviteMenu],
];

/** Clicks that show a form: the Invite and New organization buttons, Deny, and menu choices that open one. */
function opensForm(action: BlockAction['actions'][number]): boolean {
  if (([ids.actions.homeInvite, ids.actions.homeCreateOrg, ids.actions.joinDeny] as string[]).includes(action.action_id)) return true;
  // A menu of one option is drawn as a button carrying the same value (kit.ts overflow).
  const verb = menuChoice(action)?.verb;
  const menus: string[] = [ids.actions.memberMenu, ids.actions.homeMemberMenu, ids.actions.inviteMenu, ids.actions.homeInviteMenu];
  return menus.includes(action.action_id) && (verb === 'role' || verb === 'remove' || verb === 'link');
}

/**
 * Buttons and menus. Each one acks first, then acts as the person who clicked: the domain checks
 * their rights again at click time, so a message forwarded to someone else does nothing for them.
 */
export function registerActions(app: App, deps: SlackDeps) {
  for (const [actionId, run] of actions) {
    app.action<BlockAction>(actionId, async ({ ack, body, action, client, respond, context }) => {
      await ack();
      const fromHome = body.view?.type === 'home';
      let loadingViewId: string | undefined;
      try {
        // A click that shows a form opens it first, as "Loading…", before any lookup (see commands/index.ts).
        if (body.view?.type !== 'modal' && opensForm(action))
          loadingViewId = (await client.views.open({ trigger_id: body.trigger_id, view: loadingModal() as never })).view?.id;
        const me = await personOfInteraction(deps, client, body, context);
        await run({ deps, body, action, me, client, respond, fromHome, loadingViewId });
        // Whatever the change told someone (a role changed, a member removed) goes out now, not at the next poll.
        deps.kickOutbox();
      } catch (err) {
        await tell({ deps, body, client, respond, loadingViewId }, errorText(err, deps.log));
      }
    });
  }
}
