import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { accountActor } from '../../src/domain/context.js';
import type { OrgRow } from '../../src/db/schema.js';
import {
  clickModal,
  countRows,
  formsShown,
  orgWithTeam,
  slackPerson,
  uniq,
  useSlackRoster,
  viewText,
  type SlackCall,
  type SlackHarness,
  type SlackPerson,
} from '../helpers/slack.js';
import { waitFor } from '../helpers/wait.js';

// Invite emails are written to a scratch folder (removed afterwards), not the project's .data/outbox.
const outbox = mkdtempSync(path.join(os.tmpdir(), 'roster-outbox-'));
afterAll(() => rmSync(outbox, { recursive: true, force: true }));
const harness = useSlackRoster({ OUTBOX_DIR: outbox });

/** An org with an owner, an admin and a member (all in Slack), plus an admin who is not in this workspace. */
async function team(h: SlackHarness) {
  const { org, olga: owner, adam: admin, mia: member } = await orgWithTeam(h);
  const offSlackEmail = `nora.${uniq()}@elsewhere.test`;
  const offSlack = await h.domain.accounts.findOrCreateByEmail(offSlackEmail, 'Nora');
  const [r] = await h.domain.invites.create(owner.actor, org.id, { emails: offSlackEmail, role: 'admin' });
  if (!r?.ok) throw new Error('invite failed');
  await h.domain.invites.accept(accountActor(offSlack.id, 'web'), r.invite.id);
  return { org, owner, admin, member, offSlack };
}

const isJoinDm = (requestId: string) => (c: SlackCall) => JSON.stringify(c.args.blocks ?? []).includes(`"join:${requestId}"`);
const buttonsOf = (blocks: any[] = []) => blocks.flatMap((b) => (b.type === 'actions' ? b.elements : [])).filter((e: any) => e.type === 'button');

/**
 * `/org join <slug>` as an outsider; resolves once every approver notification is settled (so each
 * DM posted is also remembered for later updates).
 */
async function requestToJoin(h: SlackHarness, org: OrgRow, requester: SlackPerson, message = '') {
  const mark = h.slack.calls.length;
  const reply = await h.command(requester.user, `join ${org.slug}${message ? ` ${message}` : ''}`);
  expect(reply.text).toMatch(new RegExp(`Asked to join \\*${org.name}\\*`));
  const req = await findRequest(h, org, requester);
  await waitFor(async () => {
    const rows = (await h.domain.outbox.find({ kind: 'join_request.created' })).filter((n) => n.dedupeKey.startsWith(`join_request.created:${req.id}:`));
    return rows.length > 0 && rows.every((n) => n.status === 'sent' || n.status === 'skipped') && rows;
  }, 'join request DMs');
  return { req, mark, dms: h.slack.of('chat.postMessage', mark).filter(isJoinDm(req.id)) };
}

async function findRequest(h: SlackHarness, org: OrgRow, requester: SlackPerson) {
  const r = await h.db.db.execute<{ id: string }>(
    sql`select id from join_requests where org_id = ${org.id} and account_id = ${requester.account.id} order by created_at desc limit 1`,
  );
  const id = r.rows[0]!.id;
  return h.domain.joinRequests.get(requester.actor, id);
}

const roleState = (requestId: string, role: string) => ({
  state: { values: { [`join:${requestId}`]: { join_role: { type: 'static_select', selected_option: { value: role } } } } },
});

describe('join requests from Slack', () => {
  it('owners and admins in the workspace get a DM with a role select and Approve/Deny; members do not', async () => {
    const h = harness();
    const { org, owner, admin, member } = await team(h);
    const zed = await slackPerson(h, 'Zed');

    const { req, dms } = await requestToJoin(h, org, zed, 'I am on the platform team');
    expect(req.status).toBe('pending');
    expect(dms.map((c) => c.args.channel).sort()).toEqual([owner.user.id, admin.user.id].sort());
    expect(dms.some((c) => c.args.channel === member.user.id)).toBe(false);

    for (const dm of dms) {
      const text = JSON.stringify(dm.args.blocks);
      expect(text).toContain(`*Zed* (${zed.email}) asks to join *${org.name}*`);
      expect(text).toContain('I am on the platform team');
      const actions = (dm.args.blocks as any[]).find((b) => b.block_id === `join:${req.id}`);
      const [select, approve, deny] = actions.elements;
      expect(select).toMatchObject({ type: 'static_select', action_id: 'join_role', initial_option: { value: 'member' } });
      expect(select.options.map((o: any) => o.value)).not.toContain('owner');
      expect([approve.action_id, approve.value, deny.action_id, deny.value]).toEqual(['join_approve', req.id, 'join_deny', req.id]);
    }
    // Each DM is remembered so it can be updated once someone decides.
    const refs = await h.domain.messageRefs.find('join_request', req.id);
    expect(refs.map((r) => r.channel).sort()).toEqual([owner.user.id, admin.user.id].map((u) => `D${u.slice(1)}`).sort());
  });

  it('Approve with a role chosen: the requester joins with it, every admin DM is updated in place, and the requester is told', async () => {
    const h = harness();
    const { org, admin, owner } = await team(h);
    const zed = await slackPerson(h, 'Zed');
    const { req } = await requestToJoin(h, org, zed);
    const refs = await h.domain.messageRefs.find('join_request', req.id);
    expect(refs).toHaveLength(2);
    const mark = h.slack.calls.length;

    const ref = refs.find((r) => r.channel === `D${admin.user.id.slice(1)}`)!;
    await h.action(
      admin.user,
      { action_id: 'join_approve', value: req.id, type: 'button', block_id: `join:${req.id}` },
      {
        ...roleState(req.id, 'developer'),
        container: { type: 'message', message_ts: ref.ts, channel_id: ref.channel },
        channel: { id: ref.channel },
      },
    );

    const updates = await h.slack.waitFor(() => {
      const u = h.slack.of('chat.update', mark);
      return u.length >= refs.length && u;
    }, 'chat.update of every admin DM');
    expect(updates.map((u) => `${u.args.channel}/${u.args.ts}`).sort()).toEqual(refs.map((r) => `${r.channel}/${r.ts}`).sort());
    for (const u of updates) {
      expect(u.args.text).toBe(`Adam approved Zed's request to join ${org.name} as Developer.`);
      expect(buttonsOf(u.args.blocks)).toEqual([]);
    }
    const told = await h.slack.waitForCall('chat.postMessage', mark, (c) => c.args.channel === zed.user.id);
    expect(told.args.text).toMatch(new RegExp(`Your request to join \\*${org.name}\\* was approved\\. You're in as Developer`));

    const m = await h.domain.members.find(owner.actor, org.id, { accountId: zed.account.id });
    expect(m).toMatchObject({ role: 'developer', source: 'join_request' });
    expect((await h.domain.joinRequests.get(owner.actor, req.id)).status).toBe('approved');
  });

  it('Approve vs Deny at the same moment: exactly one decision takes effect and the other admin is told it was already decided', async () => {
    const h = harness();
    const { org, admin, owner } = await team(h);
    const zed = await slackPerson(h, 'Zed');
    const { req } = await requestToJoin(h, org, zed);

    const [approve, deny] = await Promise.all([
      h.action(admin.user, { action_id: 'join_approve', value: req.id, type: 'button' }, roleState(req.id, 'developer')),
      h.submit(
        owner.user,
        { callback_id: 'join_deny_modal', private_metadata: JSON.stringify({ requestId: req.id }) },
        {
          reason: { reason_input: { type: 'plain_text_input', value: 'Not now' } },
        },
      ),
    ]);

    const after = await waitFor(async () => {
      const r = await h.domain.joinRequests.get(owner.actor, req.id);
      return r.status !== 'pending' && r;
    }, 'a decision');
    const members = await countRows(h, 'memberships', `org_id = '${org.id}' and account_id = '${zed.account.id}'`);
    expect(await countRows(h, 'audit_events', `target_id = '${req.id}' and action in ('join_request.approved', 'join_request.denied')`)).toBe(1);
    if (after.status === 'approved') {
      expect(members).toBe(1);
      expect(deny).toEqual({ response_action: 'errors', errors: { reason: 'That request was already approved.' } });
    } else {
      expect(after.status).toBe('denied');
      expect(members).toBe(0);
      expect(deny).toEqual({});
      const lost = await h.slack.waitForResponse(approve.responseId);
      expect(lost).toMatchObject({ response_type: 'ephemeral', replace_original: false });
      expect(lost.text).toMatch(/already denied/);
    }
  });

  it('whoever decides second is told it was already decided, in either order', async () => {
    const h = harness();
    const { org, admin, owner } = await team(h);
    const zed = await slackPerson(h, 'Zed');
    const yan = await slackPerson(h, 'Yan');
    const { req: first } = await requestToJoin(h, org, zed);
    const { req: second } = await requestToJoin(h, org, yan);
    const denyForm = (id: string) => ({ callback_id: 'join_deny_modal', private_metadata: JSON.stringify({ requestId: id }) });
    const reason = { reason: { reason_input: { type: 'plain_text_input', value: 'No' } } };

    // Denied first, then an Approve click arrives.
    expect(await h.submit(owner.user, denyForm(first.id), reason)).toEqual({});
    const { responseId } = await h.action(admin.user, { action_id: 'join_approve', value: first.id, type: 'button' }, roleState(first.id, 'member'));
    const lost = await h.slack.waitForResponse(responseId);
    expect(lost).toMatchObject({ response_type: 'ephemeral', replace_original: false, text: ':warning: That request was already denied.' });
    expect(await countRows(h, 'memberships', `org_id = '${org.id}' and account_id = '${zed.account.id}'`)).toBe(0);

    // Approved first, then a Deny form is submitted: the form shows why on its field.
    await h.domain.joinRequests.approve(admin.actor, second.id, 'member');
    expect(await h.submit(owner.user, denyForm(second.id), reason)).toEqual({
      response_action: 'errors',
      errors: { reason: 'That request was already approved.' },
    });
    expect((await h.domain.joinRequests.get(owner.actor, second.id)).status).toBe('approved');
    expect(await countRows(h, 'memberships', `org_id = '${org.id}' and account_id = '${yan.account.id}'`)).toBe(1);
  });

  it('two admins approving at once with different roles: one membership, with the winner’s role; the other is told', async () => {
    const h = harness();
    const { org, admin, owner } = await team(h);
    const zed = await slackPerson(h, 'Zed');
    const { req } = await requestToJoin(h, org, zed);

    const [a, b] = await Promise.all([
      h.action(admin.user, { action_id: 'join_approve', value: req.id, type: 'button' }, roleState(req.id, 'developer')),
      h.action(owner.user, { action_id: 'join_approve', value: req.id, type: 'button' }, roleState(req.id, 'billing')),
    ]);
    // Only the loser gets a reply on its response_url.
    const loser = await h.slack.waitFor(() => h.slack.responses.find((r) => r.id === a.responseId || r.id === b.responseId), 'the loser’s reply');
    expect(loser.body.text).toMatch(/already approved/);
    expect(loser.body.replace_original).toBe(false);
    const winnerRole = loser.id === a.responseId ? 'billing' : 'developer';

    const m = await h.domain.members.find(owner.actor, org.id, { accountId: zed.account.id });
    expect(m.role).toBe(winnerRole);
    expect((await h.domain.joinRequests.get(owner.actor, req.id)).role).toBe(winnerRole);
    expect(await countRows(h, 'memberships', `org_id = '${org.id}' and account_id = '${zed.account.id}'`)).toBe(1);
    expect(await countRows(h, 'audit_events', `target_id = '${req.id}' and action = 'join_request.approved'`)).toBe(1);
  });

  it('a member who gets the message forwarded cannot approve: refused, and nothing changes', async () => {
    const h = harness();
    const { org, member, owner } = await team(h);
    const zed = await slackPerson(h, 'Zed');
    const { req } = await requestToJoin(h, org, zed);
    const mark = h.slack.calls.length;

    const { responseId } = await h.action(member.user, { action_id: 'join_approve', value: req.id, type: 'button' }, roleState(req.id, 'admin'));
    const reply = await h.slack.waitForResponse(responseId);
    expect(reply).toMatchObject({ response_type: 'ephemeral', replace_original: false });
    expect(reply.text).toMatch(/:warning: In .+, you don't have permission to invite people/);

    expect((await h.domain.joinRequests.get(owner.actor, req.id)).status).toBe('pending');
    expect(await countRows(h, 'memberships', `org_id = '${org.id}' and account_id = '${zed.account.id}'`)).toBe(0);
    expect(await countRows(h, 'audit_events', `target_id = '${req.id}' and action like 'join_request.%' and action <> 'join_request.created'`)).toBe(0);
    expect(h.slack.of('chat.update', mark)).toEqual([]);
  });

  it('an admin cannot approve someone as owner by editing the role in the payload', async () => {
    const h = harness();
    const { org, admin, owner } = await team(h);
    const zed = await slackPerson(h, 'Zed');
    const { req } = await requestToJoin(h, org, zed);

    const { responseId } = await h.action(admin.user, { action_id: 'join_approve', value: req.id, type: 'button' }, roleState(req.id, 'owner'));
    const reply = await h.slack.waitForResponse(responseId);
    expect(reply.text).toMatch(/Only owners can make someone an owner/);
    expect((await h.domain.joinRequests.get(owner.actor, req.id)).status).toBe('pending');
    expect(await countRows(h, 'memberships', `org_id = '${org.id}' and account_id = '${zed.account.id}'`)).toBe(0);
  });

  it('Deny opens a reason form; submitting it denies, updates the admin DMs and tells the requester the reason', async () => {
    const h = harness();
    const { org, admin, owner } = await team(h);
    const zed = await slackPerson(h, 'Zed');
    const { req } = await requestToJoin(h, org, zed);
    const refs = await h.domain.messageRefs.find('join_request', req.id);
    const mark = h.slack.calls.length;

    const view = await clickModal(h, admin.user, { action_id: 'join_deny', value: req.id, type: 'button' });
    expect(view.callback_id).toBe('join_deny_modal');
    expect(JSON.parse(view.private_metadata)).toEqual({ requestId: req.id });
    expect(JSON.stringify(view.blocks)).toContain("Deny *Zed*'s request to join?");
    // Opening the form decides nothing.
    expect((await h.domain.joinRequests.get(owner.actor, req.id)).status).toBe('pending');

    const res = await h.submit(
      admin.user,
      { callback_id: view.callback_id, private_metadata: view.private_metadata },
      {
        reason: { reason_input: { type: 'plain_text_input', value: 'We only take staff accounts' } },
      },
    );
    expect(res).toEqual({});
    const decided = await h.domain.joinRequests.get(owner.actor, req.id);
    expect(decided).toMatchObject({ status: 'denied', reason: 'We only take staff accounts', decidedById: admin.account.id });
    expect(await countRows(h, 'memberships', `org_id = '${org.id}' and account_id = '${zed.account.id}'`)).toBe(0);

    const updates = await h.slack.waitFor(() => {
      const u = h.slack.of('chat.update', mark);
      return u.length >= refs.length && u;
    }, 'chat.update of every admin DM');
    for (const u of updates) expect(u.args.text).toBe(`Adam denied Zed's request to join ${org.name}.`);
    const told = await h.slack.waitForCall('chat.postMessage', mark, (c) => c.args.channel === zed.user.id);
    expect(told.args.text).toMatch(/was declined\. Reason: We only take staff accounts/);
  });

  it('Deny on a request someone already approved says so and opens no form', async () => {
    const h = harness();
    const { org, admin, owner } = await team(h);
    const zed = await slackPerson(h, 'Zed');
    const { req } = await requestToJoin(h, org, zed);
    await h.domain.joinRequests.approve(owner.actor, req.id, 'member');
    const mark = h.slack.calls.length;
    const responsesBefore = h.slack.responses.length;

    const view = await clickModal(h, admin.user, { action_id: 'join_deny', value: req.id, type: 'button' });
    expect(view.callback_id).toBe('org_info_modal');
    expect(viewText(view)).toBe('That request was already approved.');
    expect(formsShown(h, mark)).toEqual([]);
    // The answer is the modal alone: nothing replaced the admin's message through the response_url.
    expect(h.slack.responses.length).toBe(responsesBefore);
    expect((await h.domain.joinRequests.get(owner.actor, req.id)).status).toBe('approved');
  });

  it('a member cannot open the deny form either', async () => {
    const h = harness();
    const { org, member, owner } = await team(h);
    const zed = await slackPerson(h, 'Zed');
    const { req } = await requestToJoin(h, org, zed);
    const mark = h.slack.calls.length;

    const view = await clickModal(h, member.user, { action_id: 'join_deny', value: req.id, type: 'button' });
    expect(view.callback_id).toBe('org_info_modal');
    expect(viewText(view)).toMatch(/:warning: In .+, you don't have permission/);
    expect(formsShown(h, mark)).toEqual([]);
    expect((await h.domain.joinRequests.get(owner.actor, req.id)).status).toBe('pending');
  });
});
