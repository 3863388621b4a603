import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { accountActor } from '../../src/domain/context.js';
import type { Role } from '../../src/domain/access.js';
import type { OrgRow } from '../../src/db/schema.js';
import { TEAM, useSlackRoster, type SlackHarness, type SlackUser } from '../helpers/slack.js';

// Invite emails are written to a scratch folder (removed afterwards), not the project's .data/outbox.
const outbox = mkdtempSync(path.join(os.tmpdir(), 'roster-outbox-'));
afterAll(() => rmSync(outbox, { recursive: true, force: true }));
const harness = useSlackRoster({ OUTBOX_DIR: outbox });

const uniq = () => randomBytes(4).toString('hex');

type Person = Awaited<ReturnType<typeof slackPerson>>;

async function slackPerson(h: SlackHarness, name: string) {
  const email = `${name.toLowerCase()}.${uniq()}@acme.test`;
  const user = h.slack.addUser(name, email);
  const account = await h.domain.accounts.findOrCreateBySlack({ teamId: TEAM, userId: user.id, email, displayName: name });
  return { user, account, actor: accountActor(account.id, 'slack'), email };
}

async function invite(h: SlackHarness, org: OrgRow, by: Person, p: Person, role: Role) {
  const [r] = await h.domain.invites.create(by.actor, org.id, { emails: p.email, role });
  if (!r?.ok) throw new Error(`invite failed: ${r?.message}`);
  await h.domain.invites.accept(p.actor, r.invite.id);
}

async function addMember(h: SlackHarness, org: OrgRow, by: Person, role: Role, name: string): Promise<Person> {
  const p = await slackPerson(h, name);
  await invite(h, org, by, p, role);
  return p;
}

async function count(h: SlackHarness, table: string, where: string): Promise<number> {
  const r = await h.db.db.execute<{ n: number }>(sql.raw(`select count(*)::int as n from ${table} where ${where}`));
  return r.rows[0]!.n;
}

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

describe('menus in /org members and /org invites messages', () => {
  it('an admin removes a member from the /org members list and gets an ephemeral confirmation', async () => {
    const h = harness();
    const owner = await slackPerson(h, 'Olga');
    const org = await h.domain.orgs.create(owner.actor, { name: `Acme ${uniq()}` });
    const admin = await addMember(h, org, owner, 'admin', 'Adam');
    const member = await addMember(h, org, owner, 'member', 'Mia');

    const list = await h.command(admin.user, 'members');
    const remove = menuIn(list.blocks, 'Mia', 'remove');
    expect(remove).toBeDefined();
    expect(menuIn(list.blocks, 'Olga', 'remove')).toBeUndefined();

    const reply = await click(h, admin.user, remove!);
    expect(reply).toMatchObject({ response_type: 'ephemeral', replace_original: false });
    expect(reply.text).toBe(`Removed *Mia* from *${org.name}*.`);
    expect(await count(h, 'memberships', `org_id = '${org.id}' and account_id = '${member.account.id}'`)).toBe(0);
  });

  it('rights are checked at click time: an admin demoted after the list was shown can no longer remove', async () => {
    const h = harness();
    const owner = await slackPerson(h, 'Olga');
    const org = await h.domain.orgs.create(owner.actor, { name: `Acme ${uniq()}` });
    const admin = await addMember(h, org, owner, 'admin', 'Adam');
    const member = await addMember(h, org, owner, 'member', 'Mia');
    const list = await h.command(admin.user, 'members');
    const remove = menuIn(list.blocks, 'Mia', 'remove')!;

    await h.domain.members.changeRole(owner.actor, org.id, admin.account.id, 'member');
    const auditBefore = await count(h, 'audit_events', `org_id = '${org.id}'`);
    const reply = await click(h, admin.user, remove);
    expect(reply).toMatchObject({ response_type: 'ephemeral', replace_original: false });
    expect(reply.text).toMatch(/:warning: You don't have permission to remove members/);
    expect(await count(h, 'memberships', `org_id = '${org.id}' and account_id = '${member.account.id}'`)).toBe(1);
    expect(await count(h, 'audit_events', `org_id = '${org.id}'`)).toBe(auditBefore);
  });

  it('someone the list was forwarded to (a plain member) cannot use its menus', async () => {
    const h = harness();
    const owner = await slackPerson(h, 'Olga');
    const org = await h.domain.orgs.create(owner.actor, { name: `Acme ${uniq()}` });
    const admin = await addMember(h, org, owner, 'admin', 'Adam');
    const member = await addMember(h, org, owner, 'member', 'Mia');
    const list = await h.command(owner.user, 'members');

    const reply = await click(h, member.user, menuIn(list.blocks, 'Adam', 'billing_on')!);
    expect(reply.text).toMatch(/:warning: You don't have permission to change who receives billing emails/);
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

    const reply = await click(h, outsider.user, menuIn(list.blocks, 'Mia', 'remove')!);
    expect(reply.text).toMatch(/:warning:/);
    expect(await count(h, 'memberships', `org_id = '${org.id}' and account_id = '${member.account.id}'`)).toBe(1);
  });

  it('a menu acts on the org the list was for, even after the viewer switched their active org', async () => {
    const h = harness();
    const owner = await slackPerson(h, 'Olga');
    const orgA = await h.domain.orgs.create(owner.actor, { name: `Alpha ${uniq()}` });
    const orgB = await h.domain.orgs.create(owner.actor, { name: `Beta ${uniq()}` });
    const both = await slackPerson(h, 'Bea');
    await invite(h, orgA, owner, both, 'member');
    await invite(h, orgB, owner, both, 'member');

    await h.domain.orgs.switchActive(owner.actor, orgA.id);
    const list = await h.command(owner.user, 'members');
    expect(list.blocks[0].text.text).toBe(`Members of ${orgA.name}`);
    await h.command(owner.user, `switch ${orgB.slug}`);

    const reply = await click(h, owner.user, menuIn(list.blocks, 'Bea', 'remove')!);
    expect(reply.text).toBe(`Removed *Bea* from *${orgA.name}*.`);
    expect(await count(h, 'memberships', `org_id = '${orgA.id}' and account_id = '${both.account.id}'`)).toBe(0);
    expect(await count(h, 'memberships', `org_id = '${orgB.id}' and account_id = '${both.account.id}'`)).toBe(1);
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
    expect(reply.text).toBe(`Revoked the invite to *${email}*. Its link no longer works.`);
    expect((await h.domain.invites.lookupByToken(r.token)).state).toBe('revoked');
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

    for (const verb of ['link', 'resend', 'revoke']) {
      const option = row.accessory.options.find((o: any) => o.value === `${verb}:${r.invite.id}`);
      const reply = await click(h, admin.user, { action_id: row.accessory.action_id, type: 'overflow', selected_option: option });
      expect(reply.text).toMatch(/:warning: You don't have permission to invite people/);
    }
    expect(h.slack.of('views.open', mark)).toEqual([]);
    const still = await h.domain.invites.lookupByToken(r.token);
    expect(still.state).toBe('pending');
    expect(await count(h, 'audit_events', `target_id = '${r.invite.id}' and action in ('invite.resent', 'invite.revoked')`)).toBe(0);
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
    await h.action(admin.user, { action_id: 'home_invite', type: 'button', value: org.id }, HOME);
    const open = await h.slack.waitForCall('views.open', mark);
    expect(open.args.view.callback_id).toBe('org_invite_modal');
    expect(JSON.parse(open.args.view.private_metadata)).toEqual({ orgId: org.id });
    const role = open.args.view.blocks.find((b: any) => b.block_id === 'role');
    expect(role.element.options.map((o: any) => o.value)).toEqual(['admin', 'billing', 'developer', 'member']);
  });

  it('Invite people from a stale App Home is refused for someone who can no longer invite', async () => {
    const h = harness();
    const owner = await slackPerson(h, 'Olga');
    const org = await h.domain.orgs.create(owner.actor, { name: `Acme ${uniq()}` });
    const member = await addMember(h, org, owner, 'member', 'Mia');
    const mark = h.slack.calls.length;
    await h.action(member.user, { action_id: 'home_invite', type: 'button', value: org.id }, HOME);
    const open = await h.slack.waitForCall('views.open', mark);
    expect(open.args.view.callback_id).toBe('org_info_modal');
    expect(JSON.stringify(open.args.view.blocks)).toMatch(/permission to invite people/);
  });

  it('New organization opens the create form', async () => {
    const h = harness();
    const loner = await slackPerson(h, 'Lone');
    const mark = h.slack.calls.length;
    await h.action(loner.user, { action_id: 'home_create_org', type: 'button', value: 'create' }, HOME);
    const open = await h.slack.waitForCall('views.open', mark);
    expect(open.args.view.callback_id).toBe('org_create_modal');
  });
});
