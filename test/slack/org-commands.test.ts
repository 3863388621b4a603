import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import {
  SIGNING_SECRET,
  addMember,
  countRows,
  formsShown,
  modalFrom,
  modalText,
  orgOwnedBy,
  postSlackEvent,
  sign,
  slashCommand,
  slackPerson,
  uniq,
  useSlackRoster,
  type SlackHarness,
  type SlackUser,
} from '../helpers/slack.js';

// `/org` commands about organizations themselves: help, create, list, switch, rename, delete, join, audit,
// plus what every command shares (length limit, request signatures, an answer even when something breaks).

const harness = useSlackRoster();

/** Every text of a reply: its fallback text and its blocks. */
function allText(reply: Record<string, any>): string {
  return [reply.text ?? '', JSON.stringify(reply.blocks ?? [])].join('\n');
}

async function orgBySlug(h: SlackHarness, slug: string) {
  return h.domain.orgs.findBySlug(slug).catch(() => undefined);
}

describe('/org help', () => {
  it('help lists every subcommand, ephemeral', async () => {
    const h = harness();
    const p = await slackPerson(h, 'Hana');
    const reply = await h.command(p.user, 'help');
    expect(reply.response_type).toBe('ephemeral');
    for (const sub of [
      'create',
      'list',
      'switch',
      'members',
      'invites',
      'invite',
      'role',
      'remove',
      'billing-emails',
      'transfer',
      'leave',
      'rename',
      'delete',
      'settings',
      'profile',
      'join',
      'audit',
    ]) {
      expect(reply.text).toContain(`/org ${sub}`);
    }
  });

  it('`/org` with no text shows the help text', async () => {
    const h = harness();
    const p = await slackPerson(h, 'Hana');
    const reply = await h.command(p.user, '   ');
    expect(reply.response_type).toBe('ephemeral');
    expect(reply.text).toMatch(/^\*Roster\* — manage your organization from Slack\./);
  });

  it('an unknown subcommand is named back and followed by the help text', async () => {
    const h = harness();
    const p = await slackPerson(h, 'Hugo');
    const reply = await h.command(p.user, 'promote @ana');
    expect(reply.response_type).toBe('ephemeral');
    expect(reply.text).toMatch(/^I don't know `\/org promote`\./);
    expect(reply.text).toContain('/org role');
  });
});

describe('/org create', () => {
  it('create with a name makes the org, replies with its slug, and the creator is its owner with it active', async () => {
    const h = harness();
    const ana = await slackPerson(h, 'Ana');
    const name = `Widget Works ${uniq()}`;
    const slug = name.toLowerCase().replace(/ /g, '-');
    const reply = await h.command(ana.user, `create ${name}`);
    expect(reply.response_type).toBe('ephemeral');
    expect(reply.text).toContain(`Created *${name}* (\`${slug}\`)`);
    const org = await h.domain.orgs.findBySlug(slug);
    expect(org.primaryOwnerId).toBe(ana.account.id);
    const active = await h.domain.orgs.active(ana.actor);
    expect([active.org.id, active.role]).toEqual([org.id, 'owner']);
  });

  it('a name that is too long is refused with the limit, and no org is created', async () => {
    const h = harness();
    const ana = await slackPerson(h, 'Ana');
    const before = await countRows(h, 'orgs', 'true');
    const reply = await h.command(ana.user, `create ${'Very long name '.repeat(8)}`);
    expect(reply.response_type).toBe('ephemeral');
    expect(reply.text).toMatch(/^:warning: .*at most 80 characters/);
    expect(await countRows(h, 'orgs', 'true')).toBe(before);
    expect(await h.domain.orgs.listMine(ana.actor)).toEqual([]);
  });

  it('create without a name opens the create modal instead of replying', async () => {
    const h = harness();
    const ana = await slackPerson(h, 'Ana');
    const view = await modalFrom(h, ana.user, 'create');
    expect(view.callback_id).toBe('org_create_modal');
    expect(view.blocks.map((b: any) => b.block_id)).toEqual(['org_name', 'org_slug']);
    expect(await h.domain.orgs.listMine(ana.actor)).toEqual([]);
  });
});

describe('/org list', () => {
  it('lists my orgs with my role in each and marks the active one', async () => {
    const h = harness();
    const ana = await slackPerson(h, 'Ana');
    const first = await orgOwnedBy(h, ana, 'Alpha');
    const other = await slackPerson(h, 'Olga');
    const second = await orgOwnedBy(h, other, 'Beta');
    const [inv] = await h.domain.invites.create(other.actor, second.id, { emails: ana.email, role: 'admin' });
    if (!inv?.ok) throw new Error('invite failed');
    await h.domain.invites.accept(ana.actor, inv.invite.id);
    await h.domain.orgs.switchActive(ana.actor, first.slug);

    const reply = await h.command(ana.user, 'list');
    expect(reply.response_type).toBe('ephemeral');
    expect(reply.text).toBe('You belong to 2 organizations.');
    const lines: string[] = reply.blocks.find((b: any) => b.type === 'section').text.text.split('\n');
    expect(lines.find((l) => l.includes(first.slug))).toMatch(/^:large_green_circle: .* · Owner · active$/);
    expect(lines.find((l) => l.includes(second.slug))).toMatch(/^:white_circle: .* · Admin$/);
  });

  it('someone in no org is told how to create or join one', async () => {
    const h = harness();
    const zed = await slackPerson(h, 'Zed');
    const reply = await h.command(zed.user, 'list');
    expect(reply.response_type).toBe('ephemeral');
    expect(reply.text).toMatch(/not in any organization/);
    expect(reply.text).toContain('/org create');
    expect(reply.text).toContain('/org join');
  });
});

describe('/org switch', () => {
  it('switch by slug makes that org active', async () => {
    const h = harness();
    const ana = await slackPerson(h, 'Ana');
    const first = await orgOwnedBy(h, ana, 'Alpha');
    const second = await orgOwnedBy(h, ana, 'Beta');
    expect((await h.domain.orgs.active(ana.actor)).org.id).toBe(second.id);

    const reply = await h.command(ana.user, `switch ${first.slug}`);
    expect(reply.response_type).toBe('ephemeral');
    expect(reply.text).toBe(`Your active organization is now *${first.name}* (\`${first.slug}\`).`);
    expect((await h.domain.orgs.active(ana.actor)).org.id).toBe(first.id);
  });

  it('switching to an org I am not a member of is refused clearly and my active org stays', async () => {
    const h = harness();
    const ana = await slackPerson(h, 'Ana');
    const mine = await orgOwnedBy(h, ana, 'Mine');
    const olga = await slackPerson(h, 'Olga');
    const theirs = await orgOwnedBy(h, olga, 'Theirs');

    const reply = await h.command(ana.user, `switch ${theirs.slug}`);
    expect(reply.response_type).toBe('ephemeral');
    expect(reply.text).toBe(`:warning: You're not a member of an organization called "${theirs.slug}". Use \`/org list\` to see yours.`);
    expect((await h.domain.orgs.active(ana.actor)).org.id).toBe(mine.id);
    expect(await countRows(h, 'audit_events', `action = 'account.active_org_changed' and actor_id = '${ana.account.id}'`)).toBe(0);
  });

  it('switch with no slug opens a modal listing exactly my orgs, the active one preselected', async () => {
    const h = harness();
    const ana = await slackPerson(h, 'Ana');
    const first = await orgOwnedBy(h, ana, 'Alpha');
    const second = await orgOwnedBy(h, ana, 'Beta');
    const olga = await slackPerson(h, 'Olga');
    await orgOwnedBy(h, olga, 'Not Mine');

    const view = await modalFrom(h, ana.user, 'switch');
    expect(view.callback_id).toBe('org_switch_modal');
    const select = view.blocks[0].element;
    expect(select.options.map((o: any) => o.value).sort()).toEqual([first.id, second.id].sort());
    expect(select.initial_option.value).toBe(second.id);
  });

  it('switch with no slug and no orgs says how to create or join instead of opening an empty modal', async () => {
    const h = harness();
    const zed = await slackPerson(h, 'Zed');
    const mark = h.slack.calls.length;
    expect(await modalText(h, zed.user, 'switch')).toMatch(/not in any organization.*\/org create.*\/org join/);
    expect(formsShown(h, mark)).toEqual([]);
  });
});

describe('/org rename', () => {
  it('an owner renames the org with a name', async () => {
    const h = harness();
    const olga = await slackPerson(h, 'Olga');
    const org = await orgOwnedBy(h, olga);
    const reply = await h.command(olga.user, 'rename Acme Renamed');
    expect(reply.response_type).toBe('ephemeral');
    expect(reply.text).toBe(`Renamed *${org.name}* to *Acme Renamed*.`);
    expect((await h.domain.orgs.get(olga.actor, org.id)).name).toBe('Acme Renamed');
  });

  it('an owner running rename with no name gets the rename modal for the active org', async () => {
    const h = harness();
    const olga = await slackPerson(h, 'Olga');
    const org = await orgOwnedBy(h, olga);
    const view = await modalFrom(h, olga.user, 'rename');
    expect(view.callback_id).toBe('org_rename_modal');
    expect(JSON.parse(view.private_metadata)).toEqual({ orgId: org.id });
    expect(view.blocks[0].element.initial_value).toBe(org.name);
  });

  it('an admin cannot rename: told only owners can, and the name is unchanged', async () => {
    const h = harness();
    const olga = await slackPerson(h, 'Olga');
    const org = await orgOwnedBy(h, olga);
    const adam = await addMember(h, org, olga, 'admin', 'Adam');

    const withName = await h.command(adam.user, 'rename Hijacked');
    expect(withName.response_type).toBe('ephemeral');
    expect(withName.text).toMatch(/^:warning: .*rename the organization.*owners only/);

    const mark = h.slack.calls.length;
    expect(await modalText(h, adam.user, 'rename')).toBe(`:warning: Only owners can rename *${org.name}*. Your role is Admin.`);
    expect(formsShown(h, mark)).toEqual([]);

    expect((await h.domain.orgs.get(olga.actor, org.id)).name).toBe(org.name);
    expect(await countRows(h, 'audit_events', `org_id = '${org.id}' and action = 'org.renamed'`)).toBe(0);
  });
});

describe('/org delete', () => {
  it('an owner gets the delete modal asking to type the name', async () => {
    const h = harness();
    const olga = await slackPerson(h, 'Olga');
    const org = await orgOwnedBy(h, olga);
    const view = await modalFrom(h, olga.user, 'delete');
    expect(view.callback_id).toBe('org_delete_modal');
    expect(JSON.parse(view.private_metadata)).toEqual({ orgId: org.id });
    const confirm = view.blocks.find((b: any) => b.block_id === 'confirm_name');
    expect(confirm.label.text).toContain(org.name);
    // Opening the modal deletes nothing.
    expect(await orgBySlug(h, org.slug)).toBeDefined();
  });

  it('an admin cannot delete the org: told only owners can, no modal, org kept', async () => {
    const h = harness();
    const olga = await slackPerson(h, 'Olga');
    const org = await orgOwnedBy(h, olga);
    const adam = await addMember(h, org, olga, 'admin', 'Adam');
    const mark = h.slack.calls.length;
    expect(await modalText(h, adam.user, 'delete')).toBe(`:warning: Only owners can delete *${org.name}*. Your role is Admin.`);
    expect(formsShown(h, mark)).toEqual([]);
    expect(await orgBySlug(h, org.slug)).toBeDefined();
  });
});

describe('/org settings', () => {
  it('an owner gets the settings form with the current values preselected', async () => {
    const h = harness();
    const olga = await slackPerson(h, 'Olga');
    const org = await orgOwnedBy(h, olga);
    const field = (view: Record<string, any>, id: string) => view.blocks.find((b: any) => b.block_id === id).element;

    const fresh = await modalFrom(h, olga.user, 'settings');
    expect(fresh.callback_id).toBe('org_settings_modal');
    expect(JSON.parse(fresh.private_metadata)).toEqual({ orgId: org.id });
    expect(field(fresh, 'invite_expiry').initial_option.value).toBe('14d');
    expect(field(fresh, 'reminder_hours').initial_value).toBe('72, 24');
    expect(field(fresh, 'seat_limit').initial_value).toBeUndefined();

    await h.domain.orgs.updateSettings(olga.actor, org.id, { inviteExpiry: '30d', reminderHours: [48], seatLimit: 10 });
    const changed = await modalFrom(h, olga.user, 'settings');
    expect(field(changed, 'invite_expiry').initial_option.value).toBe('30d');
    expect(field(changed, 'reminder_hours').initial_value).toBe('48');
    expect(field(changed, 'seat_limit').initial_value).toBe('10');
  });

  it('an admin is told only owners can change settings, and gets no form', async () => {
    const h = harness();
    const olga = await slackPerson(h, 'Olga');
    const org = await orgOwnedBy(h, olga);
    const adam = await addMember(h, org, olga, 'admin', 'Adam');
    const mark = h.slack.calls.length;
    expect(await modalText(h, adam.user, 'settings')).toBe(`:warning: Only owners can change the settings of *${org.name}*. Your role is Admin.`);
    expect(formsShown(h, mark)).toEqual([]);
  });

  it('someone with no organization is told to create or join one', async () => {
    const h = harness();
    const zed = await slackPerson(h, 'Zed');
    const mark = h.slack.calls.length;
    expect(await modalText(h, zed.user, 'settings')).toMatch(/^:warning: You don't have an active organization yet\./);
    expect(formsShown(h, mark)).toEqual([]);
  });
});

describe('/org profile', () => {
  it('with no name it shows my display name and how to change it', async () => {
    const h = harness();
    const p = await slackPerson(h, 'Pia');
    const reply = await h.command(p.user, 'profile');
    expect(reply.response_type).toBe('ephemeral');
    expect(reply.text).toBe('Your display name is *Pia*. Change it with `/org profile <new name>`.');
  });

  it('with a name it renames me: members lists show the new name and the change is audited', async () => {
    const h = harness();
    const olga = await slackPerson(h, 'Olga');
    await orgOwnedBy(h, olga);
    const reply = await h.command(olga.user, 'profile Olga   Petrova');
    expect(reply.text).toBe('Your display name is now *Olga Petrova*.');
    expect((await h.domain.accounts.get(olga.account.id)).displayName).toBe('Olga Petrova');
    expect(await countRows(h, 'audit_events', `action = 'account.renamed' and target_id = '${olga.account.id}'`)).toBe(1);
    expect(JSON.stringify((await h.command(olga.user, 'members')).blocks)).toContain('*Olga Petrova*');
    expect((await h.command(olga.user, 'profile')).text).toBe('Your display name is *Olga Petrova*. Change it with `/org profile <new name>`.');
  });

  it('a name over 80 characters is refused with the limit, and my name is kept', async () => {
    const h = harness();
    const p = await slackPerson(h, 'Pia');
    const reply = await h.command(p.user, `profile ${'x'.repeat(81)}`);
    expect(reply.text).toBe(':warning: The display name can be at most 80 characters.');
    expect((await h.domain.accounts.get(p.account.id)).displayName).toBe('Pia');
    expect(await countRows(h, 'audit_events', `action = 'account.renamed' and target_id = '${p.account.id}'`)).toBe(0);
  });

  it('a name with Slack markup is stored as typed and shown escaped', async () => {
    const h = harness();
    const p = await slackPerson(h, 'Pia');
    const reply = await h.command(p.user, 'profile &lt;!channel&gt; Pia');
    expect(reply.text).toBe('Your display name is now *&lt;!channel&gt; Pia*.');
    expect((await h.domain.accounts.get(p.account.id)).displayName).toBe('<!channel> Pia');
  });
});

describe('/org join', () => {
  it('asking to join by slug records a pending request and says the owner was asked', async () => {
    const h = harness();
    const olga = await slackPerson(h, 'Olga');
    const org = await orgOwnedBy(h, olga);
    const zed = await slackPerson(h, 'Zed');

    const reply = await h.command(zed.user, `join ${org.slug} I work on the mobile app`);
    expect(reply.response_type).toBe('ephemeral');
    expect(reply.text).toBe(`Asked to join *${org.name}*. The one person who can let you in has been asked; you'll get a message when one of them decides.`);
    const [req] = (
      await h.db.db.execute<{ status: string; message: string }>(
        sql.raw(`select status, message from join_requests where org_id = '${org.id}' and account_id = '${zed.account.id}'`),
      )
    ).rows;
    expect(req).toEqual({ status: 'pending', message: 'I work on the mobile app' });
    // Asking is not joining.
    expect(await countRows(h, 'memberships', `org_id = '${org.id}' and account_id = '${zed.account.id}'`)).toBe(0);
  });

  it('the message after the slug is kept as written, whatever separates it from the slug', async () => {
    const h = harness();
    const olga = await slackPerson(h, 'Olga');
    const org = await orgOwnedBy(h, olga);
    const zed = await slackPerson(h, 'Zed');
    await h.command(zed.user, `join ${org.slug.toUpperCase()}, hi, it's Zed from sales`);
    const [req] = (await h.db.db.execute<{ message: string }>(sql.raw(`select message from join_requests where org_id = '${org.id}'`))).rows;
    expect(req?.message).toBe("hi, it's Zed from sales");
  });

  it('asking twice is refused while the first request is pending', async () => {
    const h = harness();
    const olga = await slackPerson(h, 'Olga');
    const org = await orgOwnedBy(h, olga);
    const zed = await slackPerson(h, 'Zed');
    await h.command(zed.user, `join ${org.slug}`);

    const again = await h.command(zed.user, `join ${org.slug}`);
    expect(again.response_type).toBe('ephemeral');
    expect(again.text).toBe(':warning: You already asked to join this organization. An owner or admin will decide soon.');
    expect(await countRows(h, 'join_requests', `org_id = '${org.id}' and account_id = '${zed.account.id}'`)).toBe(1);
  });

  it('an unknown slug gets a clear message naming it, and nothing is recorded', async () => {
    const h = harness();
    const zed = await slackPerson(h, 'Zed');
    const slug = `no-such-org-${uniq()}`;
    const reply = await h.command(zed.user, `join ${slug}`);
    expect(reply.response_type).toBe('ephemeral');
    expect(reply.text).toBe(`:warning: No organization has the URL name "${slug}".`);
    expect(await countRows(h, 'join_requests', `account_id = '${zed.account.id}'`)).toBe(0);
  });

  it('join with no slug says how to use it', async () => {
    const h = harness();
    const zed = await slackPerson(h, 'Zed');
    const reply = await h.command(zed.user, 'join');
    expect(reply.text).toMatch(/^:warning: Say which organization: `\/org join acme-inc`/);
  });

  it('a member asking to join their own org is told they already belong', async () => {
    const h = harness();
    const olga = await slackPerson(h, 'Olga');
    const org = await orgOwnedBy(h, olga);
    const reply = await h.command(olga.user, `join ${org.slug}`);
    expect(reply.text).toBe(`:warning: You're already a member of ${org.name}.`);
    expect(await countRows(h, 'join_requests', `org_id = '${org.id}'`)).toBe(0);
  });
});

describe('/org audit', () => {
  it('an owner reads the audit log of the active org, newest first', async () => {
    const h = harness();
    const olga = await slackPerson(h, 'Olga');
    await orgOwnedBy(h, olga);
    await h.command(olga.user, 'rename Audited Org');

    const reply = await h.command(olga.user, 'audit');
    expect(reply.response_type).toBe('ephemeral');
    const text = allText(reply);
    expect(reply.blocks[0].text.text).toBe('Audit log · Audited Org');
    const lines: string[] = reply.blocks[1].text.text.split('\n');
    expect(lines[0]).toContain('*org.renamed*');
    expect(text).toContain('*org.created*');
    expect(text).toContain('*member.added*');
    expect(lines[0]).toContain(olga.email);
    expect(reply.text).toBe(`${lines.length} audit events`);
  });

  it('`/org audit invite.created 7d` shows only invites created in the last 7 days', async () => {
    const h = harness();
    const olga = await slackPerson(h, 'Olga');
    const org = await orgOwnedBy(h, olga);
    const [old] = await h.domain.invites.create(olga.actor, org.id, { emails: `old.${uniq()}@acme.test` });
    h.clock.advanceHours(24 * 8);
    const [recent] = await h.domain.invites.create(olga.actor, org.id, { emails: `new.${uniq()}@acme.test` });
    if (!old?.ok || !recent?.ok) throw new Error('invite failed');

    const reply = await h.command(olga.user, 'audit invite.created 7d');
    const text = allText(reply);
    expect(reply.text).toBe('1 audit event');
    expect(text).toContain(recent.invite.id.slice(0, 8));
    expect(text).not.toContain(old.invite.id.slice(0, 8));
    expect(text).not.toContain('org.created');

    // Without the age both invites are there.
    const all = allText(await h.command(olga.user, 'audit invite.created'));
    expect(all).toContain(old.invite.id.slice(0, 8));
    expect(all).toContain(recent.invite.id.slice(0, 8));
  });

  it('a filter matching nothing says so and suggests fewer filters', async () => {
    const h = harness();
    const olga = await slackPerson(h, 'Olga');
    await orgOwnedBy(h, olga);
    const reply = await h.command(olga.user, 'audit scim_token.created');
    expect(reply.text).toBe('No audit events match.');
    expect(allText(reply)).toContain('Try fewer filters');
  });

  it('an unrecognised audit argument is refused with the usage', async () => {
    const h = harness();
    const olga = await slackPerson(h, 'Olga');
    await orgOwnedBy(h, olga);
    const reply = await h.command(olga.user, 'audit yesterday');
    expect(reply.text).toMatch(/^:warning: I didn't understand "yesterday"\. Use `\/org audit \[action\] \[@user\] \[since\]`/);
  });

  it('`/org audit @user` shows only what that person did, a former member included', async () => {
    const h = harness();
    const olga = await slackPerson(h, 'Olga');
    const org = await orgOwnedBy(h, olga);
    const adam = await addMember(h, org, olga, 'admin', 'Adam');
    const [r] = await h.domain.invites.create(adam.actor, org.id, { emails: `by.adam.${uniq()}@acme.test` });
    if (!r?.ok) throw new Error('invite failed');
    await h.domain.members.leave(adam.actor, org.id);

    const reply = await h.command(olga.user, `audit <@${adam.user.id}|adam>`);
    const text = allText(reply);
    expect(text).toContain(r.invite.id.slice(0, 8));
    expect(text).toContain('*member.left*');
    expect(text).not.toContain('*org.created*');
    // Every line is one of Adam's own actions (the actor column shows his email).
    const lines: string[] = reply.blocks.filter((b: any) => b.type === 'section').flatMap((b: any) => b.text.text.split('\n'));
    expect(lines.length).toBeGreaterThanOrEqual(3);
    expect(lines.filter((l) => !l.includes(adam.email))).toEqual([]);
  });

  it('`/org audit @user` for someone with no account answers like for someone who did nothing here', async () => {
    const h = harness();
    const olga = await slackPerson(h, 'Olga');
    await orgOwnedBy(h, olga);
    const idle = await slackPerson(h, 'Ida'); // has an account, did nothing in this org
    await orgOwnedBy(h, idle, 'Elsewhere');
    const stranger = h.slack.addUser('Sten', `sten.${uniq()}@acme.test`); // no account at all

    const forIdle = await h.command(olga.user, `audit <@${idle.user.id}|ida>`);
    const forStranger = await h.command(olga.user, `audit <@${stranger.id}|sten>`);
    const forUnknown = await h.command(olga.user, 'audit <@U0GHOST00|ghost>');
    expect(forIdle.text).toBe('No audit events match.');
    expect(forStranger).toEqual(forIdle);
    expect(forUnknown).toEqual(forIdle);
    expect(await h.domain.accounts.findByEmail(`${stranger.email}`)).toBeUndefined();
  });

  it('a plain member filtering by @user is refused the same way, whoever they name', async () => {
    const h = harness();
    const olga = await slackPerson(h, 'Olga');
    const org = await orgOwnedBy(h, olga);
    const mia = await addMember(h, org, olga, 'member', 'Mia');
    const stranger = h.slack.addUser('Sten', `sten.${uniq()}@acme.test`);
    const a = await h.command(mia.user, `audit <@${olga.user.id}|olga>`);
    const b = await h.command(mia.user, `audit <@${stranger.id}|sten>`);
    expect(a.text).toMatch(/^:warning: In .+, you don't have permission to read the audit log \(owners and admins only\)\.$/);
    expect(b).toEqual(a);
  });

  it('a plain member cannot read the audit log', async () => {
    const h = harness();
    const olga = await slackPerson(h, 'Olga');
    const org = await orgOwnedBy(h, olga);
    const mia = await addMember(h, org, olga, 'member', 'Mia');
    const reply = await h.command(mia.user, 'audit');
    expect(reply.response_type).toBe('ephemeral');
    expect(reply.text).toMatch(/^:warning: In .+, you don't have permission to read the audit log \(owners and admins only\)\.$/);
    expect(reply.blocks).toBeUndefined();
  });
});

describe('every /org command', () => {
  it('a command over 4000 characters is refused as too long and nothing is done', async () => {
    const h = harness();
    const olga = await slackPerson(h, 'Olga');
    const org = await orgOwnedBy(h, olga);
    const emails = Array.from({ length: 200 }, (_, i) => `person${i}.${uniq()}@acme.test`).join(' ');
    expect(emails.length).toBeGreaterThan(4000);
    const reply = await h.command(olga.user, `invite ${emails}`);
    expect(reply.response_type).toBe('ephemeral');
    expect(reply.text).toMatch(/^:warning: That command is longer than 4000 characters\./);
    expect(reply.text).toContain('/org invite');
    expect(await countRows(h, 'invites', `org_id = '${org.id}'`)).toBe(0);
  });

  it('a command with a control character is refused with a message naming it, before anything runs; new lines and tabs are fine', async () => {
    const h = harness();
    const olga = await slackPerson(h, 'Olga');
    const org = await orgOwnedBy(h, olga);
    const before = await countRows(h, 'audit_events', `org_id = '${org.id}'`);
    for (const [text, shown] of [
      [`switch ${org.slug}\u0007`, 'U+0007'],
      ['create Acme\u0000 Inc', 'U+0000, NUL'],
      [`rename New\u001b[2J`, 'U+001B, escape'],
      ['join acme Hi\u0085there', 'U+0085'],
    ] as const) {
      const reply = await h.command(olga.user, text);
      expect(reply.response_type).toBe('ephemeral');
      expect(reply.text, text).toBe(`:warning: Your command contains a control character (${shown}). Remove it and try again.`);
    }
    expect(await countRows(h, 'audit_events', `org_id = '${org.id}'`)).toBe(before);
    const multi = await h.command(olga.user, `invite\tnew.${uniq()}@example.com\nother.${uniq()}@example.com`);
    expect(multi.text).toMatch(/2 of 2 invited/);
  });

  it('a command from a Slack user Slack cannot describe still gets an answer, with a reference', async () => {
    const h = harness();
    // Not registered in the fake Slack: users.info fails while resolving who is asking.
    const ghost: SlackUser = { id: `U${uniq().toUpperCase()}`, name: 'ghost' };
    const reply = await h.command(ghost, 'list');
    expect(reply.response_type).toBe('ephemeral');
    expect(reply.text).toMatch(/^:x: Something went wrong on our side \(ref [0-9a-f]{8}\)\. Please try again in a moment\.$/);
  });
});

describe('request signatures', () => {
  const rawPost = (h: SlackHarness, body: string, headers: Record<string, string>) => postSlackEvent(h.baseUrl, body, headers);
  const createForm = (user: SlackUser, name: string) => slashCommand(harness().slack, user, `create ${name}`);

  it('unsigned, wrong-secret and stale (over 5 minutes) requests get 401 and change nothing', async () => {
    const h = harness();
    const ana = await slackPerson(h, 'Ana');
    const mark = h.slack.calls.length;
    const attempts: { name: string; responseId: string; status: number }[] = [];

    const unsigned = createForm(ana.user, `Unsigned ${uniq()}`);
    attempts.push({ name: unsigned.body, responseId: unsigned.responseId, status: await rawPost(h, unsigned.body, {}) });

    const wrong = createForm(ana.user, `Wrong Secret ${uniq()}`);
    attempts.push({
      name: wrong.body,
      responseId: wrong.responseId,
      status: await rawPost(h, wrong.body, sign(wrong.body, undefined, `${SIGNING_SECRET}-not`)),
    });

    const stale = createForm(ana.user, `Stale ${uniq()}`);
    const sixMinutesAgo = Math.floor(Date.now() / 1000) - 6 * 60;
    attempts.push({ name: stale.body, responseId: stale.responseId, status: await rawPost(h, stale.body, sign(stale.body, sixMinutesAgo)) });

    expect(attempts.map((a) => a.status)).toEqual([401, 401, 401]);

    // A correctly signed request right after is served: the endpoint works, only the bad ones were refused.
    const ok = await h.command(ana.user, 'list');
    expect(ok.text).toMatch(/not in any organization/);

    expect(await h.domain.orgs.listMine(ana.actor)).toEqual([]);
    expect(h.slack.responses.filter((r) => attempts.some((a) => a.responseId === r.id))).toEqual([]);
    // No Slack API call was made for a refused request (none names its response_url or trigger_id;
    // the worker may meanwhile deliver other tests' notifications).
    expect(h.slack.calls.slice(mark).filter((c) => attempts.some((a) => JSON.stringify(c.args).includes(a.responseId)))).toEqual([]);
  });

  it('a correctly signed request with the same body is accepted (the check is the signature, not the body)', async () => {
    const h = harness();
    const ana = await slackPerson(h, 'Ana');
    const name = `Signed ${uniq()}`;
    const { body, responseId } = createForm(ana.user, name);
    expect(await rawPost(h, body, sign(body))).toBe(200);
    const reply = await h.slack.waitForResponse(responseId);
    expect(reply.text).toContain(`Created *${name}*`);
  });
});

describe('subcommand names are looked up safely', () => {
  it('`/org __proto__` and `/org constructor` get the help text, not an error', async () => {
    const h = harness();
    const u = h.slack.addUser('Proto', `proto.${Date.now()}@acme.test`);
    for (const text of ['__proto__', 'constructor', 'toString']) {
      const reply = await h.command(u, text);
      expect(reply.text).toMatch(/I don't know `\/org/);
      expect(reply.text).not.toMatch(/Something went wrong/);
    }
  });
});
