import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { countRows, orgOwnedBy, slackPerson, uniq, useSlackRoster, type SlackCall, type SlackHarness } from '../helpers/slack.js';
import { waitFor } from '../helpers/wait.js';

// Invite emails are written to a scratch folder (removed afterwards), not the project's .data/outbox.
const outbox = mkdtempSync(path.join(os.tmpdir(), 'roster-outbox-'));
afterAll(() => rmSync(outbox, { recursive: true, force: true }));
const harness = useSlackRoster({ OUTBOX_DIR: outbox });

async function orgOf(h: SlackHarness, ownerName = 'Ana') {
  const owner = await slackPerson(h, ownerName);
  const org = await orgOwnedBy(h, owner);
  return { owner, org };
}

const buttonsOf = (blocks: any[] = []) =>
  blocks.flatMap((b) => (b.type === 'actions' ? b.elements : b.accessory ? [b.accessory] : [])).filter((e: any) => e.type === 'button');
const blockText = (blocks: any[] = []) => JSON.stringify(blocks);

/** The invite DM posted to a Slack user (delivered by the outbox worker after the command). */
function inviteDmTo(h: SlackHarness, userId: string, inviteId: string, since = 0): Promise<SlackCall> {
  return h.slack.waitForCall('chat.postMessage', since, (c) => c.args.channel === userId && blockText(c.args.blocks).includes(inviteId));
}

describe('invite DM', () => {
  it('a workspace member invited by email gets a DM with org, inviter, role, expiry, Accept/Decline and the invite link', async () => {
    const h = harness();
    const { owner, org } = await orgOf(h, 'Ana');
    const email = `xavi.${uniq()}@acme.test`;
    const xavi = h.slack.addUser('Xavi', email);
    const mark = h.slack.calls.length;

    const reply = await h.command(owner.user, `invite ${email} admin`);
    expect(reply.text).toMatch(/1 of 1 invited/);
    const [invite] = (await h.domain.invites.listPending(owner.actor, org.id)).filter((i) => i.email === email);
    expect(invite).toMatchObject({ role: 'admin', state: 'pending' });

    const dm = await inviteDmTo(h, xavi.id, invite!.id, mark);
    const blocks = dm.args.blocks as any[];
    const text = blockText(blocks);
    expect(text).toContain(`Ana invited you to join *${org.name}* as *Admin*`);
    expect(text).toContain(`This invite expires <!date^${Math.floor(invite!.expiresAt!.getTime() / 1000)}^`);
    expect(dm.args.text).toMatch(new RegExp(`Ana invited you to join ${org.name} as Admin`));
    expect(buttonsOf(blocks).map((b: any) => [b.text.text, b.action_id, b.value])).toEqual([
      ['Accept', 'invite_accept', invite!.id],
      ['Decline', 'invite_decline', invite!.id],
    ]);
    const link = /<(https:\/\/roster\.test\/invites\/([A-Za-z0-9_-]{43}))\|Open in browser>/.exec(text);
    expect(link).not.toBeNull();
    // The link in the DM is the invite's live link.
    expect((await h.domain.invites.lookupByToken(link![2]!)).invite.id).toBe(invite!.id);
    expect(h.slack.of('users.lookupByEmail', mark).some((c) => c.args.email === email)).toBe(true);
  });

  it('an email that is not in the workspace gets no DM, but the invite exists', async () => {
    const h = harness();
    const { owner, org } = await orgOf(h);
    const email = `outside.${uniq()}@elsewhere.test`;
    const mark = h.slack.calls.length;

    const reply = await h.command(owner.user, `invite ${email}`);
    expect(reply.text).toMatch(/1 of 1 invited/);
    const [invite] = (await h.domain.invites.listPending(owner.actor, org.id)).filter((i) => i.email === email);
    expect(invite).toMatchObject({ role: 'member', state: 'pending' });

    // The Slack side of the invite notification settles as skipped once Slack says it doesn't know the email.
    const dedupeKey = `invite.sent:${invite!.id}:${invite!.tokenNonce}`;
    const settled = await waitFor(async () => {
      const ns = await h.domain.outbox.find({ dedupeKey });
      const slack = ns.find((n) => n.channel === 'slack');
      return slack && slack.status !== 'pending' && slack.status !== 'sending' ? ns : undefined;
    }, 'the Slack invite notification to settle');
    expect(settled.find((n) => n.channel === 'slack')!.status).toBe('skipped');
    expect(settled.some((n) => n.channel === 'email')).toBe(true);
    expect(h.slack.of('users.lookupByEmail', mark).some((c) => c.args.email === email)).toBe(true);
    expect(h.slack.of('chat.postMessage', mark).filter((c) => blockText(c.args.blocks).includes(invite!.id))).toEqual([]);
  });

  it('Accept by the invitee adds them with the invite’s role and updates the DM in place (no buttons left)', async () => {
    const h = harness();
    const { owner, org } = await orgOf(h);
    const email = `dev.${uniq()}@acme.test`;
    const dev = h.slack.addUser('Devi', email);
    const [r] = await h.domain.invites.create(owner.actor, org.id, { emails: email, role: 'developer' });
    if (!r?.ok) throw new Error('invite failed');

    const { status, responseId } = await h.action(dev, { action_id: 'invite_accept', value: r.invite.id, type: 'button' });
    expect(status).toBe(200);
    const reply = await h.slack.waitForResponse(responseId);
    expect(reply.replace_original).toBe(true);
    expect(reply.text).toMatch(new RegExp(`You joined ${org.name} as Developer`));
    expect(buttonsOf(reply.blocks)).toEqual([]);

    const account = await h.domain.accounts.findByEmail(email);
    const m = await h.domain.members.find(owner.actor, org.id, { accountId: account!.id });
    expect(m.role).toBe('developer');
    expect((await h.domain.invites.get(owner.actor, r.invite.id)).state).toBe('accepted');
  });

  it('the same Accept clicked by another Slack user is refused (ephemeral, message kept) and nobody joins', async () => {
    const h = harness();
    const { owner, org } = await orgOf(h);
    const email = `target.${uniq()}@acme.test`;
    const target = h.slack.addUser('Tara', email);
    const mallory = await slackPerson(h, 'Mallory');
    const [r] = await h.domain.invites.create(owner.actor, org.id, { emails: email, role: 'admin' });
    if (!r?.ok) throw new Error('invite failed');

    // The payload carries the invite id only; the clicking user's own email is what counts.
    const { responseId } = await h.action(mallory.user, { action_id: 'invite_accept', value: r.invite.id, type: 'button' });
    const reply = await h.slack.waitForResponse(responseId);
    expect(reply.response_type).toBe('ephemeral');
    expect(reply.replace_original).toBe(false);
    // Mallory is told it isn't hers, never whom it was sent to.
    expect(reply.text).toMatch(/^:warning: This invite isn't addressed to you/);
    expect(reply.text).not.toContain(email);
    expect(reply.text).not.toContain(email.split('@')[0]!);

    expect(await countRows(h, 'memberships', `org_id = '${org.id}'`)).toBe(1);
    expect((await h.domain.invites.get(owner.actor, r.invite.id)).state).toBe('pending');
    expect(await countRows(h, 'audit_events', `target_id = '${r.invite.id}' and action = 'invite.accepted'`)).toBe(0);
    expect((await h.domain.orgs.listMine(mallory.actor)).map((x) => x.org.id)).not.toContain(org.id);

    // The invite is still good for the person it was sent to.
    const ok = await h.action(target, { action_id: 'invite_accept', value: r.invite.id, type: 'button' });
    expect((await h.slack.waitForResponse(ok.responseId)).replace_original).toBe(true);
    expect(await countRows(h, 'memberships', `org_id = '${org.id}'`)).toBe(2);
  });

  it('Decline by another Slack user is refused too, and the invite stays pending', async () => {
    const h = harness();
    const { owner, org } = await orgOf(h);
    const email = `keep.${uniq()}@acme.test`;
    h.slack.addUser('Kim', email);
    const mallory = await slackPerson(h, 'Mal');
    const [r] = await h.domain.invites.create(owner.actor, org.id, { emails: email });
    if (!r?.ok) throw new Error('invite failed');

    const { responseId } = await h.action(mallory.user, { action_id: 'invite_decline', value: r.invite.id, type: 'button' });
    const reply = await h.slack.waitForResponse(responseId);
    expect(reply.replace_original).toBe(false);
    expect(reply.text).toMatch(/isn't addressed to you/);
    expect(reply.text).not.toContain(email);
    expect((await h.domain.invites.get(owner.actor, r.invite.id)).state).toBe('pending');
    expect(await countRows(h, 'audit_events', `target_id = '${r.invite.id}' and action = 'invite.declined'`)).toBe(0);
  });

  it('Decline by the invitee marks the invite declined and replaces the DM', async () => {
    const h = harness();
    const { owner, org } = await orgOf(h);
    const email = `nope.${uniq()}@acme.test`;
    const nope = h.slack.addUser('Noa', email);
    const [r] = await h.domain.invites.create(owner.actor, org.id, { emails: email });
    if (!r?.ok) throw new Error('invite failed');

    const { responseId } = await h.action(nope, { action_id: 'invite_decline', value: r.invite.id, type: 'button' });
    const reply = await h.slack.waitForResponse(responseId);
    expect(reply.replace_original).toBe(true);
    expect(reply.text).toMatch(new RegExp(`You declined the invite to ${org.name}`));
    expect(buttonsOf(reply.blocks)).toEqual([]);
    expect((await h.domain.invites.get(owner.actor, r.invite.id)).state).toBe('declined');
    expect(await countRows(h, 'memberships', `org_id = '${org.id}'`)).toBe(1);
  });

  it('clicking Accept again on a used invite is refused without touching the membership', async () => {
    const h = harness();
    const { owner, org } = await orgOf(h);
    const email = `twice.${uniq()}@acme.test`;
    const twice = h.slack.addUser('Tom', email);
    const [r] = await h.domain.invites.create(owner.actor, org.id, { emails: email, role: 'billing' });
    if (!r?.ok) throw new Error('invite failed');
    await h.slack.waitForResponse((await h.action(twice, { action_id: 'invite_accept', value: r.invite.id, type: 'button' })).responseId);

    const { responseId } = await h.action(twice, { action_id: 'invite_accept', value: r.invite.id, type: 'button' });
    const reply = await h.slack.waitForResponse(responseId);
    expect(reply.replace_original).toBe(false);
    expect(reply.text).toMatch(/already been used/);
    expect(await countRows(h, 'memberships', `org_id = '${org.id}'`)).toBe(2);
    // Accepted from Slack by the person whose confirmed email is the invite's, not by link.
    expect(await countRows(h, 'audit_events', `target_id = '${r.invite.id}' and action = 'invite.accepted' and after->>'acceptedBy' = 'account'`)).toBe(1);
  });

  it('a refusal quoting a user-controlled org name is escaped: an org called <https://evil|Click> hitting its seat limit on Accept shows no live link', async () => {
    const h = harness();
    const owner = await slackPerson(h, 'Ana');
    const org = await h.domain.orgs.create(owner.actor, { name: '<https://evil|Click>' });
    const email = `seat.${uniq()}@acme.test`;
    const invitee = h.slack.addUser('Sid', email);
    const [r, other] = await h.domain.invites.create(owner.actor, org.id, { emails: [email, `other.${uniq()}@acme.test`] });
    if (!r?.ok || !other?.ok) throw new Error('invite failed');
    // Owner + the other pending invite already use both seats.
    await h.domain.orgs.updateSettings(owner.actor, org.id, { seatLimit: 2 });

    const { responseId } = await h.action(invitee, { action_id: 'invite_accept', value: r.invite.id, type: 'button' });
    const reply = await h.slack.waitForResponse(responseId);
    expect(reply).toMatchObject({ response_type: 'ephemeral', replace_original: false });
    expect(reply.text).toMatch(/^:warning: .*seats/);
    expect(reply.text).toContain('&lt;https://evil|Click&gt;');
    expect(reply.text).not.toContain('<https://evil');
    expect(reply.text).not.toContain('&amp;lt;');
    expect(await countRows(h, 'memberships', `org_id = '${org.id}'`)).toBe(1);
    expect((await h.domain.invites.get(owner.actor, r.invite.id)).state).toBe('pending');
    expect(await countRows(h, 'audit_events', `target_id = '${r.invite.id}' and action = 'invite.accepted'`)).toBe(0);
  });

  // Moves the server's clock 15 days ahead: later invites in this file are created after that, so they are unaffected.
  it('Accept of an invite past its 14-day expiry is refused with a clear message; Decline still works', async () => {
    const h = harness();
    const { owner, org } = await orgOf(h);
    const email = `late.${uniq()}@acme.test`;
    const late = h.slack.addUser('Lee', email);
    const email2 = `late2.${uniq()}@acme.test`;
    const late2 = h.slack.addUser('Lou', email2);
    const results = await h.domain.invites.create(owner.actor, org.id, { emails: [email, email2], role: 'admin' });
    const [r, r2] = results;
    if (!r?.ok || !r2?.ok) throw new Error('invite failed');

    h.clock.advanceHours(24 * 15);
    const { responseId } = await h.action(late, { action_id: 'invite_accept', value: r.invite.id, type: 'button' });
    const reply = await h.slack.waitForResponse(responseId);
    expect(reply.response_type).toBe('ephemeral');
    expect(reply.replace_original).toBe(false);
    expect(reply.text).toMatch(/:warning: This invite has expired\. Ask the organization to send a new one\./);
    expect(await countRows(h, 'memberships', `org_id = '${org.id}'`)).toBe(1);
    expect(await countRows(h, 'audit_events', `target_id = '${r.invite.id}' and action = 'invite.accepted'`)).toBe(0);

    const d = await h.action(late2, { action_id: 'invite_decline', value: r2.invite.id, type: 'button' });
    const declined = await h.slack.waitForResponse(d.responseId);
    expect(declined.replace_original).toBe(true);
    expect((await h.domain.invites.get(owner.actor, r2.invite.id)).state).toBe('declined');
  });
});
