import os from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import type { Role } from '../../src/domain/access.js';
import type { OrgRow } from '../../src/db/schema.js';
import {
  addMember,
  ask,
  auditCount,
  countRows,
  formsShown,
  modalFrom,
  modalText,
  orgOwnedBy,
  orgWithTeam,
  slackPerson,
  uniq,
  useSlackRoster,
  type SlackHarness,
  type SlackPerson,
} from '../helpers/slack.js';

// `/org` commands about members: members, role, remove, leave, billing-emails, transfer.

const harness = useSlackRoster({ OUTBOX_DIR: path.join(os.tmpdir(), `roster-test-outbox-${process.pid}`) });

/** How Slack writes a mention in an escaped slash command: <@U123|name>. */
const mention = (p: SlackPerson) => `<@${p.user.id}|${p.user.name.toLowerCase()}>`;

async function memberOf(h: SlackHarness, org: OrgRow, p: SlackPerson) {
  const [m] = (
    await h.db.db.execute<{ role: Role; billing_emails: boolean }>(
      sql.raw(`select role, billing_emails from memberships where org_id = '${org.id}' and account_id = '${p.account.id}'`),
    )
  ).rows;
  return m;
}

describe('/org members', () => {
  it('lists every member with their role, the primary owner marked', async () => {
    const h = harness();
    const { org, olga, mia } = await orgWithTeam(h);
    const reply = await ask(h, mia, 'members');
    expect(reply.text).toBe(`${org.name} has 3 members.`);
    expect(reply.blocks[0].text.text).toBe(`Members of ${org.name}`);
    expect(reply.blocks[1].elements[0].text).toBe('3 members · your role: Member');
    const rows = reply.blocks.filter((b: any) => b.type === 'section').map((b: any) => b.text.text as string);
    expect(rows).toHaveLength(3);
    const row = (name: string) => rows.find((r: string) => r.startsWith(`*${name}*`))!;
    expect(row('Olga')).toContain(olga.email);
    expect(row('Olga')).toMatch(/\nOwner \(primary owner\) · /);
    expect(row('Adam')).toMatch(/\nAdmin · /);
    expect(row('Mia')).toMatch(/\nMember · /);
  });

  it('an org name with Slack markup is escaped in the reply, so it can never become a mention', async () => {
    const h = harness();
    const olga = await slackPerson(h, 'Olga');
    const org = await h.domain.orgs.create(olga.actor, { name: `<!channel> & Co ${uniq()}` });
    const reply = await ask(h, olga, 'members');
    const escaped = org.name.replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;');
    expect(reply.text).toBe(`${escaped} has 1 member.`);
    // Plain-text fields (the header) show the name as typed; no mrkdwn field carries the raw markup.
    const mrkdwn = JSON.stringify(reply.blocks).match(/"type":"mrkdwn","text":"[^"]*"/g) ?? [];
    expect(mrkdwn.length).toBeGreaterThan(0);
    expect(mrkdwn.filter((t) => t.includes('<!channel>'))).toEqual([]);
  });

  it('someone with no organization is told to create or join one', async () => {
    const h = harness();
    // A Slack user Roster has never seen: their account is made from users.info on the way.
    const email = `newbie.${uniq()}@acme.test`;
    const newbie = h.slack.addUser('Newbie', email);
    const reply = await h.command(newbie, 'members');
    expect(reply.response_type).toBe('ephemeral');
    // Escaped once for mrkdwn: Slack shows `<slug>`.
    expect(reply.text).toBe(":warning: You don't have an active organization yet. Create one with `/org create` or join one with `/org join &lt;slug&gt;`.");
    expect(reply.blocks).toBeUndefined();
    expect((await h.domain.accounts.findByEmail(email))?.displayName).toBe('Newbie');
  });
});

describe('/org role', () => {
  it('an owner changes a role by @mention', async () => {
    const h = harness();
    const { org, olga, mia } = await orgWithTeam(h);
    const reply = await ask(h, olga, `role ${mention(mia)} admin`);
    expect(reply.text).toBe(`*Mia* is now Admin in *${org.name}*.`);
    expect((await memberOf(h, org, mia))?.role).toBe('admin');
    expect(await auditCount(h, org, 'member.role_changed')).toBe(1);
  });

  it('an admin changes a role by email', async () => {
    const h = harness();
    const { org, adam, mia } = await orgWithTeam(h);
    const reply = await ask(h, adam, `role ${mia.email.toUpperCase()} developer`);
    expect(reply.text).toBe(`*Mia* is now Developer in *${org.name}*.`);
    expect((await memberOf(h, org, mia))?.role).toBe('developer');
  });

  it('an escaped email from Slack (<mailto:…|…>) names the person too', async () => {
    const h = harness();
    const { org, olga, mia } = await orgWithTeam(h);
    const reply = await ask(h, olga, `role <mailto:${mia.email}|${mia.email}> billing`);
    expect(reply.text).toBe(`*Mia* is now Billing in *${org.name}*.`);
    expect((await memberOf(h, org, mia))?.role).toBe('billing');
  });

  it('an admin cannot change an owner, and the owner keeps their role', async () => {
    const h = harness();
    const { org, olga, adam } = await orgWithTeam(h);
    const otto = await addMember(h, org, olga, 'owner', 'Otto');
    const reply = await ask(h, adam, `role ${mention(otto)} member`);
    expect(reply.text).toBe(':warning: Only owners can change or remove an owner.');
    expect((await memberOf(h, org, otto))?.role).toBe('owner');
    expect(await auditCount(h, org, 'member.role_changed')).toBe(0);
  });

  it('an admin cannot make anyone an owner', async () => {
    const h = harness();
    const { org, adam, mia } = await orgWithTeam(h);
    const reply = await ask(h, adam, `role ${mention(mia)} owner`);
    expect(reply.text).toBe(':warning: Only owners can make someone an owner.');
    expect((await memberOf(h, org, mia))?.role).toBe('member');
  });

  it('an unknown role is refused with the list of roles', async () => {
    const h = harness();
    const { org, olga, mia } = await orgWithTeam(h);
    const reply = await ask(h, olga, `role ${mention(mia)} superuser`);
    expect(reply.text).toBe(':warning: "superuser" is not a role. Choose one of: owner, admin, billing, developer, member.');
    expect((await memberOf(h, org, mia))?.role).toBe('member');
  });

  it('forgetting the role says how to write the command', async () => {
    const h = harness();
    const { olga, mia } = await orgWithTeam(h);
    const reply = await ask(h, olga, `role ${mention(mia)}`);
    expect(reply.text).toMatch(/^:warning: Say which role: `\/org role @ana admin`\. Roles: owner, admin, billing, developer, member\.$/);
  });

  it('someone outside the org cannot be given a role there', async () => {
    const h = harness();
    const { org, olga } = await orgWithTeam(h);
    const stranger = await slackPerson(h, 'Stan');
    const reply = await ask(h, olga, `role ${mention(stranger)} admin`);
    expect(reply.text).toBe(":warning: That person isn't a member of this organization.");
    expect(await countRows(h, 'memberships', `org_id = '${org.id}' and account_id = '${stranger.account.id}'`)).toBe(0);
  });

  it('a plain member cannot change roles, and the refusal names the org', async () => {
    const h = harness();
    const { org, adam, mia } = await orgWithTeam(h);
    const reply = await ask(h, mia, `role ${mention(adam)} member`);
    expect(reply.text).toBe(`:warning: In ${org.name}, you don't have permission to change members' roles (owners and admins only).`);
    expect((await memberOf(h, org, adam))?.role).toBe('admin');
  });

  it('role with no arguments opens the change-role modal offering only roles I may grant', async () => {
    const h = harness();
    const { org, olga, adam } = await orgWithTeam(h);
    const options = (view: Record<string, any>) => view.blocks.find((b: any) => b.block_id === 'role').element.options.map((o: any) => o.value);

    const ownerView = await modalFrom(h, olga.user, 'role');
    expect(ownerView.callback_id).toBe('org_role_modal');
    expect(JSON.parse(ownerView.private_metadata)).toEqual({ orgId: org.id });
    expect(ownerView.blocks.find((b: any) => b.block_id === 'member').element.type).toBe('users_select');
    expect(options(ownerView)).toEqual(['owner', 'admin', 'billing', 'developer', 'member']);

    const adminView = await modalFrom(h, adam.user, 'role');
    expect(options(adminView)).toEqual(['admin', 'billing', 'developer', 'member']);
  });

  it('a plain member running role with no arguments is told why instead of getting an empty form', async () => {
    const h = harness();
    const { org, mia } = await orgWithTeam(h);
    const mark = h.slack.calls.length;
    expect(await modalText(h, mia.user, 'role')).toBe(`:warning: Only owners and admins can change roles in ${org.name}. Your role is Member.`);
    expect(formsShown(h, mark)).toEqual([]);
  });
});

describe('/org remove', () => {
  it('an admin removes a member by @mention and their access ends', async () => {
    const h = harness();
    const { org, adam, mia } = await orgWithTeam(h);
    const reply = await ask(h, adam, `remove ${mention(mia)}`);
    expect(reply.text).toBe(`Removed *Mia* from *${org.name}*. Their access ended now.`);
    expect(await memberOf(h, org, mia)).toBeUndefined();
    await expect(h.domain.orgs.get(mia.actor, org.id)).rejects.toMatchObject({ code: 'not_a_member' });
  });

  it('the primary owner cannot be removed, even by another owner', async () => {
    const h = harness();
    const { org, olga } = await orgWithTeam(h);
    const otto = await addMember(h, org, olga, 'owner', 'Otto');
    const reply = await ask(h, otto, `remove ${mention(olga)}`);
    expect(reply.text).toMatch(/^:warning: The primary owner cannot be removed, demoted or leave\. They can transfer primary ownership/);
    expect((await memberOf(h, org, olga))?.role).toBe('owner');
    expect(await auditCount(h, org, 'member.removed')).toBe(0);
  });

  it('removing yourself is refused with a pointer to leave instead', async () => {
    const h = harness();
    const { org, adam } = await orgWithTeam(h);
    const reply = await ask(h, adam, `remove ${adam.email}`);
    expect(reply.text).toBe(':warning: To remove yourself, leave the organization instead.');
    expect(await memberOf(h, org, adam)).toBeDefined();
  });

  it('a plain member cannot remove anyone', async () => {
    const h = harness();
    const { org, adam, mia } = await orgWithTeam(h);
    const reply = await ask(h, mia, `remove ${mention(adam)}`);
    expect(reply.text).toMatch(/^:warning: In .+, you don't have permission to remove members \(owners and admins only\)\.$/);
    expect(await memberOf(h, org, adam)).toBeDefined();
  });

  it('remove with nobody named says how to write it', async () => {
    const h = harness();
    const { adam } = await orgWithTeam(h);
    const reply = await ask(h, adam, 'remove');
    expect(reply.text).toBe(':warning: Say who to remove: `/org remove @ana` or `/org remove ana@example.com`.');
  });
});

describe('/org leave', () => {
  it('leave opens the leave modal for the active org and removes nothing yet', async () => {
    const h = harness();
    const { org, mia } = await orgWithTeam(h);
    const view = await modalFrom(h, mia.user, 'leave');
    expect(view.callback_id).toBe('org_leave_modal');
    expect(JSON.parse(view.private_metadata)).toEqual({ orgId: org.id });
    expect(view.blocks[0].text.text).toContain(`Leave *${org.name}*?`);
    expect(await memberOf(h, org, mia)).toBeDefined();
  });

  it('leave with no organization says there is nothing to leave and opens no modal', async () => {
    const h = harness();
    const zed = await slackPerson(h, 'Zed');
    const mark = h.slack.calls.length;
    expect(await modalText(h, zed.user, 'leave')).toMatch(/^:warning: You don't have an active organization yet\./);
    expect(formsShown(h, mark)).toEqual([]);
  });
});

describe('/org billing-emails', () => {
  it('an admin turns billing emails on and off for a member', async () => {
    const h = harness();
    const { org, adam, mia } = await orgWithTeam(h);
    const on = await ask(h, adam, `billing-emails ${mention(mia)} on`);
    expect(on.text).toBe(`*Mia* now receives billing emails for *${org.name}*.`);
    expect((await memberOf(h, org, mia))?.billing_emails).toBe(true);

    const off = await ask(h, adam, `billing-emails ${mia.email} OFF`);
    expect(off.text).toBe(`*Mia* no longer receives billing emails for *${org.name}*.`);
    expect((await memberOf(h, org, mia))?.billing_emails).toBe(false);
    expect(await auditCount(h, org, 'member.billing_emails_changed')).toBe(2);
  });

  it("the primary owner's billing emails cannot be turned off", async () => {
    const h = harness();
    const { org, olga } = await orgWithTeam(h);
    const reply = await ask(h, olga, `billing-emails ${mention(olga)} off`);
    expect(reply.text).toBe(':warning: The primary owner always receives billing emails.');
    expect((await memberOf(h, org, olga))?.billing_emails).toBe(true);
    expect(await auditCount(h, org, 'member.billing_emails_changed')).toBe(0);
  });

  it('a plain member cannot change who receives billing emails', async () => {
    const h = harness();
    const { org, adam, mia } = await orgWithTeam(h);
    const reply = await ask(h, mia, `billing-emails ${mention(adam)} on`);
    expect(reply.text).toMatch(/^:warning: In .+, you don't have permission to change who receives billing emails \(owners and admins only\)\.$/);
    expect((await memberOf(h, org, adam))?.billing_emails).toBe(false);
  });

  it('without on or off, the usage is shown', async () => {
    const h = harness();
    const { adam, mia } = await orgWithTeam(h);
    const reply = await ask(h, adam, `billing-emails ${mention(mia)} yes`);
    expect(reply.text).toBe(':warning: Use `/org billing-emails @ana on` or `/org billing-emails @ana off`.');
  });
});

describe('/org transfer', () => {
  it('the primary owner hands primary ownership to another owner', async () => {
    const h = harness();
    const { org, olga } = await orgWithTeam(h);
    const otto = await addMember(h, org, olga, 'owner', 'Otto');
    const reply = await ask(h, olga, `transfer ${mention(otto)}`);
    expect(reply.text).toBe(`*Otto* is now the primary owner of *${org.name}*.`);
    const after = await h.domain.orgs.get(olga.actor, org.id);
    expect(after.primaryOwnerId).toBe(otto.account.id);
    // The new primary owner always receives billing emails.
    expect((await memberOf(h, org, otto))?.billing_emails).toBe(true);
  });

  it('primary ownership cannot go to someone who is not an owner', async () => {
    const h = harness();
    const { org, olga, adam } = await orgWithTeam(h);
    const reply = await ask(h, olga, `transfer ${mention(adam)}`);
    expect(reply.text).toBe(':warning: Primary ownership can only be transferred to another owner. Make them an owner first.');
    expect((await h.domain.orgs.get(olga.actor, org.id)).primaryOwnerId).toBe(olga.account.id);
    expect(await auditCount(h, org, 'org.primary_owner_transferred')).toBe(0);
  });

  it('another owner cannot take primary ownership for themselves', async () => {
    const h = harness();
    const { org, olga } = await orgWithTeam(h);
    const otto = await addMember(h, org, olga, 'owner', 'Otto');
    const reply = await ask(h, otto, `transfer ${mention(otto)}`);
    expect(reply.text).toBe(':warning: Only the primary owner can transfer primary ownership.');
    expect((await h.domain.orgs.get(olga.actor, org.id)).primaryOwnerId).toBe(olga.account.id);
  });
});

describe('naming a person (@mention or email) looks only inside the active org', () => {
  const notMember = ":warning: That person isn't a member of this organization.";

  it('a plain member gets the same answer for an email with an account in another org and an email nobody has', async () => {
    const h = harness();
    const { mia } = await orgWithTeam(h);
    const elsewhere = await slackPerson(h, 'Elsa');
    const other = await orgOwnedBy(h, elsewhere, 'Other');

    const known = await ask(h, mia, `remove ${elsewhere.email}`);
    const unknown = await ask(h, mia, `remove nobody.${uniq()}@acme.test`);
    expect(known.text).toBe(notMember);
    expect(unknown.text).toBe(notMember);
    expect(await countRows(h, 'memberships', `org_id = '${other.id}' and account_id = '${elsewhere.account.id}'`)).toBe(1);
    expect(await countRows(h, 'audit_events', `action = 'member.removed' and org_id = '${other.id}'`)).toBe(0);
  });

  it('an owner gets the same answer for a mention of someone in another org, of a Slack user with no account and of a user Slack does not know', async () => {
    const h = harness();
    const { org, olga } = await orgWithTeam(h);
    const elsewhere = await slackPerson(h, 'Elsa');
    await orgOwnedBy(h, elsewhere, 'Other');
    const neverSeenEmail = `never.${uniq()}@acme.test`;
    const neverSeen = h.slack.addUser('Nev', neverSeenEmail);

    const replies = [
      await ask(h, olga, `role ${mention(elsewhere)} admin`),
      await ask(h, olga, `role <@${neverSeen.id}|nev> admin`),
      await ask(h, olga, `role <@U0GHOST00|ghost> admin`),
    ];
    expect(replies.map((r) => r.text)).toEqual([notMember, notMember, notMember]);
    // Looking someone up creates nothing.
    expect(await h.domain.accounts.findByEmail(neverSeenEmail)).toBeUndefined();
    expect(await auditCount(h, org, 'member.role_changed')).toBe(0);
  });

  it('a plain member naming a real member still gets the permission refusal (members may see each other)', async () => {
    const h = harness();
    const { org, adam, mia } = await orgWithTeam(h);
    const reply = await ask(h, mia, `billing-emails ${adam.email} on`);
    expect(reply.text).toMatch(/^:warning: In .+, you don't have permission to change who receives billing emails \(owners and admins only\)\.$/);
    expect((await memberOf(h, org, adam))?.billing_emails).toBe(false);
  });

  it('a member Roster has not seen in Slack yet is found by the email Slack has for them', async () => {
    const h = harness();
    const { org, olga } = await orgWithTeam(h);
    // Nina joined through the invite link (an email-only account); she is in the workspace too.
    const email = `nina.${uniq()}@acme.test`;
    const [r] = await h.domain.invites.create(olga.actor, org.id, { emails: email });
    if (!r?.ok) throw new Error('invite failed');
    await h.domain.invites.acceptByToken(r.token, { displayName: 'Nina' });
    const nina = h.slack.addUser('Nina', email);

    const reply = await ask(h, olga, `role <@${nina.id}|nina> developer`);
    expect(reply.text).toBe(`*Nina* is now Developer in *${org.name}*.`);
    const r2 = await h.db.db.execute<{ role: Role; n: number }>(
      sql.raw(
        `select m.role, (select count(*)::int from accounts where lower(email) = lower('${email}')) as n from memberships m join accounts a on a.id = m.account_id where m.org_id = '${org.id}' and lower(a.email) = lower('${email}')`,
      ),
    );
    expect(r2.rows).toEqual([{ role: 'developer', n: 1 }]);
  });
});
