import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import type { Role } from '../../src/domain/access.js';
import {
  addMember,
  clickModal,
  clickModalText,
  countRows,
  formsShown,
  inviteAndAccept,
  isLoadingModal,
  orgWithTeam,
  slackPerson,
  uniq,
  useSlackRoster,
  type SlackHarness,
  type SlackUser,
} from '../helpers/slack.js';

// Invite emails are written to a scratch folder (removed afterwards), not the project's .data/outbox.
const outbox = mkdtempSync(path.join(os.tmpdir(), 'roster-outbox-'));
afterAll(() => rmSync(outbox, { recursive: true, force: true }));
const harness = useSlackRoster({ OUTBOX_DIR: outbox });

/** The member row of a `/org members` reply, by display name, and its menu option for a verb. */
function menuIn(blocks: any[], name: string, verb: string) {
  const block = blocks.find((b) => b.type === 'section' && b.text.text.startsWith(`*${name}*`));
  if (!block?.accessory) return undefined;
  const options = block.accessory.type === 'overflow' ? block.accessory.options : [{ text: block.accessory.text, value: block.accessory.value }];
  const option = options.find((o: any) => o.value.startsWith(`${verb}:`));
  return option && { block_id: block.block_id ?? 'auto', action_id: block.accessory.action_id, type: 'overflow', selected_option: option };
}

/** A click on a menu in a message; resolves with the ephemeral reply on its response_url. */
async function click(h: SlackHarness, user: SlackUser, action: Record<string, unknown>) {
  const { responseId } = await h.action(user, action);
  return h.slack.waitForResponse(responseId);
}

/** A click that shows a form; resolves with the form that fills the "Loading…" modal opened for that click's trigger. */
const clickOpens = (h: SlackHarness, user: SlackUser, action: Record<string, unknown>): Promise<Record<string, any>> => clickModal(h, user, action);

/** Presses the modal's submit button (no inputs), as Slack sends it back with its private_metadata. */
const confirm = (h: SlackHarness, user: SlackUser, view: Record<string, any>) =>
  h.submit(user, { callback_id: view.callback_id, private_metadata: view.private_metadata }, {});

/** The mrkdwn of every section of a view, joined. */
const viewText = (view: Record<string, any>) =>
  (view.blocks as any[])
    .filter((b) => b.type === 'section')
    .map((b) => b.text.text)
    .join('\n');

describe('menus in /org members and /org invites messages', () => {
  it('Remove from org in /org members asks to confirm first; confirming removes the member and the modal says so', async () => {
    const h = harness();
    const owner = await slackPerson(h, 'Olga');
    const org = await h.domain.orgs.create(owner.actor, { name: `Acme ${uniq()}` });
    const admin = await addMember(h, org, owner, 'admin', 'Adam');
    const member = await addMember(h, org, owner, 'member', 'Mia');

    const list = await h.command(admin.user, 'members');
    const remove = menuIn(list.blocks, 'Mia', 'remove');
    expect(remove).toBeDefined();
    expect(menuIn(list.blocks, 'Olga', 'remove')).toBeUndefined();

    const view = await clickOpens(h, admin.user, remove!);
    expect(view.callback_id).toBe('org_remove_member_modal');
    expect(view.submit.text).toBe('Remove');
    expect(viewText(view)).toBe(`Remove *Mia* from *${org.name}*? Their access ends now.`);
    // The click itself changes nothing.
    expect(await countRows(h, 'memberships', `org_id = '${org.id}' and account_id = '${member.account.id}'`)).toBe(1);

    const res = await confirm(h, admin.user, view);
    expect(res.response_action).toBe('update');
    expect(viewText(res.view)).toBe(`Removed *Mia* from *${org.name}*. Their access ended now.`);
    expect(await countRows(h, 'memberships', `org_id = '${org.id}' and account_id = '${member.account.id}'`)).toBe(0);
    expect(await countRows(h, 'audit_events', `org_id = '${org.id}' and action = 'member.removed'`)).toBe(1);
  });

  it('cancelling the removal confirmation changes nothing', async () => {
    const h = harness();
    const owner = await slackPerson(h, 'Olga');
    const org = await h.domain.orgs.create(owner.actor, { name: `Acme ${uniq()}` });
    const member = await addMember(h, org, owner, 'member', 'Mia');
    const list = await h.command(owner.user, 'members');
    const auditBefore = await countRows(h, 'audit_events', `org_id = '${org.id}'`);

    // Slack closes a modal on Cancel without telling the app (no notify_on_close): only the click reaches Roster.
    const view = await clickOpens(h, owner.user, menuIn(list.blocks, 'Mia', 'remove')!);
    expect(view.callback_id).toBe('org_remove_member_modal');
    expect(view.close.text).toBe('Cancel');
    expect(await countRows(h, 'memberships', `org_id = '${org.id}' and account_id = '${member.account.id}'`)).toBe(1);
    expect(await countRows(h, 'audit_events', `org_id = '${org.id}'`)).toBe(auditBefore);
  });

  it('rights are checked when the removal is confirmed: an admin demoted after opening the confirmation cannot remove', async () => {
    const h = harness();
    const owner = await slackPerson(h, 'Olga');
    const org = await h.domain.orgs.create(owner.actor, { name: `Acme ${uniq()}` });
    const admin = await addMember(h, org, owner, 'admin', 'Adam');
    const member = await addMember(h, org, owner, 'member', 'Mia');
    const list = await h.command(admin.user, 'members');
    const view = await clickOpens(h, admin.user, menuIn(list.blocks, 'Mia', 'remove')!);

    await h.domain.members.changeRole(owner.actor, org.id, admin.account.id, 'member');
    const auditBefore = await countRows(h, 'audit_events', `org_id = '${org.id}'`);
    const res = await confirm(h, admin.user, view);
    expect(res.response_action).toBe('update');
    expect(viewText(res.view)).toMatch(/^:warning: In .+, you don't have permission to remove members/);
    expect(await countRows(h, 'memberships', `org_id = '${org.id}' and account_id = '${member.account.id}'`)).toBe(1);
    expect(await countRows(h, 'audit_events', `org_id = '${org.id}'`)).toBe(auditBefore);
  });

  it('someone the list was forwarded to (a plain member) cannot use its menus', async () => {
    const h = harness();
    const owner = await slackPerson(h, 'Olga');
    const org = await h.domain.orgs.create(owner.actor, { name: `Acme ${uniq()}` });
    const admin = await addMember(h, org, owner, 'admin', 'Adam');
    const member = await addMember(h, org, owner, 'member', 'Mia');
    const list = await h.command(owner.user, 'members');

    const reply = await click(h, member.user, menuIn(list.blocks, 'Adam', 'billing_on')!);
    expect(reply.text).toMatch(/:warning: In .+, you don't have permission to change who receives billing emails/);
    expect((await h.domain.members.find(owner.actor, org.id, { accountId: admin.account.id })).billingEmails).toBe(false);
  });

  it('someone outside the org cannot use a forwarded menu', async () => {
    const h = harness();
    const owner = await slackPerson(h, 'Olga');
    const org = await h.domain.orgs.create(owner.actor, { name: `Acme ${uniq()}` });
    const member = await addMember(h, org, owner, 'member', 'Mia');
    const list = await h.command(owner.user, 'members');
    const outsider = await slackPerson(h, 'Otto');
    await h.domain.orgs.create(outsider.actor, { name: `Otto Co ${uniq()}` });

    const mark = h.slack.calls.length;
    const view = await clickModal(h, outsider.user, menuIn(list.blocks, 'Mia', 'remove')!);
    expect(view.callback_id).toBe('org_info_modal');
    expect(viewText(view)).toMatch(/:warning:/);
    expect(formsShown(h, mark)).toEqual([]);
    expect(await countRows(h, 'memberships', `org_id = '${org.id}' and account_id = '${member.account.id}'`)).toBe(1);
  });

  it('a menu acts on the org the list was for, even after the viewer switched their active org', async () => {
    const h = harness();
    const owner = await slackPerson(h, 'Olga');
    const orgA = await h.domain.orgs.create(owner.actor, { name: `Alpha ${uniq()}` });
    const orgB = await h.domain.orgs.create(owner.actor, { name: `Beta ${uniq()}` });
    const both = await slackPerson(h, 'Bea');
    await inviteAndAccept(h, orgA, owner, both, 'member');
    await inviteAndAccept(h, orgB, owner, both, 'member');

    await h.domain.orgs.switchActive(owner.actor, orgA.id);
    const list = await h.command(owner.user, 'members');
    expect(list.blocks[0].text.text).toBe(`Members of ${orgA.name}`);
    await h.command(owner.user, `switch ${orgB.slug}`);

    const view = await clickOpens(h, owner.user, menuIn(list.blocks, 'Bea', 'remove')!);
    expect(viewText(view)).toBe(`Remove *Bea* from *${orgA.name}*? Their access ends now.`);
    const res = await confirm(h, owner.user, view);
    expect(viewText(res.view)).toBe(`Removed *Bea* from *${orgA.name}*. Their access ended now.`);
    expect(await countRows(h, 'memberships', `org_id = '${orgA.id}' and account_id = '${both.account.id}'`)).toBe(0);
    expect(await countRows(h, 'memberships', `org_id = '${orgB.id}' and account_id = '${both.account.id}'`)).toBe(1);
  });

  it('an owner revokes a pending invite from the /org invites list', async () => {
    const h = harness();
    const owner = await slackPerson(h, 'Olga');
    const org = await h.domain.orgs.create(owner.actor, { name: `Acme ${uniq()}` });
    const email = `gone.${uniq()}@acme.test`;
    const [r] = await h.domain.invites.create(owner.actor, org.id, { emails: email });
    if (!r?.ok) throw new Error('invite failed');

    const list = await h.command(owner.user, 'invites');
    const row = list.blocks.find((b: any) => b.type === 'section' && b.text.text.includes(email));
    const revoke = row.accessory.options.find((o: any) => o.value === `revoke:${r.invite.id}`);
    const reply = await click(h, owner.user, { action_id: row.accessory.action_id, type: 'overflow', selected_option: revoke });
    expect(reply.text).toMatch(new RegExp(`^Revoked the invite to \\*${email.replaceAll('.', '\\.')}\\*\\. Its link no longer works\\.`));
    expect((await h.domain.invites.lookupByToken(r.token)).state).toBe('revoked');
    // The list it was picked from is drawn again, without the revoked invite.
    expect(reply.replace_original).toBe(true);
    expect(reply.blocks.filter((b: any) => b.accessory && b.text?.text.includes(email))).toEqual([]);
    expect(JSON.stringify(reply.blocks)).toContain('has no pending invites');
  });

  it('an admin demoted after /org invites was shown cannot copy the link, resend or revoke', async () => {
    const h = harness();
    const owner = await slackPerson(h, 'Olga');
    const org = await h.domain.orgs.create(owner.actor, { name: `Acme ${uniq()}` });
    const admin = await addMember(h, org, owner, 'admin', 'Adam');
    const email = `kept.${uniq()}@acme.test`;
    const [r] = await h.domain.invites.create(admin.actor, org.id, { emails: email });
    if (!r?.ok) throw new Error('invite failed');
    const list = await h.command(admin.user, 'invites');
    const row = list.blocks.find((b: any) => b.type === 'section' && b.text.text.includes(email));
    await h.domain.members.changeRole(owner.actor, org.id, admin.account.id, 'developer');
    const mark = h.slack.calls.length;

    const choose = (verb: string) => ({
      action_id: row.accessory.action_id,
      type: 'overflow',
      selected_option: row.accessory.options.find((o: any) => o.value === `${verb}:${r.invite.id}`),
    });
    // Copy link shows a modal (the loading one, filled with the refusal); resend and revoke answer in the conversation.
    const link = await clickModal(h, admin.user, choose('link'));
    expect(link.callback_id).toBe('org_info_modal');
    expect(viewText(link)).toMatch(/:warning: In .+, you don't have permission to invite people/);
    expect(viewText(link)).not.toContain('/invites/');
    for (const verb of ['resend', 'revoke']) {
      const reply = await click(h, admin.user, choose(verb));
      expect(reply.text).toMatch(/:warning: In .+, you don't have permission to invite people/);
    }
    expect(formsShown(h, mark)).toEqual([]);
    const still = await h.domain.invites.lookupByToken(r.token);
    expect(still.state).toBe('pending');
    expect(await countRows(h, 'audit_events', `target_id = '${r.invite.id}' and action in ('invite.resent', 'invite.revoked')`)).toBe(0);
  });
});

describe('Change role in member menus', () => {
  it('Change role on someone who left since the list was shown is refused at the click, with no form', async () => {
    const h = harness();
    const owner = await slackPerson(h, 'Olga');
    const org = await h.domain.orgs.create(owner.actor, { name: `Acme ${uniq()}` });
    const member = await addMember(h, org, owner, 'member', 'Mia');
    const list = await h.command(owner.user, 'members');
    await h.domain.members.leave(member.actor, org.id);

    const mark = h.slack.calls.length;
    const view = await clickModal(h, owner.user, menuIn(list.blocks, 'Mia', 'role')!);
    expect(view.callback_id).toBe('org_info_modal');
    expect(viewText(view)).toBe(":warning: That person isn't a member of this organization.");
    expect(formsShown(h, mark)).toEqual([]);
  });

  it('an admin who forges Change role on an owner gets the form, but the domain refuses the submission and the owner keeps the role', async () => {
    const h = harness();
    const owner = await slackPerson(h, 'Olga');
    const org = await h.domain.orgs.create(owner.actor, { name: `Acme ${uniq()}` });
    const admin = await addMember(h, org, owner, 'admin', 'Adam');
    const otto = await addMember(h, org, owner, 'owner', 'Otto');
    const forged = {
      block_id: `member:${org.id}:${otto.account.id}`,
      action_id: 'member_menu',
      type: 'overflow',
      selected_option: { text: { type: 'plain_text', text: 'Change role' }, value: `role:${otto.account.id}` },
    };
    const view = await clickOpens(h, admin.user, forged);
    expect(view.callback_id).toBe('org_role_modal');
    // Only roles the admin may grant are offered.
    expect(view.blocks.find((b: any) => b.block_id === 'role').element.options.map((o: any) => o.value)).toEqual(['admin', 'billing', 'developer', 'member']);

    const res = await h.submit(
      admin.user,
      { callback_id: view.callback_id, private_metadata: view.private_metadata },
      {
        role: { role_input: { type: 'static_select', selected_option: { value: 'member' } } },
      },
    );
    expect(res).toEqual({ response_action: 'errors', errors: { role: 'Only owners can change or remove an owner.' } });
    expect((await h.domain.members.find(owner.actor, org.id, { accountId: otto.account.id })).role).toBe('owner');
    expect(await countRows(h, 'audit_events', `org_id = '${org.id}' and action = 'member.role_changed'`)).toBe(0);
  });
});

describe('Change role in invite menus', () => {
  async function withInvite(h: SlackHarness) {
    const { org, olga: owner, adam: admin, mia: member } = await orgWithTeam(h);
    const email = `ivo.${uniq()}@acme.test`;
    const [r] = await h.domain.invites.create(owner.actor, org.id, { emails: email, role: 'developer' });
    if (!r?.ok) throw new Error('invite failed');
    return { owner, org, admin, member, email, invite: r.invite, token: r.token };
  }

  /** The invite row's "Change role" option in a `/org invites` reply, as a click payload. */
  async function changeRoleIn(h: SlackHarness, user: SlackUser, email: string) {
    const list = await h.command(user, 'invites');
    const row = list.blocks.find((b: any) => b.type === 'section' && b.text.text.includes(email));
    const option = row.accessory.options.find((o: any) => o.text.text === 'Change role');
    return { action_id: row.accessory.action_id, type: 'overflow', selected_option: option };
  }

  const roleValue = (value: string) => ({ type: 'static_select', selected_option: { text: { type: 'plain_text', text: value }, value } });
  const billing = (on: boolean) => ({
    type: 'checkboxes',
    selected_options: on ? [{ text: { type: 'plain_text', text: 'Send them billing emails' }, value: 'yes' }] : [],
  });

  async function inviteRow(h: SlackHarness, id: string) {
    const r = await h.db.db.execute<{ role: Role; billing_emails: boolean; status: string }>(
      sql.raw(`select role, billing_emails, status from invites where id = '${id}'`),
    );
    return r.rows[0];
  }

  it('an admin changes a pending invite from /org invites: the form offers only roles they may grant, filled with the current values, and saving changes the invite', async () => {
    const h = harness();
    const { org, admin, email, invite, token } = await withInvite(h);
    const action = await changeRoleIn(h, admin.user, email);
    expect(action.selected_option.value).toBe(`role:${invite.id}`);

    const view = await clickOpens(h, admin.user, action);
    expect(view.callback_id).toBe('invite_change_modal');
    expect(JSON.parse(view.private_metadata)).toEqual({ inviteId: invite.id });
    expect(viewText(view)).toContain(`*${email}* (now Developer)`);
    const select = view.blocks.find((b: any) => b.block_id === 'role').element;
    expect(select.options.map((o: any) => o.value)).toEqual(['admin', 'billing', 'developer', 'member']);
    expect(select.initial_option.value).toBe('developer');
    expect(view.blocks.find((b: any) => b.block_id === 'billing').element.initial_options).toBeUndefined();

    const res = await h.submit(
      admin.user,
      { callback_id: view.callback_id, private_metadata: view.private_metadata },
      {
        role: { role_input: roleValue('billing') },
        billing: { billing_input: billing(true) },
      },
    );
    expect(res.response_action).toBe('update');
    expect(viewText(res.view)).toBe(`The invite to *${email}* is now for Billing, with billing emails.`);
    expect(await inviteRow(h, invite.id)).toEqual({ role: 'billing', billing_emails: true, status: 'pending' });
    expect(await countRows(h, 'audit_events', `org_id = '${org.id}' and action = 'invite.updated' and target_id = '${invite.id}'`)).toBe(1);
    // The same link still works.
    expect((await h.domain.invites.lookupByToken(token)).state).toBe('pending');
  });

  it('an invite with billing emails opens with the box ticked, and unticking it turns them off', async () => {
    const h = harness();
    const { owner, org } = await withInvite(h);
    const email = `bill.${uniq()}@acme.test`;
    const [r] = await h.domain.invites.create(owner.actor, org.id, { emails: email, role: 'billing', billingEmails: true });
    if (!r?.ok) throw new Error('invite failed');
    const view = await clickOpens(h, owner.user, await changeRoleIn(h, owner.user, email));
    // An owner may grant owner.
    expect(view.blocks.find((b: any) => b.block_id === 'role').element.options.map((o: any) => o.value)).toEqual([
      'owner',
      'admin',
      'billing',
      'developer',
      'member',
    ]);
    expect(view.blocks.find((b: any) => b.block_id === 'billing').element.initial_options.map((o: any) => o.value)).toEqual(['yes']);

    const res = await h.submit(
      owner.user,
      { callback_id: view.callback_id, private_metadata: view.private_metadata },
      {
        role: { role_input: roleValue('billing') },
        billing: { billing_input: billing(false) },
      },
    );
    expect(res.response_action).toBe('update');
    expect(await inviteRow(h, r.invite.id)).toEqual({ role: 'billing', billing_emails: false, status: 'pending' });
  });

  it('an admin cannot turn an invite into an owner invite by editing the submission: refused on the role field, invite unchanged', async () => {
    const h = harness();
    const { org, admin, email, invite } = await withInvite(h);
    const view = await clickOpens(h, admin.user, await changeRoleIn(h, admin.user, email));
    const res = await h.submit(
      admin.user,
      { callback_id: view.callback_id, private_metadata: view.private_metadata },
      {
        role: { role_input: roleValue('owner') },
        billing: { billing_input: billing(true) },
      },
    );
    expect(res).toEqual({ response_action: 'errors', errors: { role: 'Only owners can make someone an owner.' } });
    expect(await inviteRow(h, invite.id)).toEqual({ role: 'developer', billing_emails: false, status: 'pending' });
    expect(await countRows(h, 'audit_events', `org_id = '${org.id}' and action = 'invite.updated'`)).toBe(0);
  });

  it('an invite accepted after the form was opened can no longer be changed: refused on the role field', async () => {
    const h = harness();
    const { owner, org, email, invite, token } = await withInvite(h);
    const view = await clickOpens(h, owner.user, await changeRoleIn(h, owner.user, email));
    await h.domain.invites.acceptByToken(token, { displayName: 'Ivo' });

    const res = await h.submit(
      owner.user,
      { callback_id: view.callback_id, private_metadata: view.private_metadata },
      {
        role: { role_input: roleValue('admin') },
        billing: { billing_input: billing(false) },
      },
    );
    expect(res.response_action).toBe('errors');
    expect(res.errors.role).toMatch(/no longer pending|already been used/);
    expect(await inviteRow(h, invite.id)).toMatchObject({ role: 'developer', status: 'accepted' });
    expect(await countRows(h, 'audit_events', `org_id = '${org.id}' and action = 'invite.updated'`)).toBe(0);
  });

  it('a plain member who gets the invites list forwarded cannot open the form', async () => {
    const h = harness();
    const { owner, member, email, invite } = await withInvite(h);
    const action = await changeRoleIn(h, owner.user, email);
    const mark = h.slack.calls.length;
    expect(await clickModalText(h, member.user, action)).toMatch(/^:warning: In .+, you don't have permission to invite people/);
    expect(formsShown(h, mark)).toEqual([]);
    expect(await inviteRow(h, invite.id)).toEqual({ role: 'developer', billing_emails: false, status: 'pending' });
  });
});

describe('App Home buttons', () => {
  const HOME = { container: { type: 'view', view_id: 'VHOME' }, view: { id: 'VHOME', type: 'home' } };

  it('Invite people opens the invite form limited to the roles the clicker may grant', async () => {
    const h = harness();
    const owner = await slackPerson(h, 'Olga');
    const org = await h.domain.orgs.create(owner.actor, { name: `Acme ${uniq()}` });
    const admin = await addMember(h, org, owner, 'admin', 'Adam');
    const mark = h.slack.calls.length;
    const view = await clickModal(h, admin.user, { action_id: 'home_invite', type: 'button', value: org.id }, HOME);
    // The click opened "Loading…" first, and the form replaced it.
    expect(h.slack.of('views.open', mark).map((c) => isLoadingModal(c.args.view))).toEqual([true]);
    expect(view.callback_id).toBe('org_invite_modal');
    expect(JSON.parse(view.private_metadata)).toEqual({ orgId: org.id });
    const role = view.blocks.find((b: any) => b.block_id === 'role');
    expect(role.element.options.map((o: any) => o.value)).toEqual(['admin', 'billing', 'developer', 'member']);
  });

  it('Invite people from a stale App Home is refused for someone who can no longer invite', async () => {
    const h = harness();
    const owner = await slackPerson(h, 'Olga');
    const org = await h.domain.orgs.create(owner.actor, { name: `Acme ${uniq()}` });
    const member = await addMember(h, org, owner, 'member', 'Mia');
    const mark = h.slack.calls.length;
    const view = await clickModal(h, member.user, { action_id: 'home_invite', type: 'button', value: org.id }, HOME);
    expect(view.callback_id).toBe('org_info_modal');
    expect(JSON.stringify(view.blocks)).toMatch(/permission to invite people/);
    expect(formsShown(h, mark)).toEqual([]);
  });

  it('New organization opens the create form', async () => {
    const h = harness();
    const loner = await slackPerson(h, 'Lone');
    const mark = h.slack.calls.length;
    const view = await clickModal(h, loner.user, { action_id: 'home_create_org', type: 'button', value: 'create' }, HOME);
    expect(h.slack.of('views.open', mark).map((c) => isLoadingModal(c.args.view))).toEqual([true]);
    expect(view.callback_id).toBe('org_create_modal');
  });
});
