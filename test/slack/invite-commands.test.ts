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
  formsShown,
  modalFrom,
  modalText,
  orgWithTeam,
  slackPerson,
  uniq,
  useSlackRoster,
  type SlackHarness,
} from '../helpers/slack.js';

// `/org invite` and `/org invites`.

const harness = useSlackRoster({ OUTBOX_DIR: path.join(os.tmpdir(), `roster-test-outbox-${process.pid}`) });

type InviteRowLite = { email: string; role: Role; status: string; billing_emails: boolean };

/** The org's invites other than the ones `orgWithTeam()` used to add its members. */
async function newInvites(h: SlackHarness, org: OrgRow): Promise<InviteRowLite[]> {
  const r = await h.db.db.execute<InviteRowLite>(
    sql.raw(`select email, role, status, billing_emails from invites where org_id = '${org.id}' and status = 'pending' order by email`),
  );
  return r.rows;
}

describe('/org invite with emails', () => {
  it('an admin invites several emails with a role and sees one line per email: ✓ for each invite, a warning for an invalid email and for an existing member', async () => {
    const h = harness();
    const { org, adam, mia } = await orgWithTeam(h);
    const a = `ana.${uniq()}@example.com`;
    const b = `bo.${uniq()}@example.com`;
    const reply = await ask(h, adam, `invite ${a}, ${b} not-an-email@nodot ${mia.email} developer`);
    const [head, ...lines] = reply.text.split('\n');
    expect(head).toBe(`*${org.name}*: 2 of 4 invited.`);
    expect(lines).toEqual([
      `:white_check_mark: ${a} invited as Developer`,
      `:white_check_mark: ${b} invited as Developer`,
      ':warning: not-an-email@nodot: That is not a valid email address.',
      `:warning: ${mia.email}: Already a member of this organization.`,
    ]);
    expect(await newInvites(h, org)).toEqual([a, b].sort().map((email) => ({ email, role: 'developer', status: 'pending', billing_emails: false })));
  });

  it('an email with a pending invite gets a warning pointing to resend, and no second invite', async () => {
    const h = harness();
    const { org, olga } = await orgWithTeam(h);
    const a = `ana.${uniq()}@example.com`;
    await ask(h, olga, `invite ${a}`);
    const again = await ask(h, olga, `invite ${a.toUpperCase()}`);
    expect(again.text).toBe(
      `*${org.name}*: 0 of 1 invited.\n:warning: ${a.toUpperCase()}: An invite is already pending for that email. Resend or update it instead.`,
    );
    expect((await newInvites(h, org)).map((i) => i.email)).toEqual([a]);
  });

  it('Slack-escaped emails and the billing-emails flag are understood; the role defaults to member', async () => {
    const h = harness();
    const { org, olga } = await orgWithTeam(h);
    const a = `ana.${uniq()}@example.com`;
    const reply = await ask(h, olga, `invite <mailto:${a}|${a}> billing-emails`);
    expect(reply.text).toBe(`*${org.name}*: 1 of 1 invited.\n:white_check_mark: ${a} invited as Member`);
    expect(await newInvites(h, org)).toEqual([{ email: a, role: 'member', status: 'pending', billing_emails: true }]);
  });

  it('an owner may invite as owner', async () => {
    const h = harness();
    const { org, olga } = await orgWithTeam(h);
    const a = `co.owner.${uniq()}@example.com`;
    const reply = await ask(h, olga, `invite ${a} owner`);
    expect(reply.text).toContain(`:white_check_mark: ${a} invited as Owner`);
    expect((await newInvites(h, org)).map((i) => i.role)).toEqual(['owner']);
  });

  it('an admin cannot invite as owner: one clear refusal, no invite', async () => {
    const h = harness();
    const { org, adam } = await orgWithTeam(h);
    const reply = await ask(h, adam, `invite boss.${uniq()}@example.com other.${uniq()}@example.com owner`);
    expect(reply.text).toBe(':warning: Only owners can make someone an owner.');
    expect(await newInvites(h, org)).toEqual([]);
    expect(await auditCount(h, org, 'invite.created')).toBe(2); // only the two from orgWithTeam()
  });

  it('a plain member cannot invite anyone', async () => {
    const h = harness();
    const { org, mia } = await orgWithTeam(h);
    const reply = await ask(h, mia, `invite friend.${uniq()}@example.com`);
    expect(reply.text).toMatch(/^:warning: In .+, you don't have permission to invite people \(owners and admins only\)\.$/);
    expect(await newInvites(h, org)).toEqual([]);
  });

  it('a word that is neither an email nor a role is refused with the usage, and nobody is invited', async () => {
    const h = harness();
    const { org, olga } = await orgWithTeam(h);
    const reply = await ask(h, olga, `invite ana.${uniq()}@example.com as admn`);
    expect(reply.text).toMatch(/^:warning: I didn't understand "as admn"\. Use `\/org invite ana@example\.com bo@example\.com admin`\. Roles: /);
    expect(await newInvites(h, org)).toEqual([]);
  });

  it('someone with no organization is told to create or join one first', async () => {
    const h = harness();
    const zed = await slackPerson(h, 'Zed');
    const reply = await ask(h, zed, `invite friend.${uniq()}@example.com`);
    expect(reply.text).toMatch(/^:warning: You don't have an active organization yet\. Create one with `\/org create`/);
  });
});

describe('/org invite with no arguments', () => {
  const roleOptions = (view: Record<string, any>) => view.blocks.find((b: any) => b.block_id === 'role').element.options.map((o: any) => o.value);

  it('an owner gets the invite modal whose role select includes owner', async () => {
    const h = harness();
    const { org, olga } = await orgWithTeam(h);
    const view = await modalFrom(h, olga.user, 'invite');
    expect(view.callback_id).toBe('org_invite_modal');
    expect(JSON.parse(view.private_metadata)).toEqual({ orgId: org.id });
    expect(view.blocks.map((b: any) => b.block_id).filter(Boolean)).toEqual(expect.arrayContaining(['invite_emails', 'role', 'billing']));
    expect(roleOptions(view)).toEqual(['owner', 'admin', 'billing', 'developer', 'member']);
    expect(view.blocks.find((b: any) => b.block_id === 'role').element.initial_option.value).toBe('member');
  });

  it("an admin's invite modal does not offer owner", async () => {
    const h = harness();
    const { adam } = await orgWithTeam(h);
    const view = await modalFrom(h, adam.user, 'invite');
    expect(roleOptions(view)).toEqual(['admin', 'billing', 'developer', 'member']);
  });

  it('a plain member gets a refusal naming their role, not a form', async () => {
    const h = harness();
    const { org, mia } = await orgWithTeam(h);
    const mark = h.slack.calls.length;
    expect(await modalText(h, mia.user, 'invite')).toBe(`:warning: Only owners and admins can invite people to ${org.name}. Your role is Member.`);
    expect(formsShown(h, mark)).toEqual([]);
  });
});

describe('refusals that quote the org name', () => {
  it('are escaped exactly once: "Smith & <Sons>" shows as Smith &amp; &lt;Sons&gt;, never double-escaped', async () => {
    const h = harness();
    const olga = await slackPerson(h, 'Olga');
    const org = await h.domain.orgs.create(olga.actor, { name: `Smith & <Sons> ${uniq()}` });
    const mia = await addMember(h, org, olga, 'member', 'Mia');
    const shown = org.name.replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;');

    const mark = h.slack.calls.length;
    expect(await modalText(h, mia.user, 'invite')).toBe(`:warning: Only owners and admins can invite people to ${shown}. Your role is Member.`);
    const list = await ask(h, mia, 'invites');
    expect(list.text).toBe(`:warning: Only owners and admins can see the pending invites of ${shown}. Your role is Member.`);
    expect(await modalText(h, mia.user, 'role')).toBe(`:warning: Only owners and admins can change roles in ${shown}. Your role is Member.`);
    expect(formsShown(h, mark)).toEqual([]);
  });

  it('what the person typed is escaped too when it is quoted back', async () => {
    const h = harness();
    const { org, olga } = await orgWithTeam(h);
    const reply = await ask(h, olga, `invite ana.${uniq()}@example.com &lt;!channel&gt;`);
    expect(reply.text).toMatch(/^:warning: I didn't understand "&lt;!channel&gt;"\./);
    expect(reply.text).not.toContain('<!channel>');
    expect(await newInvites(h, org)).toEqual([]);
  });
});

describe('/org invites', () => {
  it('an admin sees the pending invites with their role and who sent them', async () => {
    const h = harness();
    const { org, olga, adam } = await orgWithTeam(h);
    const a = `ana.${uniq()}@example.com`;
    const b = `bo.${uniq()}@example.com`;
    await h.domain.invites.create(olga.actor, org.id, { emails: a, role: 'admin' });
    await h.domain.invites.create(olga.actor, org.id, { emails: b, role: 'billing', billingEmails: true });

    const reply = await ask(h, adam, 'invites');
    expect(reply.text).toBe(`${org.name} has 2 pending invites.`);
    const rows: string[] = reply.blocks.filter((r: any) => r.type === 'section').map((r: any) => r.text.text);
    expect(rows).toHaveLength(2);
    expect(rows.find((r) => r.startsWith(`*${a}*`))).toMatch(/^\*[^*]+\* · Admin\nexpires .* · invited by Olga$/);
    expect(rows.find((r) => r.startsWith(`*${b}*`))).toMatch(/^\*[^*]+\* · Billing · billing emails\n/);
  });

  it('with no pending invites it says so and how to invite', async () => {
    const h = harness();
    const { org, olga } = await orgWithTeam(h);
    const reply = await ask(h, olga, 'invites');
    expect(reply.text).toBe(`${org.name} has 0 pending invites.`);
    expect(reply.blocks[0].text.text).toBe(`*${org.name}* has no pending invites. Invite someone with \`/org invite\`.`);
  });

  it('a plain member cannot list pending invites', async () => {
    const h = harness();
    const { org, olga, mia } = await orgWithTeam(h);
    await h.domain.invites.create(olga.actor, org.id, { emails: `secret.${uniq()}@example.com` });
    const reply = await ask(h, mia, 'invites');
    expect(reply.text).toBe(`:warning: Only owners and admins can see the pending invites of ${org.name}. Your role is Member.`);
    expect(JSON.stringify(reply)).not.toContain('secret.');
  });
});
