import { grantableRoles, describeRole } from '../../domain/access.js';
import { fail } from '../../domain/errors.js';
import { esc } from '../blocks/kit.js';
import { changeInviteModal, infoModal } from '../blocks/modals.js';
import { inviteLink } from '../dm.js';
import { menuChoice } from './metadata.js';
import { pendingInvitesReply } from '../invites-list.js';
import { type ActionCtx, done, openModal } from './types.js';

/** A pending invite's menu, in App Home or in `/org invites`. */
export async function inviteMenu(a: ActionCtx) {
  const picked = menuChoice(a.action);
  if (!picked) return;
  const { domain } = a.deps;
  switch (picked.verb) {
    case 'role': {
      // Only roles the clicker may grant, in the invite's org; the domain checks again at submission.
      const invite = await domain.invites.get(a.me.actor, picked.id);
      const mine = await domain.orgs.listMine(a.me.actor);
      const myRole = mine.find((m) => m.org.id === invite.orgId)?.role ?? fail('not_a_member');
      const grantable = grantableRoles(myRole);
      if (!grantable.length) fail('forbidden', `You don't have permission to change invites. Your role is ${describeRole(myRole)}.`);
      await openModal(a, changeInviteModal(invite, grantable));
      return;
    }
    case 'resend': {
      const { invite } = await domain.invites.resend(a.me.actor, picked.id);
      a.deps.kickOutbox();
      await done(a, `Sent the invite to *${esc(invite.email)}* again with a new link. The old link no longer works.`);
      return;
    }
    case 'revoke': {
      const invite = await domain.invites.revoke(a.me.actor, picked.id);
      const note = `Revoked the invite to *${esc(invite.email)}*. Its link no longer works.`;
      if (a.fromHome) return done(a, note);
      // The `/org invites` list it was picked from is drawn again, without it.
      const list = await pendingInvitesReply(a.deps, a.me, invite.orgId, note);
      await a.respond({ response_type: 'ephemeral', replace_original: true, text: list.text, blocks: list.blocks as never[] });
      return;
    }
    case 'link': {
      const { token, invite } = await domain.invites.currentLink(a.me.actor, picked.id);
      await openModal(
        a,
        infoModal(
          'Invite link',
          `Anyone with this link can accept the invite for *${esc(invite.email)}*. Share it only with them.\n\n\`${inviteLink(a.deps.publicUrl, token)}\``,
        ),
      );
      return;
    }
    default:
      return;
  }
}
