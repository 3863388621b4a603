import { can, describeRole, joinRequestPermission, whoMay } from '../../domain/access.js';
import type { InviteView } from '../../domain/invites.js';
import type { MemberView } from '../../domain/members.js';
import type { DomainOffer } from '../../domain/domains/enrollment.js';
import type { MyOrg } from '../../domain/orgs.js';
import { ids } from '../ids.js';
import { type Block, actions, button, context, divider, esc, header, option, section, slackDate } from './kit.js';
import { type Viewer, inviteBlocks, memberBlocks } from './members.js';
import { emailNotLinkedNote } from './messages.js';

export const HOME_PAGE_SIZE = 25;
const INVITES_SHOWN = 20;

export type HomeData = {
  mine: MyOrg[];
  current: MyOrg | undefined;
  viewer: Viewer | undefined;
  members: MemberView[];
  memberTotal: number;
  offset: number;
  pendingInvites: InviteView[];
  invitesForMe: (InviteView & { orgName: string })[];
  /** false: Roster did not link this Slack user's email (say so, and what follows). */
  emailKnown?: boolean;
  /** Orgs this person just joined by their verified email domain, and orgs it suggests they ask to join. */
  offers?: { joined: DomainOffer[]; suggested: DomainOffer[] };
};

/** The App Home tab: at most 100 blocks whatever the org's size (members are paged). */
export function homeView(d: HomeData): Record<string, unknown> {
  const blocks: Block[] = [];
  if (d.emailKnown === false) blocks.push(context(emailNotLinkedNote));
  if (d.invitesForMe.length) {
    blocks.push(header('Invitations for you'));
    for (const i of d.invitesForMe.slice(0, 5)) {
      blocks.push(
        section(
          `*${esc(i.orgName)}* invites you as *${describeRole(i.role)}*${i.invitedByName ? ` (from ${esc(i.invitedByName)})` : ''} · expires ${slackDate(i.expiresAt)}`,
        ),
        actions(button('Accept', ids.actions.inviteAccept, i.id, 'primary'), button('Decline', ids.actions.inviteDecline, i.id)),
      );
    }
    blocks.push(divider());
  }
  // Memberships another org's IdP made for this person, waiting for their consent.
  const asked = d.mine.filter((m) => m.status === 'pending');
  if (asked.length) {
    blocks.push(header('Organizations asking to add you'));
    for (const m of asked.slice(0, 5)) {
      blocks.push(
        section(`The identity provider of *${esc(m.org.name)}* wants to add you as *${describeRole(m.role)}*. You join only if you accept.`),
        actions(button('Accept', ids.actions.consentAccept, m.org.id, 'primary'), button('Decline', ids.actions.consentDecline, m.org.id)),
      );
    }
    blocks.push(divider());
  }
  for (const o of d.offers?.joined ?? []) {
    blocks.push(context(`:tada: You joined *${esc(o.org.name)}* as ${describeRole(o.role)}: your address is on ${esc(o.domain)}, which it has verified.`));
  }
  const suggested = d.offers?.suggested ?? [];
  if (suggested.length) {
    blocks.push(header('Organizations for your email domain'));
    for (const o of suggested.slice(0, 5)) {
      blocks.push(
        section(`*${esc(o.org.name)}* has verified ${esc(o.domain)}, your address's domain. Ask to join, and its ${whoMay(joinRequestPermission)} decide.`),
      );
      blocks.push(
        o.asked
          ? context(':hourglass: You asked to join; waiting for a decision.')
          : actions(button('Ask to join', ids.actions.domainAskToJoin, o.org.id, 'primary')),
      );
    }
    blocks.push(divider());
  }
  const joined = d.mine.filter((m) => m.status !== 'pending');

  if (!d.current || !d.viewer) {
    if (joined.length) {
      // Orgs but none active (the active one was deleted or suspended): ask which one, not "no organization".
      const options = joined.slice(0, 100).map((m) => option(`${m.org.name} (${m.org.slug})`, m.org.id));
      blocks.push(
        header('Roster'),
        section('Choose the organization to work in. `/org` commands act on it too.'),
        actions(
          { type: 'static_select', action_id: ids.actions.homeSwitchOrg, placeholder: { type: 'plain_text', text: 'Choose organization' }, options },
          button('New organization', ids.actions.homeCreateOrg, 'create'),
        ),
      );
      return { type: 'home', blocks };
    }
    blocks.push(
      header('Roster'),
      section("You're not in an organization yet. Create one, or ask to join one with `/org join <slug>`."),
      actions(button('Create organization', ids.actions.homeCreateOrg, 'create', 'primary')),
    );
    return { type: 'home', blocks };
  }

  const { org } = d.current;
  const viewer = d.viewer;
  blocks.push(header(org.name), context(`\`${org.slug}\` · your role: *${describeRole(viewer.role)}*${viewer.isPrimaryOwner ? ' (primary owner)' : ''}`));
  const toolbar: Record<string, unknown>[] = [];
  if (joined.length > 1) {
    const options = joined.slice(0, 100).map((m) => option(`${m.org.name} (${m.org.slug})`, m.org.id));
    toolbar.push({
      type: 'static_select',
      action_id: ids.actions.homeSwitchOrg,
      placeholder: { type: 'plain_text', text: 'Switch organization' },
      options,
      initial_option: options.find((o) => o.value === org.id),
    });
  }
  if (can(viewer.role, 'member:invite')) toolbar.push(button('Invite people', ids.actions.homeInvite, org.id, 'primary'));
  toolbar.push(button('New organization', ids.actions.homeCreateOrg, 'create'));
  blocks.push(actions(...toolbar), divider());

  // At most one page is shown, whatever the caller passed.
  const first = d.offset + 1;
  const last = d.offset + Math.min(d.members.length, HOME_PAGE_SIZE);
  blocks.push(section(`*Members* · ${d.memberTotal}${d.memberTotal > HOME_PAGE_SIZE ? ` (showing ${first}–${last})` : ''}`));
  blocks.push(...memberBlocks(viewer, d.members, ids.actions.homeMemberMenu, HOME_PAGE_SIZE, org.id));
  // Slack rejects an actions block whose elements share an action_id: Previous and Next differ by a suffix.
  const paging: Record<string, unknown>[] = [];
  if (d.offset > 0) paging.push(button('◀ Previous', `${ids.actions.homePage}:prev`, String(Math.max(0, d.offset - HOME_PAGE_SIZE))));
  if (last < d.memberTotal) paging.push(button('Next ▶', `${ids.actions.homePage}:next`, String(last)));
  if (paging.length) blocks.push(actions(...paging));

  if (can(viewer.role, 'member:invite')) {
    blocks.push(divider(), section(`*Pending invites* · ${d.pendingInvites.length}`));
    if (!d.pendingInvites.length) blocks.push(context('No pending invites.'));
    blocks.push(...inviteBlocks(viewer, d.pendingInvites, ids.actions.homeInviteMenu, INVITES_SHOWN));
    if (d.pendingInvites.length > INVITES_SHOWN) blocks.push(context(`…and ${d.pendingInvites.length - INVITES_SHOWN} more: \`/org invites\`.`));
  }
  return { type: 'home', blocks: blocks.slice(0, 100) };
}
