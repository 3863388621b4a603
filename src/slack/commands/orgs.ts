import { authorize, can, describeRole, whoMay } from '../../domain/access.js';
import { actions, button, esc, section } from '../blocks/kit.js';
import { ids } from '../ids.js';
import { orgListMessage } from '../blocks/messages.js';
import { createOrgModal, deleteOrgModal, renameModal, settingsModal, switchOrgModal } from '../blocks/modals.js';
import { type CommandCtx, openModal, say } from './types.js';

export async function create(c: CommandCtx) {
  if (!c.rest) {
    await openModal(c, createOrgModal());
    return;
  }
  // A second org with the name of one I'm already in is most often a typo for `/org switch`: ask first.
  const same = (await c.deps.domain.orgs.listMine(c.me.actor)).find((m) => m.org.name.toLowerCase() === c.rest.trim().toLowerCase());
  if (same) {
    const text = `You're already in *${esc(same.org.name)}* (\`${same.org.slug}\`). Switch to it with \`/org switch ${same.org.slug}\`, or create another organization with the same name.`;
    await say(c, text, [section(text), actions(button(`Create another ${same.org.name}`, ids.actions.createOrgAnyway, c.rest.trim()))]);
    return;
  }
  await say(c, createdText(await c.deps.domain.orgs.create(c.me.actor, { name: c.rest })));
}

export function createdText(org: { name: string; slug: string }): string {
  return `:tada: Created *${esc(org.name)}* (\`${org.slug}\`). You're its owner, and it is now your active organization. Invite people with \`/org invite\`.`;
}

export async function list(c: CommandCtx) {
  const msg = orgListMessage(await c.deps.domain.orgs.listMine(c.me.actor), { emailKnown: !!c.me.account.email });
  await say(c, msg.text, msg.blocks);
}

export async function switchOrg(c: CommandCtx) {
  if (!c.args[0]) {
    const mine = await c.deps.domain.orgs.listMine(c.me.actor);
    if (!mine.length) {
      await say(c, orgListMessage(mine).text);
      return;
    }
    await openModal(c, switchOrgModal(mine));
    return;
  }
  const org = await c.deps.domain.orgs.switchActive(c.me.actor, c.args[0]);
  await say(c, `Your active organization is now *${esc(org.name)}* (\`${org.slug}\`).`);
}

export async function rename(c: CommandCtx) {
  const { org, role } = await c.deps.domain.orgs.active(c.me.actor);
  if (!c.rest) {
    if (!can(role, 'org:update')) {
      await say(c, `:warning: Only ${whoMay('org:update')} can rename *${esc(org.name)}*. Your role is ${describeRole(role)}.`);
      return;
    }
    await openModal(c, renameModal(org));
    return;
  }
  const after = await c.deps.domain.orgs.rename(c.me.actor, org.id, c.rest);
  await say(c, `Renamed *${esc(org.name)}* to *${esc(after.name)}*.`);
}

export async function remove(c: CommandCtx) {
  const { org, role } = await c.deps.domain.orgs.active(c.me.actor);
  if (!can(role, 'org:delete')) {
    await say(c, `:warning: Only ${whoMay('org:delete')} can delete *${esc(org.name)}*. Your role is ${describeRole(role)}.`);
    return;
  }
  await openModal(c, deleteOrgModal(org));
}

/** `/org settings`: invite expiry, reminder schedule and seat limit of the active org, in a form. */
export async function settings(c: CommandCtx) {
  const current = await c.deps.domain.orgs.active(c.me.actor);
  const { org, role } = current;
  if (!can(role, 'org:update')) {
    await say(c, `:warning: Only ${whoMay('org:update')} can change the settings of *${esc(org.name)}*. Your role is ${describeRole(role)}.`);
    return;
  }
  // A suspended owner gets the domain's own explanation rather than a form they cannot submit.
  authorize(current, 'org:update');
  await openModal(c, settingsModal(org));
}
