import os from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import type { Role } from '../../src/domain/access.js';
import type { OrgRow } from '../../src/db/schema.js';
import {
  addMember,
  auditCount,
  countRows,
  orgOwnedBy,
  orgWithTeam,
  slackPerson,
  uniq,
  useSlackRoster,
  type SlackHarness,
  type SlackPerson,
} from '../helpers/slack.js';

// Modal submissions (view_submission): the domain runs before the ack, so a refusal comes back as field
// errors ({response_action:'errors'}) or as an updated modal, and success as a plain ack or an update.

const harness = useSlackRoster({ OUTBOX_DIR: path.join(os.tmpdir(), `roster-test-outbox-${process.pid}`) });

async function roleOf(h: SlackHarness, org: OrgRow, p: SlackPerson): Promise<Role | undefined> {
  const r = await h.db.db.execute<{ role: Role }>(sql.raw(`select role from memberships where org_id = '${org.id}' and account_id = '${p.account.id}'`));
  return r.rows[0]?.role;
}

async function pendingInvites(h: SlackHarness, org: OrgRow) {
  const r = await h.db.db.execute<{ email: string; role: Role; billing_emails: boolean }>(
    sql.raw(`select email, role, billing_emails from invites where org_id = '${org.id}' and status = 'pending' order by email`),
  );
  return r.rows;
}

// Block Kit state values as Slack sends them.
const textValue = (value: string | null) => ({ type: 'plain_text_input', value });
const selectValue = (value: string) => ({ type: 'static_select', selected_option: { text: { type: 'plain_text', text: value }, value } });
const userValue = (userId: string) => ({ type: 'users_select', selected_user: userId });
const checkboxes = (...values: string[]) => ({
  type: 'checkboxes',
  selected_options: values.map((v) => ({ text: { type: 'plain_text', text: v }, value: v })),
});

const meta = (m: Record<string, string>) => JSON.stringify(m);

/** The mrkdwn of every section of a view, joined. */
const viewText = (view: Record<string, any>) =>
  (view.blocks as any[]).flatMap((b) => (b.type === 'section' ? [b.text.text] : b.type === 'context' ? b.elements.map((e: any) => e.text) : [])).join('\n');

describe('create organization modal', () => {
  const submitCreate = (h: SlackHarness, p: SlackPerson, name: string | null, slug: string | null = null) =>
    h.submit(
      p.user,
      { callback_id: 'org_create_modal' },
      {
        org_name: { org_name_input: textValue(name) },
        org_slug: { org_slug_input: textValue(slug) },
      },
    );

  it('a valid name creates the org with the creator as owner, closes the modal and confirms by DM', async () => {
    const h = harness();
    const ana = await slackPerson(h, 'Ana');
    const name = `Modal Made ${uniq()}`;
    const mark = h.slack.calls.length;
    const res = await submitCreate(h, ana, name);
    expect(res).toEqual({});
    const slug = name.toLowerCase().replace(/ /g, '-');
    const org = await h.domain.orgs.findBySlug(slug);
    expect(org.primaryOwnerId).toBe(ana.account.id);
    expect((await h.domain.orgs.active(ana.actor)).org.id).toBe(org.id);
    const dm = await h.slack.waitForCall('chat.postMessage', mark, (c) => c.args.channel === ana.user.id);
    expect(dm.args.text).toBe(`:tada: Created *${name}* (\`${slug}\`). It is now your active organization.`);
  });

  it('the URL name typed in the form is used', async () => {
    const h = harness();
    const ana = await slackPerson(h, 'Ana');
    const slug = `chosen-${uniq()}`;
    expect(await submitCreate(h, ana, 'Whatever Name', slug.toUpperCase())).toEqual({});
    expect((await h.domain.orgs.findBySlug(slug)).name).toBe('Whatever Name');
  });

  it('a URL name already taken is shown as an error on the URL name field, and nothing is created', async () => {
    const h = harness();
    const olga = await slackPerson(h, 'Olga');
    const existing = await orgOwnedBy(h, olga);
    const ana = await slackPerson(h, 'Ana');
    const before = await countRows(h, 'orgs', 'true');
    const res = await submitCreate(h, ana, 'Copycat', existing.slug);
    expect(res).toEqual({
      response_action: 'errors',
      errors: { org_slug: `The URL name "${existing.slug}" is already taken. Choose another.` },
    });
    expect(await countRows(h, 'orgs', 'true')).toBe(before);
    expect(await h.domain.orgs.listMine(ana.actor)).toEqual([]);
  });

  it('a malformed URL name is shown on the URL name field', async () => {
    const h = harness();
    const ana = await slackPerson(h, 'Ana');
    const res = await submitCreate(h, ana, 'Fine Name', 'no spaces!');
    expect(res.response_action).toBe('errors');
    expect(Object.keys(res.errors)).toEqual(['org_slug']);
    expect(res.errors.org_slug).toMatch(/URL name may use lowercase letters, digits and dashes/);
    expect(await h.domain.orgs.listMine(ana.actor)).toEqual([]);
  });

  it('an empty name is shown as an error on the name field', async () => {
    const h = harness();
    const ana = await slackPerson(h, 'Ana');
    for (const name of [null, '   ']) {
      const res = await submitCreate(h, ana, name);
      expect(res).toEqual({ response_action: 'errors', errors: { org_name: 'The organization name cannot be empty.' } });
    }
    expect(await h.domain.orgs.listMine(ana.actor)).toEqual([]);
  });
});

describe('switch organization modal', () => {
  it('choosing one of my orgs makes it active and refreshes my App Home', async () => {
    const h = harness();
    const ana = await slackPerson(h, 'Ana');
    const first = await orgOwnedBy(h, ana, 'Alpha');
    await orgOwnedBy(h, ana, 'Beta');
    const mark = h.slack.calls.length;
    const res = await h.submit(ana.user, { callback_id: 'org_switch_modal' }, { org_select: { org_select_input: selectValue(first.id) } });
    expect(res).toEqual({});
    expect((await h.domain.orgs.active(ana.actor)).org.id).toBe(first.id);
    await h.slack.waitForCall('views.publish', mark, (c) => c.args.user_id === ana.user.id);
  });

  it("choosing an org I don't belong to is refused on the field and my active org stays", async () => {
    const h = harness();
    const ana = await slackPerson(h, 'Ana');
    const mine = await orgOwnedBy(h, ana, 'Mine');
    const olga = await slackPerson(h, 'Olga');
    const theirs = await orgOwnedBy(h, olga, 'Theirs');
    const res = await h.submit(ana.user, { callback_id: 'org_switch_modal' }, { org_select: { org_select_input: selectValue(theirs.id) } });
    expect(res.response_action).toBe('errors');
    expect(res.errors.org_select).toMatch(/^You're not a member of an organization called/);
    expect((await h.domain.orgs.active(ana.actor)).org.id).toBe(mine.id);
  });
});

describe('invite modal', () => {
  const submitInvite = (h: SlackHarness, p: SlackPerson, org: OrgRow, emails: string, role: Role, billing = false) =>
    h.submit(
      p.user,
      { callback_id: 'org_invite_modal', private_metadata: meta({ orgId: org.id }) },
      {
        invite_emails: { invite_emails_input: textValue(emails) },
        role: { role_input: selectValue(role) },
        billing: { billing_input: billing ? checkboxes('yes') : checkboxes() },
      },
    );

  it('the modal is replaced by a summary listing each email outcome, and the invites exist', async () => {
    const h = harness();
    const { org, adam, mia } = await orgWithTeam(h);
    const a = `ana.${uniq()}@example.com`;
    const b = `bo.${uniq()}@example.com`;
    const res = await submitInvite(h, adam, org, `${a}, ${b}\nbroken@nodot\n${mia.email}`, 'developer', true);
    expect(res.response_action).toBe('update');
    expect(res.view.callback_id).toBe('org_invite_result_modal');
    const text = viewText(res.view);
    expect(text).toContain(`*2* invited to *${org.name}*, *2* not invited.`);
    expect(text).toContain(`:white_check_mark: ${a}`);
    expect(text).toContain(`:white_check_mark: ${b}`);
    expect(text).toContain(':warning: broken@nodot: That is not a valid email address.');
    expect(text).toContain(`:warning: ${mia.email}: Already a member of this organization.`);
    expect(await pendingInvites(h, org)).toEqual([a, b].sort().map((email) => ({ email, role: 'developer', billing_emails: true })));
  });

  it('a long list is answered at once with a progress view, which the per-address results then replace', async () => {
    const h = harness();
    const { org, olga } = await orgWithTeam(h);
    const emails = Array.from({ length: 30 }, (_, i) => `bulk${i}.${uniq()}@example.com`);
    const mark = h.slack.calls.length;
    const res = await h.submit(
      olga.user,
      { id: 'VINVITE1', callback_id: 'org_invite_modal', private_metadata: meta({ orgId: org.id }) },
      {
        invite_emails: { invite_emails_input: textValue(emails.join('\n')) },
        role: { role_input: selectValue('member') },
        billing: { billing_input: checkboxes() },
      },
    );
    expect(res.response_action).toBe('update');
    expect(viewText(res.view)).toContain(`Inviting 30 addresses to *${org.name}*`);
    const update = await h.slack.waitForCall('views.update', mark, (c) => c.args.view_id === 'VINVITE1');
    expect(viewText(update.args.view)).toContain(`*30* invited to *${org.name}*.`);
    expect((await pendingInvites(h, org)).length).toBe(30);
  });

  it('a 3,000-character paste gives a readable result line, never an empty section', async () => {
    const h = harness();
    const { org, olga } = await orgWithTeam(h);
    const res = await submitInvite(h, olga, org, 'x'.repeat(3000), 'member');
    const sections = res.view.blocks.filter((b: any) => b.type === 'section');
    expect(sections.every((b: any) => b.text.text.trim().length > 0 && b.text.text.length <= 3000)).toBe(true);
    expect(viewText(res.view)).toMatch(/:warning: x+…/);
  });

  it('an email with a pending invite is reported with a pointer to Resend', async () => {
    const h = harness();
    const { org, olga } = await orgWithTeam(h);
    const a = `ana.${uniq()}@example.com`;
    await h.domain.invites.create(olga.actor, org.id, { emails: a });
    const res = await submitInvite(h, olga, org, a, 'member');
    const text = viewText(res.view);
    expect(text).toContain(`*0* invited to *${org.name}*, *1* not invited.`);
    expect(text).toContain(`:warning: ${a}: An invite is already pending for that email.`);
    expect(text).toContain('use *Resend* in `/org invites`');
    expect((await pendingInvites(h, org)).length).toBe(1);
  });

  it('someone who lost admin rights after opening the modal is refused on the field, and nothing is created', async () => {
    const h = harness();
    const { org, olga, adam } = await orgWithTeam(h);
    await h.domain.members.changeRole(olga.actor, org.id, adam.account.id, 'member');
    const res = await submitInvite(h, adam, org, `late.${uniq()}@example.com`, 'admin');
    expect(res).toEqual({
      response_action: 'errors',
      errors: { invite_emails: expect.stringMatching(/^In .+, you don't have permission to invite people \(owners and admins only\)\.$/) },
    });
    expect(await pendingInvites(h, org)).toEqual([]);
    expect(await auditCount(h, org, 'invite.created')).toBe(2); // the two from team()
  });

  it('an admin submitting owner as the role (not offered to them) is refused, nothing created', async () => {
    const h = harness();
    const { org, adam } = await orgWithTeam(h);
    const res = await submitInvite(h, adam, org, `boss.${uniq()}@example.com`, 'owner');
    expect(res).toEqual({ response_action: 'errors', errors: { invite_emails: 'Only owners can make someone an owner.' } });
    expect(await pendingInvites(h, org)).toEqual([]);
  });

  it('an empty email field is refused on the field', async () => {
    const h = harness();
    const { org, olga } = await orgWithTeam(h);
    const res = await submitInvite(h, olga, org, ' , ', 'member');
    expect(res).toEqual({ response_action: 'errors', errors: { invite_emails: 'Give at least one email address to invite.' } });
  });
});

describe('change role modal', () => {
  it('picking a Slack user and a role changes that member’s role', async () => {
    const h = harness();
    const { org, adam, mia } = await orgWithTeam(h);
    const res = await h.submit(
      adam.user,
      { callback_id: 'org_role_modal', private_metadata: meta({ orgId: org.id }) },
      {
        member: { member_input: userValue(mia.user.id) },
        role: { role_input: selectValue('billing') },
      },
    );
    expect(res).toEqual({});
    expect(await roleOf(h, org, mia)).toBe('billing');
    expect(await auditCount(h, org, 'member.role_changed')).toBe(1);
  });

  it('the form for one account (from a member menu) changes that account’s role', async () => {
    const h = harness();
    const { org, olga, adam } = await orgWithTeam(h);
    const res = await h.submit(
      olga.user,
      { callback_id: 'org_role_modal', private_metadata: meta({ orgId: org.id, accountId: adam.account.id }) },
      {
        role: { role_input: selectValue('owner') },
      },
    );
    expect(res).toEqual({});
    expect(await roleOf(h, org, adam)).toBe('owner');
  });

  it('an admin cannot change an owner through the modal: error on the role field, role kept', async () => {
    const h = harness();
    const { org, olga, adam } = await orgWithTeam(h);
    const otto = await addMember(h, org, olga, 'owner', 'Otto');
    const res = await h.submit(
      adam.user,
      { callback_id: 'org_role_modal', private_metadata: meta({ orgId: org.id, accountId: otto.account.id }) },
      {
        role: { role_input: selectValue('member') },
      },
    );
    expect(res).toEqual({ response_action: 'errors', errors: { role: 'Only owners can change or remove an owner.' } });
    expect(await roleOf(h, org, otto)).toBe('owner');
    expect(await auditCount(h, org, 'member.role_changed')).toBe(0);
  });

  it('picking someone who is not in the org is refused on the member field', async () => {
    const h = harness();
    const { org, olga } = await orgWithTeam(h);
    const stranger = await slackPerson(h, 'Stan');
    const res = await h.submit(
      olga.user,
      { callback_id: 'org_role_modal', private_metadata: meta({ orgId: org.id }) },
      {
        member: { member_input: userValue(stranger.user.id) },
        role: { role_input: selectValue('admin') },
      },
    );
    expect(res).toEqual({ response_action: 'errors', errors: { member: "That person isn't a member of this organization." } });
    expect(await roleOf(h, org, stranger)).toBeUndefined();
  });

  it("the primary owner's role cannot be changed: error on the member field", async () => {
    const h = harness();
    const { org, olga } = await orgWithTeam(h);
    const otto = await addMember(h, org, olga, 'owner', 'Otto');
    const res = await h.submit(
      otto.user,
      { callback_id: 'org_role_modal', private_metadata: meta({ orgId: org.id }) },
      {
        member: { member_input: userValue(olga.user.id) },
        role: { role_input: selectValue('admin') },
      },
    );
    expect(res.response_action).toBe('errors');
    expect(res.errors.member).toMatch(/^The primary owner cannot be removed, demoted or leave/);
    expect(await roleOf(h, org, olga)).toBe('owner');
  });
});

describe('leave modal', () => {
  const submitLeave = (h: SlackHarness, p: SlackPerson, org: OrgRow) =>
    h.submit(p.user, { callback_id: 'org_leave_modal', private_metadata: meta({ orgId: org.id }) }, {});

  it('a member leaves: the modal turns into a confirmation and the membership is gone', async () => {
    const h = harness();
    const { org, mia } = await orgWithTeam(h);
    const res = await submitLeave(h, mia, org);
    expect(res.response_action).toBe('update');
    expect(res.view.title.text).toBe('Left organization');
    expect(viewText(res.view)).toBe(`You left *${org.name}*.`);
    expect(await roleOf(h, org, mia)).toBeUndefined();
    expect(await auditCount(h, org, 'member.left')).toBe(1);
  });

  it("the primary owner's leave is refused: the modal explains why and the membership is kept", async () => {
    const h = harness();
    const { org, olga } = await orgWithTeam(h);
    const res = await submitLeave(h, olga, org);
    expect(res.response_action).toBe('update');
    expect(viewText(res.view)).toBe(
      ':warning: You are the primary owner, so you cannot leave. Transfer primary ownership to another owner first, or delete the organization. Use `/org transfer &lt;@user|email&gt;`.',
    );
    expect(await roleOf(h, org, olga)).toBe('owner');
    expect(await auditCount(h, org, 'member.left')).toBe(0);
  });

  it('the only member is told to delete the org instead, and stays', async () => {
    const h = harness();
    const solo = await slackPerson(h, 'Solo');
    const org = await orgOwnedBy(h, solo);
    const res = await submitLeave(h, solo, org);
    expect(res.response_action).toBe('update');
    expect(viewText(res.view)).toBe(":warning: You're the only member. Delete the organization instead of leaving it.");
    expect(await roleOf(h, org, solo)).toBe('owner');
  });
});

describe('rename modal', () => {
  const submitRename = (h: SlackHarness, p: SlackPerson, org: OrgRow, name: string) =>
    h.submit(p.user, { callback_id: 'org_rename_modal', private_metadata: meta({ orgId: org.id }) }, { org_name: { org_name_input: textValue(name) } });

  it('an owner renames the org', async () => {
    const h = harness();
    const { org, olga } = await orgWithTeam(h);
    expect(await submitRename(h, olga, org, '  Acme   Renamed ')).toEqual({});
    expect((await h.domain.orgs.get(olga.actor, org.id)).name).toBe('Acme Renamed');
  });

  it('an admin is refused on the name field and the name is kept', async () => {
    const h = harness();
    const { org, olga, adam } = await orgWithTeam(h);
    const res = await submitRename(h, adam, org, 'Hijacked');
    expect(res).toEqual({
      response_action: 'errors',
      errors: { org_name: expect.stringMatching(/^In .+, you don't have permission to rename the organization or change its settings \(owners only\)\.$/) },
    });
    expect((await h.domain.orgs.get(olga.actor, org.id)).name).toBe(org.name);
    expect(await auditCount(h, org, 'org.renamed')).toBe(0);
  });

  it('an empty name is refused on the name field', async () => {
    const h = harness();
    const { org, olga } = await orgWithTeam(h);
    const res = await submitRename(h, olga, org, '   ');
    expect(res).toEqual({ response_action: 'errors', errors: { org_name: 'The organization name cannot be empty.' } });
    expect((await h.domain.orgs.get(olga.actor, org.id)).name).toBe(org.name);
  });
});

describe('settings modal', () => {
  const numberValue = (value: string | null) => ({ type: 'number_input', value });
  const submitSettings = (h: SlackHarness, p: SlackPerson, org: OrgRow, v: { expiry: string; reminders: string | null; seats: string | null }) =>
    h.submit(
      p.user,
      { callback_id: 'org_settings_modal', private_metadata: meta({ orgId: org.id }) },
      {
        invite_expiry: { invite_expiry_input: selectValue(v.expiry) },
        reminder_hours: { reminder_hours_input: textValue(v.reminders) },
        seat_limit: { seat_limit_input: numberValue(v.seats) },
      },
    );

  async function settingsOf(h: SlackHarness, org: OrgRow) {
    const r = await h.db.db.execute<{ invite_expiry_hours: number | null; reminder_hours: number[]; seat_limit: number | null }>(
      sql.raw(`select invite_expiry_hours, reminder_hours, seat_limit from orgs where id = '${org.id}'`),
    );
    return r.rows[0];
  }
  const defaults = { invite_expiry_hours: 336, reminder_hours: [72, 24], seat_limit: null };

  it('an owner saves expiry, reminders and seat limit: the org has them, the modal lists them, one audit event', async () => {
    const h = harness();
    const { org, olga } = await orgWithTeam(h);
    const res = await submitSettings(h, olga, org, { expiry: '7d', reminders: '48, 2', seats: '25' });
    expect(res.response_action).toBe('update');
    expect(res.view.title.text).toBe('Settings saved');
    expect(viewText(res.view)).toBe(
      `Saved the settings of *${org.name}*:\n• Invites expire after 7 days\n• Reminders 48 h, 2 h before expiry\n• Seat limit: 25 (members and pending invites)`,
    );
    expect(await settingsOf(h, org)).toEqual({ invite_expiry_hours: 168, reminder_hours: [48, 2], seat_limit: 25 });
    expect(await auditCount(h, org, 'org.settings_changed')).toBe(1);
  });

  it('empty reminders and seat limit mean no reminders and no limit; never means invites do not expire', async () => {
    const h = harness();
    const { org, olga } = await orgWithTeam(h);
    await h.domain.orgs.updateSettings(olga.actor, org.id, { seatLimit: 10 });
    const res = await submitSettings(h, olga, org, { expiry: 'never', reminders: null, seats: '' });
    expect(viewText(res.view)).toBe(`Saved the settings of *${org.name}*:\n• Invites never expire\n• No reminders\n• No seat limit`);
    expect(await settingsOf(h, org)).toEqual({ invite_expiry_hours: null, reminder_hours: [], seat_limit: null });
    // A new invite now never expires.
    const [r] = await h.domain.invites.create(olga.actor, org.id, { emails: `forever.${uniq()}@acme.test` });
    expect(r?.ok && r.invite.expiresAt).toBeNull();
  });

  it('a seat limit of 0 is refused on the seat limit field with the domain’s message, and nothing is saved', async () => {
    const h = harness();
    const { org, olga } = await orgWithTeam(h);
    const res = await submitSettings(h, olga, org, { expiry: '7d', reminders: '72, 24', seats: '0' });
    expect(res).toEqual({ response_action: 'errors', errors: { seat_limit: 'The seat limit must be at least 1.' } });
    expect(await settingsOf(h, org)).toEqual(defaults);
    expect(await auditCount(h, org, 'org.settings_changed')).toBe(0);
  });

  it('a reminder of 0 hours, or more than 5 reminders, is refused on the reminders field', async () => {
    const h = harness();
    const { org, olga } = await orgWithTeam(h);
    const zero = await submitSettings(h, olga, org, { expiry: '14d', reminders: '24, 0', seats: null });
    expect(zero).toEqual({ response_action: 'errors', errors: { reminder_hours: 'Reminders are given in whole hours before expiry (at least 1).' } });
    const many = await submitSettings(h, olga, org, { expiry: '14d', reminders: '1 2 3 4 5 6', seats: null });
    expect(many).toEqual({ response_action: 'errors', errors: { reminder_hours: 'At most 5 reminders.' } });
    expect(await settingsOf(h, org)).toEqual(defaults);
    expect(await auditCount(h, org, 'org.settings_changed')).toBe(0);
  });

  it('words where numbers belong are refused on their fields, and nothing is saved', async () => {
    const h = harness();
    const { org, olga } = await orgWithTeam(h);
    const res = await submitSettings(h, olga, org, { expiry: '7d', reminders: 'three days', seats: 'ten' });
    expect(res.response_action).toBe('errors');
    expect(res.errors.reminder_hours).toMatch(/^Write whole hours before expiry/);
    expect(res.errors.seat_limit).toBe('Write a whole number, or leave it empty for no seat limit.');
    expect(await settingsOf(h, org)).toEqual(defaults);
  });

  it('an expiry that is not one of the choices (a forged submission) is refused on the expiry field', async () => {
    const h = harness();
    const { org, olga } = await orgWithTeam(h);
    const res = await submitSettings(h, olga, org, { expiry: '1y', reminders: '', seats: '' });
    expect(res).toEqual({ response_action: 'errors', errors: { invite_expiry: 'Invite expiry must be one of 72h, 7d, 14d, 30d or never.' } });
    expect(await settingsOf(h, org)).toEqual(defaults);
  });

  it('an admin submitting the form is refused, and the settings stay', async () => {
    const h = harness();
    const { org, adam } = await orgWithTeam(h);
    const res = await submitSettings(h, adam, org, { expiry: 'never', reminders: '', seats: '1' });
    expect(res).toEqual({
      response_action: 'errors',
      errors: {
        invite_expiry: expect.stringMatching(/^In .+, you don't have permission to rename the organization or change its settings \(owners only\)\.$/),
      },
    });
    expect(await settingsOf(h, org)).toEqual(defaults);
    expect(await auditCount(h, org, 'org.settings_changed')).toBe(0);
  });
});

describe('delete modal', () => {
  const submitDelete = (h: SlackHarness, p: SlackPerson, org: OrgRow, typed: string) =>
    h.submit(
      p.user,
      { callback_id: 'org_delete_modal', private_metadata: meta({ orgId: org.id }) },
      { confirm_name: { confirm_name_input: textValue(typed) } },
    );

  it('a wrong name is refused on the confirmation field and the org still exists', async () => {
    const h = harness();
    const { org, olga } = await orgWithTeam(h);
    const res = await submitDelete(h, olga, org, org.name.toUpperCase());
    expect(res).toEqual({
      response_action: 'errors',
      errors: { confirm_name: 'The name you typed does not match the organization name, so nothing was deleted.' },
    });
    expect((await h.domain.orgs.findBySlug(org.slug)).id).toBe(org.id);
    expect(await countRows(h, 'memberships', `org_id = '${org.id}'`)).toBe(3);
  });

  it('the right name deletes the org and its memberships; the modal confirms and the audit log is kept', async () => {
    const h = harness();
    const { org, olga } = await orgWithTeam(h);
    const res = await submitDelete(h, olga, org, org.name);
    expect(res.response_action).toBe('update');
    expect(viewText(res.view)).toBe(`*${org.name}* was deleted. Its audit log is kept.`);
    await expect(h.domain.orgs.findBySlug(org.slug)).rejects.toMatchObject({ code: 'org_not_found' });
    expect(await countRows(h, 'memberships', `org_id = '${org.id}'`)).toBe(0);
    expect(await auditCount(h, org, 'org.deleted')).toBe(1);
    expect(await auditCount(h, org, 'org.created')).toBe(1);
  });

  it('an admin who types the right name is still refused, and the org stays', async () => {
    const h = harness();
    const { org, adam } = await orgWithTeam(h);
    const res = await submitDelete(h, adam, org, org.name);
    expect(res).toEqual({
      response_action: 'errors',
      errors: { confirm_name: expect.stringMatching(/^In .+, you don't have permission to delete the organization \(owners only\)\.$/) },
    });
    expect((await h.domain.orgs.findBySlug(org.slug)).id).toBe(org.id);
  });
});

describe('any modal', () => {
  it('an unexpected failure still answers: the modal turns into an error with a reference', async () => {
    const h = harness();
    // Not registered in the fake Slack: users.info fails while resolving who submitted.
    const ghost = { id: `U${uniq().toUpperCase()}`, name: 'ghost' };
    const res = await h.submit(ghost, { callback_id: 'org_create_modal' }, { org_name: { org_name_input: textValue(`Ghost ${uniq()}`) } });
    expect(res.response_action).toBe('update');
    expect(viewText(res.view)).toMatch(/^:x: Something went wrong on our side \(ref [0-9a-f]{8}\)\. Please try again in a moment\.$/);
  });
});
