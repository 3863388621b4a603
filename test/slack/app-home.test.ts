import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { accountActor } from '../../src/domain/context.js';
import {
  HOME,
  clickModal,
  countRows,
  homeClick,
  openHome,
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

/**
 * A click in App Home that is refused: resolves with the text of the info modal shown over App Home
 * (opened directly, or filling the "Loading…" modal of a click that shows a form).
 */
async function homeRefusal(h: SlackHarness, user: SlackUser, action: Record<string, unknown>): Promise<string> {
  const view = await clickModal(h, user, action, HOME);
  expect(view.callback_id).toBe('org_info_modal');
  return JSON.stringify(view.blocks);
}

/** A click in App Home that opens a modal; resolves with that modal (what replaces "Loading…" for a form). */
const homeOpens = (h: SlackHarness, user: SlackUser, action: Record<string, unknown>): Promise<any> => clickModal(h, user, action, HOME);

const viewText = (view: any) =>
  (view.blocks as any[])
    .filter((b) => b.type === 'section')
    .map((b) => b.text.text)
    .join('\n');

const menu = (verb: string, id: string) => ({ type: 'overflow', selected_option: { text: { type: 'plain_text', text: verb }, value: `${verb}:${id}` } });

/** The section of a member or invite line, found by text. */
function row(view: any, text: string): any {
  return view.blocks.find((b: any) => b.type === 'section' && b.text?.text?.includes(text));
}
const optionLabels = (accessory: any) =>
  accessory?.type === 'overflow' ? accessory.options.map((o: any) => o.text.text) : accessory ? [accessory.text.text] : [];

async function setup(h: SlackHarness) {
  const { org, olga: owner, adam: admin, mia: member } = await orgWithTeam(h);
  const inviteeEmail = `ivo.${uniq()}@acme.test`;
  const invitee = h.slack.addUser('Ivo', inviteeEmail);
  const [r] = await h.domain.invites.create(owner.actor, org.id, { emails: inviteeEmail, role: 'developer' });
  if (!r?.ok) throw new Error('invite failed');
  return { owner, org, admin, member, invite: r.invite, token: r.token, invitee, inviteeEmail };
}

describe('App Home', () => {
  it('an owner sees the active org, their role, members with menus and pending invites with menus', async () => {
    const h = harness();
    const { owner, org, admin, member, inviteeEmail } = await setup(h);
    const view = await openHome(h, owner.user);

    expect(view.type).toBe('home');
    expect(view.blocks.length).toBeLessThanOrEqual(100);
    expect(view.blocks[0]).toMatchObject({ type: 'header', text: { text: org.name } });
    expect(JSON.stringify(view.blocks[1])).toContain('your role: *Owner* (primary owner)');
    expect(JSON.stringify(view.blocks)).toContain('*Members* · 3');

    expect(row(view, '*Olga*').accessory).toBeUndefined(); // no menu on myself
    expect(optionLabels(row(view, '*Adam*').accessory)).toEqual(['Change role', 'Remove from org', 'Send billing emails']);
    expect(optionLabels(row(view, '*Mia*').accessory)).toEqual(['Change role', 'Remove from org', 'Send billing emails']);
    expect(row(view, '*Mia*').accessory.action_id).toBe('home_member_menu');
    expect(row(view, '*Mia*').accessory.options[1].value).toBe(`remove:${member.account.id}`);
    void admin;

    expect(JSON.stringify(view.blocks)).toContain('*Pending invites* · 1');
    const inviteRow = row(view, inviteeEmail);
    expect(inviteRow.text.text).toContain('Developer');
    expect(inviteRow.accessory.action_id).toBe('home_invite_menu');
    expect(optionLabels(inviteRow.accessory)).toEqual(['Change role', 'Resend', 'Revoke', 'Copy invite link']);
  });

  it('a member sees the org and their role, but no menus on others and no pending invites', async () => {
    const h = harness();
    const { member, org } = await setup(h);
    const view = await openHome(h, member.user);

    expect(view.blocks[0]).toMatchObject({ type: 'header', text: { text: org.name } });
    expect(JSON.stringify(view.blocks[1])).toContain('your role: *Member*');
    for (const name of ['*Olga*', '*Adam*', '*Mia*']) expect(row(view, name).accessory).toBeUndefined();
    expect(JSON.stringify(view.blocks)).not.toContain('Pending invites');
    expect(JSON.stringify(view.blocks)).not.toContain('home_invite');
  });

  it('an admin gets no menu on the owner', async () => {
    const h = harness();
    const { admin } = await setup(h);
    const view = await openHome(h, admin.user);
    expect(row(view, '*Olga*').accessory).toBeUndefined();
    expect(optionLabels(row(view, '*Mia*').accessory)).toEqual(['Change role', 'Remove from org', 'Send billing emails']);
  });

  it('the org switcher appears with two orgs, and choosing one switches and re-publishes App Home', async () => {
    const h = harness();
    const { owner, org } = await setup(h);
    const first = await openHome(h, owner.user);
    expect(JSON.stringify(first.blocks)).not.toContain('home_switch_org');

    const other = await h.domain.orgs.create(owner.actor, { name: `Beta ${uniq()}` });
    await h.domain.orgs.switchActive(owner.actor, org.id);
    const view = await openHome(h, owner.user);
    const select = view.blocks.flatMap((b: any) => b.elements ?? []).find((e: any) => e.action_id === 'home_switch_org');
    expect(select.options.map((o: any) => o.value).sort()).toEqual([org.id, other.id].sort());
    expect(select.initial_option.value).toBe(org.id);

    const switched = await homeClick(h, owner.user, {
      action_id: 'home_switch_org',
      type: 'static_select',
      selected_option: { text: { type: 'plain_text', text: other.name }, value: other.id },
    });
    expect(switched.blocks[0].text.text).toBe(other.name);
    expect((await h.domain.orgs.active(owner.actor)).org.id).toBe(other.id);
  });

  it('switching to an org I am not in is refused and my active org stays', async () => {
    const h = harness();
    const { owner, org } = await setup(h);
    const stranger = await slackPerson(h, 'Sam');
    const foreign = await h.domain.orgs.create(stranger.actor, { name: `Foreign ${uniq()}` });
    const text = await homeRefusal(h, owner.user, { action_id: 'home_switch_org', type: 'static_select', selected_option: { value: foreign.id } });
    expect(text).toMatch(/not a member/);
    expect((await h.domain.orgs.active(owner.actor)).org.id).toBe(org.id);
  });

  it('an owner removes a member from App Home after confirming: the membership is gone and App Home is re-published without them', async () => {
    const h = harness();
    const { owner, org, member } = await setup(h);
    const view = await homeOpens(h, owner.user, { action_id: 'home_member_menu', ...menu('remove', member.account.id) });
    expect(view.callback_id).toBe('org_remove_member_modal');
    expect(viewText(view)).toBe(`Remove *Mia* from *${org.name}*? Their access ends now.`);
    expect(await countRows(h, 'memberships', `org_id = '${org.id}' and account_id = '${member.account.id}'`)).toBe(1);

    const mark = h.slack.calls.length;
    const res = await h.submit(owner.user, { callback_id: view.callback_id, private_metadata: view.private_metadata }, {});
    expect(viewText(res.view)).toBe(`Removed *Mia* from *${org.name}*. Their access ended now.`);
    const home = (await h.slack.waitForCall('views.publish', mark, (c) => c.args.user_id === owner.user.id)).args.view;
    expect(row(home, '*Mia*')).toBeUndefined();
    expect(JSON.stringify(home.blocks)).toContain('*Members* · 2');
    expect(await countRows(h, 'memberships', `org_id = '${org.id}' and account_id = '${member.account.id}'`)).toBe(0);
  });

  it('an owner turns billing emails on for a member from App Home', async () => {
    const h = harness();
    const { owner, org, member } = await setup(h);
    const view = await homeClick(h, owner.user, { action_id: 'home_member_menu', ...menu('billing_on', member.account.id) });
    expect(row(view, '*Mia*').text.text).toContain('billing emails');
    expect(optionLabels(row(view, '*Mia*').accessory)).toContain('Stop billing emails');
    expect((await h.domain.members.find(owner.actor, org.id, { accountId: member.account.id })).billingEmails).toBe(true);
  });

  it('Change role from App Home opens the role form for that member with only grantable roles', async () => {
    const h = harness();
    const { admin, member, org } = await setup(h);
    const view = await homeOpens(h, admin.user, { action_id: 'home_member_menu', ...menu('role', member.account.id) });
    expect(view.callback_id).toBe('org_role_modal');
    expect(JSON.parse(view.private_metadata)).toEqual({ orgId: org.id, accountId: member.account.id });
    const select = view.blocks.find((b: any) => b.type === 'input').element;
    expect(select.options.map((o: any) => o.value)).toEqual(['admin', 'billing', 'developer', 'member']);
  });

  it('revoke from App Home: the invite is revoked, its link stops working, and it leaves the list', async () => {
    const h = harness();
    const { owner, invite, token, inviteeEmail } = await setup(h);
    const view = await homeClick(h, owner.user, { action_id: 'home_invite_menu', ...menu('revoke', invite.id) });
    expect(row(view, inviteeEmail)).toBeUndefined();
    expect((await h.domain.invites.get(owner.actor, invite.id)).state).toBe('revoked');
    expect((await h.domain.invites.lookupByToken(token)).state).toBe('revoked');
  });

  it('resend from App Home: the old link stops working and the invitee gets a new DM with the new link', async () => {
    const h = harness();
    const { owner, invite, token, invitee } = await setup(h);
    const mark = h.slack.calls.length;
    await homeClick(h, owner.user, { action_id: 'home_invite_menu', ...menu('resend', invite.id) });

    await expect(h.domain.invites.lookupByToken(token)).rejects.toMatchObject({ code: 'invite_not_found' });
    const dm = await h.slack.waitForCall(
      'chat.postMessage',
      mark,
      (c) => c.args.channel === invitee.id && JSON.stringify(c.args.blocks ?? []).includes(invite.id),
    );
    const link = /https:\/\/roster\.test\/invites\/([A-Za-z0-9_-]{43})/.exec(JSON.stringify(dm.args.blocks));
    expect(link).not.toBeNull();
    expect(link![1]).not.toBe(token);
    expect(await h.domain.invites.lookupByToken(link![1]!)).toMatchObject({ state: 'pending', invite: { id: invite.id } });
  });

  it('copy invite link from App Home opens a modal with the working link', async () => {
    const h = harness();
    const { owner, invite, inviteeEmail } = await setup(h);
    const view = await homeOpens(h, owner.user, { action_id: 'home_invite_menu', ...menu('link', invite.id) });
    expect(view.type).toBe('modal');
    expect(view.title.text).toBe('Invite link');
    const text = JSON.stringify(view.blocks);
    expect(text).toContain(inviteeEmail);
    const link = /https:\/\/roster\.test\/invites\/([A-Za-z0-9_-]{43})/.exec(text);
    expect(link).not.toBeNull();
    expect(await h.domain.invites.lookupByToken(link![1]!)).toMatchObject({ state: 'pending', invite: { id: invite.id } });
  });

  it('a member who gets an owner’s menu payload is refused for every verb, and nothing changes', async () => {
    const h = harness();
    const { member, admin, owner, org, invite, token } = await setup(h);
    const before = await countRows(h, 'audit_events', `org_id = '${org.id}'`);

    // Remove asks to confirm first; confirming is refused.
    const confirm = await homeOpens(h, member.user, { action_id: 'home_member_menu', ...menu('remove', admin.account.id) });
    const refused = await h.submit(member.user, { callback_id: confirm.callback_id, private_metadata: confirm.private_metadata }, {});
    expect(refused.response_action).toBe('update');
    expect(viewText(refused.view)).toMatch(/permission to remove members/);
    expect(await homeRefusal(h, member.user, { action_id: 'home_member_menu', ...menu('billing_on', admin.account.id) })).toMatch(
      /permission to change who receives billing emails/,
    );
    expect(await homeRefusal(h, member.user, { action_id: 'home_member_menu', ...menu('role', admin.account.id) })).toMatch(
      /permission to change members' roles/,
    );
    expect(await homeRefusal(h, member.user, { action_id: 'home_invite_menu', ...menu('revoke', invite.id) })).toMatch(/permission to invite people/);
    expect(await homeRefusal(h, member.user, { action_id: 'home_invite_menu', ...menu('role', invite.id) })).toMatch(/permission to invite people/);
    expect(await homeRefusal(h, member.user, { action_id: 'home_invite_menu', ...menu('resend', invite.id) })).toMatch(/permission to invite people/);
    const linkRefusal = await homeRefusal(h, member.user, { action_id: 'home_invite_menu', ...menu('link', invite.id) });
    expect(linkRefusal).toMatch(/permission to invite people/);
    expect(linkRefusal).not.toContain('/invites/');

    expect(await countRows(h, 'memberships', `org_id = '${org.id}'`)).toBe(3);
    expect((await h.domain.members.find(owner.actor, org.id, { accountId: admin.account.id })).billingEmails).toBe(false);
    expect((await h.domain.invites.lookupByToken(token)).state).toBe('pending');
    expect(await countRows(h, 'audit_events', `org_id = '${org.id}'`)).toBe(before);
  });

  it('an admin who forges a remove of the primary owner is refused when confirming, and the primary owner stays', async () => {
    const h = harness();
    const { admin, owner, org } = await setup(h);
    const view = await homeOpens(h, admin.user, { action_id: 'home_member_menu', ...menu('remove', owner.account.id) });
    const res = await h.submit(admin.user, { callback_id: view.callback_id, private_metadata: view.private_metadata }, {});
    expect(res.response_action).toBe('update');
    expect(viewText(res.view)).toMatch(/^:warning: /);
    expect(await countRows(h, 'memberships', `org_id = '${org.id}' and account_id = '${owner.account.id}'`)).toBe(1);
    expect(await countRows(h, 'audit_events', `org_id = '${org.id}' and action = 'member.removed'`)).toBe(0);
  });

  it('Change role on an invite in App Home: saving changes it and App Home shows the new role', async () => {
    const h = harness();
    const { owner, invite, inviteeEmail } = await setup(h);
    const view = await homeOpens(h, owner.user, { action_id: 'home_invite_menu', ...menu('role', invite.id) });
    expect(view.callback_id).toBe('invite_change_modal');
    const mark = h.slack.calls.length;
    const res = await h.submit(
      owner.user,
      { callback_id: view.callback_id, private_metadata: view.private_metadata },
      {
        role: { role_input: { type: 'static_select', selected_option: { value: 'admin' } } },
        billing: { billing_input: { type: 'checkboxes', selected_options: [] } },
      },
    );
    expect(res.response_action).toBe('update');
    const home = (await h.slack.waitForCall('views.publish', mark, (c) => c.args.user_id === owner.user.id)).args.view;
    expect(row(home, inviteeEmail).text.text).toContain(' · Admin');
    expect((await h.domain.invites.get(owner.actor, invite.id)).role).toBe('admin');
  });

  // Moves the server's clock 15 days ahead: later tests in this file create their invites after that, so they are unaffected.
  it('an expired invite offers no Change role (only Resend and Revoke)', async () => {
    const h = harness();
    const { owner, inviteeEmail } = await setup(h);
    h.clock.advanceHours(24 * 15);
    const view = await openHome(h, owner.user);
    expect(optionLabels(row(view, inviteeEmail).accessory)).toEqual(['Resend', 'Revoke']);
  });

  it('when the active org is deleted and one org is left, App Home shows that one', async () => {
    const h = harness();
    const pia = await slackPerson(h, 'Pia');
    const left = await h.domain.orgs.create(pia.actor, { name: `Left ${uniq()}` });
    const gone = await h.domain.orgs.create(pia.actor, { name: `Gone ${uniq()}` }); // now active
    await h.domain.orgs.delete(pia.actor, gone.id, gone.name);
    const view = await openHome(h, pia.user);
    expect(view.blocks[0]).toMatchObject({ type: 'header', text: { text: left.name } });
    expect(JSON.stringify(view.blocks[1])).toContain('your role: *Owner* (primary owner)');
  });

  it('when the active org is deleted and two are left, App Home asks which one to work in; choosing one makes it active', async () => {
    const h = harness();
    const pia = await slackPerson(h, 'Pia');
    const a = await h.domain.orgs.create(pia.actor, { name: `Alpha ${uniq()}` });
    const b = await h.domain.orgs.create(pia.actor, { name: `Beta ${uniq()}` });
    const gone = await h.domain.orgs.create(pia.actor, { name: `Gone ${uniq()}` });
    await h.domain.orgs.delete(pia.actor, gone.id, gone.name);

    const view = await openHome(h, pia.user);
    const text = JSON.stringify(view.blocks);
    expect(text).toContain('Choose the organization to work in');
    expect(text).not.toContain("You're not in an organization yet");
    const select = view.blocks.flatMap((blk: any) => blk.elements ?? []).find((e: any) => e.action_id === 'home_switch_org');
    expect(select.options.map((o: any) => o.value).sort()).toEqual([a.id, b.id].sort());

    const after = await homeClick(h, pia.user, { action_id: 'home_switch_org', type: 'static_select', selected_option: { value: b.id } });
    expect(after.blocks[0]).toMatchObject({ type: 'header', text: { text: b.name } });
    expect((await h.domain.orgs.active(pia.actor)).org.id).toBe(b.id);
  });

  it('pages through a large org with Next and Previous', async () => {
    const h = harness();
    const owner = await slackPerson(h, 'Pia');
    const org = await h.domain.orgs.create(owner.actor, { name: `Big ${uniq()}` });
    for (let i = 0; i < 29; i++) {
      const acc = await h.domain.accounts.findOrCreateByEmail(`p${i}.${uniq()}@big.test`, `Person ${String(i).padStart(2, '0')}`);
      const [r] = await h.domain.invites.create(owner.actor, org.id, { emails: acc.email! });
      if (!r?.ok) throw new Error('invite failed');
      await h.domain.invites.accept(accountActor(acc.id, 'web'), r.invite.id);
    }
    const first = await openHome(h, owner.user);
    expect(JSON.stringify(first.blocks)).toContain('*Members* · 30 (showing 1–25)');
    const next = first.blocks.flatMap((b: any) => b.elements ?? []).find((e: any) => e.text?.text === 'Next ▶');
    expect(next).toBeDefined();

    const second = await homeClick(h, owner.user, { action_id: next.action_id, type: 'button', value: next.value });
    expect(JSON.stringify(second.blocks)).toContain('(showing 26–30)');
    const pageButtons = second.blocks.flatMap((b: any) => b.elements ?? []).filter((e: any) => /Previous|Next/.test(e.text?.text ?? ''));
    expect(pageButtons.map((b: any) => b.text.text)).toEqual(['◀ Previous']);

    const back = await homeClick(h, owner.user, { action_id: pageButtons[0].action_id, type: 'button', value: pageButtons[0].value });
    expect(JSON.stringify(back.blocks)).toContain('(showing 1–25)');
  });

  it('someone invited sees the invitation in App Home and accepts it there: they join and App Home shows the org', async () => {
    const h = harness();
    const { org, invite, invitee } = await setup(h);
    const view = await openHome(h, invitee);
    expect(JSON.stringify(view.blocks)).toContain('Invitations for you');
    const accept = view.blocks.flatMap((b: any) => b.elements ?? []).find((e: any) => e.action_id === 'invite_accept');
    expect(accept.value).toBe(invite.id);

    const after = await homeClick(h, invitee, { action_id: 'invite_accept', type: 'button', value: invite.id });
    expect(after.blocks[0].text.text).toBe(org.name);
    expect(JSON.stringify(after.blocks)).toContain('your role: *Developer*');
    expect(JSON.stringify(after.blocks)).not.toContain('Invitations for you');
  });

  it('someone in no organization gets a welcome with a create button', async () => {
    const h = harness();
    const loner = await slackPerson(h, 'Lone');
    const view = await openHome(h, loner.user);
    expect(JSON.stringify(view.blocks)).toContain("You're not in an organization yet");
    expect(view.blocks.flatMap((b: any) => b.elements ?? []).map((e: any) => e.action_id)).toContain('home_create_org');
  });
});
