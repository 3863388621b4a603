import type { App, BlockAction, RespondFn } from '@slack/bolt';
import { authorize, grantableRoles, roleLabels } from '../../domain/access.js';
import { fail } from '../../domain/errors.js';
import { slackPerson, type SlackPerson } from '../actor.js';
import type { SlackDeps, WebClient } from '../context.js';
import { ids, parseMenuValue } from '../ids.js';
import { esc, modal, section } from '../blocks/kit.js';
import { inviteDecidedDm } from '../blocks/messages.js';
import { orgOfMemberBlock } from '../blocks/members.js';
import type { MyOrg } from '../../domain/orgs.js';
import { changeInviteModal, changeRoleForAccountModal, createOrgModal, infoModal, inviteModal, removeMemberModal } from '../blocks/modals.js';
import { inviteLink } from '../dm.js';
import { publishHome } from '../home.js';
import { announceJoinDecision } from '../join-decisions.js';
import { errorText } from '../reply.js';

type ActionArgs = {
  body: BlockAction;
  action: BlockAction['actions'][number];
  me: SlackPerson;
  client: WebClient;
  respond: RespondFn;
  fromHome: boolean;
};

/**
 * Buttons and menus. Each one acks first, then acts as the person who clicked: the domain checks
 * their rights again at click time, so a message forwarded to someone else does nothing for them.
 */
export function registerActions(app: App, deps: SlackDeps) {
  const { domain } = deps;

  function on(actionId: string | RegExp, run: (a: ActionArgs) => Promise<void>) {
    app.action<BlockAction>(actionId, async ({ ack, body, action, client, respond }) => {
      await ack();
      const fromHome = body.view?.type === 'home';
      try {
        const me = await slackPerson(domain, client, body.team?.id ?? body.user.team_id ?? '', body.user.id);
        await run({ body, action, me, client, respond, fromHome });
      } catch (err) {
        await tell({ body, client, respond, fromHome }, errorText(err, deps.log));
      }
    });
  }

  /** Errors and notes go where the click came from: an ephemeral reply in a conversation, a modal over App Home. */
  async function tell(a: Pick<ActionArgs, 'body' | 'client' | 'respond' | 'fromHome'>, text: string) {
    try {
      if (a.body.container?.type === 'message' && a.body.response_url) {
        await a.respond({ response_type: 'ephemeral', replace_original: false, text });
      } else if (a.body.view && a.body.view.type === 'modal') {
        await a.client.views.push({ trigger_id: a.body.trigger_id, view: infoModal('Roster', text) as never });
      } else {
        await a.client.views.open({ trigger_id: a.body.trigger_id, view: infoModal('Roster', text) as never });
      }
    } catch (err) {
      deps.log.error({ err }, 'could not tell the user');
    }
  }

  const value = (a: ActionArgs) => ('value' in a.action ? String(a.action.value ?? '') : '');

  // Invite DM and App Home: the clicking user's own email must match the invite (checked in the domain).
  on(ids.actions.inviteAccept, async (a) => {
    const r = await domain.invites.accept(a.me.actor, value(a));
    if (a.fromHome) await publishHome(deps, a.client, a.me);
    else {
      const msg = inviteDecidedDm(r.org.name, 'accepted', r.invite.role);
      await a.respond({ replace_original: true, text: msg.text, blocks: msg.blocks as never[] });
    }
  });

  on(ids.actions.inviteDecline, async (a) => {
    const { orgName } = await domain.invites.decline(a.me.actor, value(a));
    if (a.fromHome) await publishHome(deps, a.client, a.me);
    else {
      const msg = inviteDecidedDm(orgName || 'the organization', 'declined');
      await a.respond({ replace_original: true, text: msg.text, blocks: msg.blocks as never[] });
    }
  });

  on(ids.actions.joinApprove, async (a) => {
    const requestId = value(a);
    const state = a.body.state?.values?.[`join:${requestId}`]?.[ids.actions.joinRole]?.selected_option?.value ?? 'member';
    await domain.joinRequests.approve(a.me.actor, requestId, state);
    await announceJoinDecision(deps, a.client, a.me, requestId);
  });

  on(ids.actions.joinDeny, async (a) => {
    const requestId = value(a);
    const req = await domain.joinRequests.get(a.me.actor, requestId);
    if (req.status !== 'pending') {
      await announceJoinDecision(deps, a.client, a.me, requestId);
      await tell(a, `That request was already ${req.status}.`);
      return;
    }
    await a.client.views.open({
      trigger_id: a.body.trigger_id,
      view: modal({
        callbackId: ids.views.joinDeny,
        title: 'Deny request',
        submit: 'Deny',
        privateMetadata: JSON.stringify({ requestId }),
        blocks: [
          section(`Deny *${esc(req.requesterName)}*'s request to join?`),
          {
            type: 'input',
            block_id: ids.blocks.reason,
            optional: true,
            label: { type: 'plain_text', text: 'Reason (they will see it)' },
            element: { type: 'plain_text_input', action_id: ids.inputs.reason, multiline: true, max_length: 500 },
          },
        ],
      }) as never,
    });
  });

  on(ids.actions.homeSwitchOrg, async (a) => {
    const orgId = 'selected_option' in a.action ? (a.action.selected_option?.value ?? '') : '';
    await domain.orgs.switchActive(a.me.actor, orgId);
    await publishHome(deps, a.client, a.me);
  });

  // Previous and Next carry distinct action_ids (home_page:prev / home_page:next); plain home_page from older views too.
  on(new RegExp(`^${ids.actions.homePage}(:(prev|next))?$`), async (a) => {
    await publishHome(deps, a.client, a.me, Number(value(a)) || 0);
  });

  on(ids.actions.homeCreateOrg, async (a) => {
    await a.client.views.open({ trigger_id: a.body.trigger_id, view: createOrgModal() as never });
  });

  on(ids.actions.homeInvite, async (a) => {
    const current = await domain.orgs.active(a.me.actor);
    // A stale App Home can still show the button to someone who lost the right: refuse instead of an empty role list.
    authorize(current, 'member:invite');
    await a.client.views.open({ trigger_id: a.body.trigger_id, view: inviteModal(current.org, grantableRoles(current.role)) as never });
  });

  /** The org a member row was rendered for (its block_id); the active org for rows without one. */
  async function menuOrg(a: ActionArgs): Promise<MyOrg> {
    const orgId = orgOfMemberBlock(a.action.block_id);
    if (!orgId) return domain.orgs.active(a.me.actor);
    const mine = await domain.orgs.listMine(a.me.actor);
    return mine.find((m) => m.org.id === orgId) ?? fail('not_a_member');
  }

  const memberMenu = async (a: ActionArgs) => {
    const picked = parseMenuValue(menuChoice(a));
    if (!picked) return;
    const current = await menuOrg(a);
    const orgId = current.org.id;
    switch (picked.verb) {
      case 'role': {
        // The member must be in that org (as the clicker sees it); whether the clicker may change their
        // role is the domain's decision at submission. Only a role select with no options is caught
        // here: Slack refuses such a form, so say why instead.
        const m = await domain.members.find(a.me.actor, orgId, { accountId: picked.id });
        const grantable = grantableRoles(current.role);
        if (!grantable.length) fail('forbidden', `You don't have permission to change members' roles in ${current.org.name}. Your role is ${roleLabels[current.role]}.`);
        await a.client.views.open({ trigger_id: a.body.trigger_id, view: changeRoleForAccountModal(current.org, grantable, m) as never });
        return;
      }
      case 'remove': {
        // Removal ends access at once: ask first. The domain decides when Remove is pressed.
        const m = await domain.members.find(a.me.actor, orgId, { accountId: picked.id });
        await a.client.views.open({ trigger_id: a.body.trigger_id, view: removeMemberModal(current.org, m) as never });
        return;
      }
      case 'billing_on':
      case 'billing_off': {
        const m = await domain.members.setBillingEmails(a.me.actor, orgId, picked.id, picked.verb === 'billing_on');
        await done(a, `*${esc(m.displayName)}* ${m.billingEmails ? 'now receives' : 'no longer receives'} billing emails.`);
        return;
      }
      default:
        return;
    }
  };

  const inviteMenu = async (a: ActionArgs) => {
    const picked = parseMenuValue(menuChoice(a));
    if (!picked) return;
    switch (picked.verb) {
      case 'role': {
        // Only roles the clicker may grant, in the invite's org; the domain checks again at submission.
        const invite = await domain.invites.get(a.me.actor, picked.id);
        const mine = await domain.orgs.listMine(a.me.actor);
        const myRole = mine.find((m) => m.org.id === invite.orgId)?.role ?? fail('not_a_member');
        const grantable = grantableRoles(myRole);
        if (!grantable.length) fail('forbidden', `You don't have permission to change invites. Your role is ${roleLabels[myRole]}.`);
        await a.client.views.open({ trigger_id: a.body.trigger_id, view: changeInviteModal(invite, grantable) as never });
        return;
      }
      case 'resend': {
        const { invite } = await domain.invites.resend(a.me.actor, picked.id);
        deps.kickOutbox();
        await done(a, `Sent the invite to *${esc(invite.email)}* again with a new link. The old link no longer works.`);
        return;
      }
      case 'revoke': {
        const invite = await domain.invites.revoke(a.me.actor, picked.id);
        await done(a, `Revoked the invite to *${esc(invite.email)}*. Its link no longer works.`);
        return;
      }
      case 'link': {
        const { token, invite } = await domain.invites.currentLink(a.me.actor, picked.id);
        await a.client.views.open({
          trigger_id: a.body.trigger_id,
          view: infoModal('Invite link', `Anyone with this link can accept the invite for *${esc(invite.email)}*. Share it only with them.\n\n\`${inviteLink(deps.publicUrl, token)}\``) as never,
        });
        return;
      }
      default:
        return;
    }
  };

  /** After a change: App Home is re-rendered; in a message the person gets a short confirmation. */
  async function done(a: ActionArgs, text: string) {
    if (a.fromHome) await publishHome(deps, a.client, a.me);
    else await a.respond({ response_type: 'ephemeral', replace_original: false, text });
  }

  on(ids.actions.homeMemberMenu, memberMenu);
  on(ids.actions.memberMenu, memberMenu);
  on(ids.actions.homeInviteMenu, inviteMenu);
  on(ids.actions.inviteMenu, inviteMenu);
}

function menuChoice(a: ActionArgs): string {
  if ('selected_option' in a.action && a.action.selected_option) return a.action.selected_option.value ?? '';
  if ('value' in a.action) return String(a.action.value ?? '');
  return '';
}
