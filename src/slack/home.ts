import type { SlackPerson } from './actor.js';
import type { SlackDeps, WebClient } from './context.js';
import { HOME_PAGE_SIZE, homeView } from './blocks/home.js';
import { can } from '../domain/access.js';
import { currentOrgOf } from '../domain/orgs.js';

/** Builds and publishes a person's App Home from the database (fresh at every open and after every change). */
/**
 * `vouchedEmail`: the email Slack vouches for this person right now (App Home opened): with it, their
 * verified email domain may enroll them first (auto-join) or offer orgs to ask to join.
 */
export async function publishHome(
  deps: SlackDeps,
  client: WebClient,
  me: SlackPerson,
  opts: {
    offset?: number;
    vouchedEmail?: string | undefined;
    /** The hash of the view this publish replaces (from the event or the click): Slack refuses it if a newer one was published meanwhile. */
    hash?: string | undefined;
  } = {},
): Promise<void> {
  const { offset = 0, vouchedEmail, hash } = opts;
  const { domain } = deps;
  // People on an org's verified domain join it (auto-join) or are offered to ask (suggest) first.
  const offers = await domain.domains.offersFor(me.actor, vouchedEmail);
  const [mine, invitesForMe] = await Promise.all([domain.orgs.listMine(me.actor), domain.invites.listForMe(me.actor)]);
  // Same rule as domain.orgs.active, from the one listMine result, so App Home and `/org` agree.
  const current = currentOrgOf(mine);
  let view;
  if (current && current.status === 'active') {
    const viewer = { accountId: me.account.id, role: current.role, isPrimaryOwner: current.org.primaryOwnerId === me.account.id };
    const total = await domain.members.count(me.actor, current.org.id);
    const start = Math.max(0, Math.min(offset, Math.max(0, total - 1)));
    const [members, pendingInvites] = await Promise.all([
      domain.members.list(me.actor, current.org.id, { limit: HOME_PAGE_SIZE, offset: start }),
      can(viewer.role, 'member:invite') ? domain.invites.listPending(me.actor, current.org.id) : Promise.resolve([]),
    ]);
    view = homeView({
      mine,
      current,
      viewer,
      members,
      memberTotal: total,
      offset: start,
      pendingInvites,
      invitesForMe,
      emailKnown: !!me.account.email,
      offers,
    });
  } else {
    view = homeView({
      mine,
      current: undefined,
      viewer: undefined,
      members: [],
      memberTotal: 0,
      offset: 0,
      pendingInvites: [],
      invitesForMe,
      emailKnown: !!me.account.email,
      offers,
    });
  }
  try {
    await client.views.publish({ user_id: me.userId, view: view as never, ...(hash ? { hash } : {}) });
  } catch (err) {
    // A newer App Home was published while this one was built (two clicks, an open and a click): keep it.
    if ((err as { data?: { error?: string } }).data?.error === 'hash_conflict') return;
    throw err;
  }
}
