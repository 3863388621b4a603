import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { webApi } from '@slack/bolt';
import { and, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { notifications, type NotificationRow } from '../../src/db/schema.js';
import { createEmailChannel } from '../../src/delivery/email-channel.js';
import { createMailer, SMTP_SEND_DEADLINE_MS, type Mailer } from '../../src/delivery/email.js';
import { backoffMs, MAX_ATTEMPTS, type NotificationContent } from '../../src/domain/notifications.js';
import { deliverDueNotifications, type Channels, type DeliveryChannel } from '../../src/jobs/deliver-notifications.js';
import { createLogger } from '../../src/logger.js';
import { createSlackChannel, SLACK_REQUEST_TIMEOUT_MS } from '../../src/slack/notifications.js';
import { useWorld, type World } from '../helpers/domain.js';
import { FakeSlack } from '../helpers/slack.js';
import { TestSmtp, type ReceivedMail } from '../helpers/smtp.js';

const PUBLIC_URL = 'https://roster.test';
const FROM = 'Roster <roster@roster.test>';
const log = createLogger('silent');
const world = useWorld();
const smtp = new TestSmtp();
let mailer: Mailer;

beforeAll(async () => {
  await smtp.start();
  mailer = createMailer({ smtpUrl: smtp.url, from: FROM, outboxDir: await mkdtemp(path.join(os.tmpdir(), 'roster-unused-')), log });
});
afterAll(async () => {
  mailer?.close();
  await smtp.stop();
});

const email = () => createEmailChannel(mailer, PUBLIC_URL);
const deliver = (w: World, channels: Channels = { email: email() }) => deliverDueNotifications(w.domain, channels, log);

const linkPattern = new RegExp(`${PUBLIC_URL.replace(/[.]/g, '\\.')}/invites/([A-Za-z0-9_-]{43})(?![A-Za-z0-9_-])`, 'g');
function linksIn(s: string): string[] {
  return [...s.matchAll(linkPattern)].map((m) => m[1]!);
}

/** The same date as the email states it (day, month, year, hour and minute, UTC). */
function dateWords(d: Date): string[] {
  const [, day, mon, year, time] = d.toUTCString().match(/^\w+, (\d\d) (\w+) (\d{4}) (\d\d:\d\d)/)!;
  return [`${day} ${mon} ${year}`, `${time} UTC`];
}

const inviteOne = (w: World, opts: { role?: 'member' | 'developer' | 'admin'; orgName?: string } = {}) =>
  w.pendingInvite(opts.orgName ?? 'Globex', opts.role ?? 'developer');

async function rowOf(w: World, dedupeKey: string, channel = 'email'): Promise<NotificationRow> {
  const [row] = await w.db.db
    .select()
    .from(notifications)
    .where(and(eq(notifications.dedupeKey, dedupeKey), eq(notifications.channel, channel)));
  if (!row) throw new Error(`no ${channel} notification ${dedupeKey}`);
  return row;
}

const sentKey = (invite: { id: string; tokenNonce: string }) => `invite.sent:${invite.id}:${invite.tokenNonce}`;

/** A stand-in for the Slack channel (Slack's API cannot be reached from tests): records, or fails while down. */
function recordingSlack(reachable: (c: NotificationContent) => boolean) {
  const sent: NotificationContent[] = [];
  const channel: DeliveryChannel & { down: boolean; sent: NotificationContent[] } = {
    down: false,
    sent,
    async deliver(c) {
      if (channel.down) throw new Error('slack_unavailable');
      if (!reachable(c)) return 'skipped';
      sent.push(c);
      return 'sent';
    },
  };
  return channel;
}

describe('invite emails over real SMTP', () => {
  it('an invite email arrives with text and HTML parts naming the org, inviter, role, expiry and the invite link', async () => {
    const w = world();
    const { org, owner, invitee, invite } = await inviteOne(w, { role: 'developer' });
    const stats = await deliver(w);
    expect(stats.sent).toBeGreaterThanOrEqual(1);
    const [mail] = smtp.to(invitee.account.email!);
    expect(mail).toBeDefined();
    expect(smtp.to(invitee.account.email!)).toHaveLength(1);
    expect(mail!.from).toEqual({ name: 'Roster', address: 'roster@roster.test' });
    expect(mail!.envelopeFrom).toBe('roster@roster.test');
    expect(mail!.to).toBe(invitee.account.email);
    expect(mail!.subject).toBe(`${owner.account.displayName} invited you to join ${org.name} on Roster`);
    expect(mail!.raw).toMatch(/multipart\/alternative/i);
    for (const part of [mail!.text, mail!.html]) {
      expect(part).toContain(org.name);
      expect(part).toContain(owner.account.displayName);
      expect(part).toContain('Developer');
      for (const words of dateWords(invite.expiresAt!)) expect(part).toContain(words);
      expect(linksIn(part)).toHaveLength(part === mail!.html ? 2 : 1); // HTML: the button and the written-out link
    }
    expect(mail!.html).toMatch(new RegExp(`<a href="${PUBLIC_URL}/invites/[A-Za-z0-9_-]{43}"`));
    // Stable per notification (from its dedupe key), so a rare duplicate is recognizable as the same message.
    expect(mail!.messageId).toBe(`<${sentKey(invite).replace(/[^A-Za-z0-9.:-]/g, '-')}@roster.test>`);
    const row = await rowOf(w, sentKey(invite));
    expect(row.status).toBe('sent');
    expect(row.attempts).toBe(1);
    expect(row.deliveredAt).not.toBeNull();
  });

  it("the mailed link's token is the invite's: the invite page finds it pending, and accepting with it adds the invitee", async () => {
    const w = world();
    const { org, owner, invitee, invite } = await inviteOne(w, { role: 'developer' });
    await deliver(w);
    const [mail] = smtp.to(invitee.account.email!);
    const [token] = linksIn(mail!.text);
    expect(token).toHaveLength(43);
    expect(linksIn(mail!.html)).toEqual([token, token]);
    const found = await w.domain.invites.lookupByToken(token!);
    expect(found).toMatchObject({
      state: 'pending',
      invite: { id: invite.id, email: invitee.account.email },
      org: { id: org.id, name: org.name },
      invitedByName: owner.account.displayName,
    });
    await w.domain.invites.acceptByToken(token!);
    expect(await w.count('memberships', `org_id = '${org.id}' and account_id = '${invitee.account.id}' and role = 'developer'`)).toBe(1);
  });

  it('each notification is mailed once: running delivery again and again sends nothing more', async () => {
    const w = world();
    const { invitee } = await inviteOne(w);
    await deliver(w);
    for (let i = 0; i < 3; i++) {
      w.clock.advanceHours(1);
      const again = await deliver(w);
      expect(again.sent).toBe(0);
    }
    expect(smtp.to(invitee.account.email!)).toHaveLength(1);
  });

  it('a resend before delivery supersedes the first email: it is skipped, and only the new link is mailed', async () => {
    const w = world();
    const { owner, invitee, invite, token: oldToken } = await inviteOne(w);
    w.clock.advanceHours(1);
    const { invite: resent, token: newToken } = await w.domain.invites.resend(owner.actor, invite.id);
    await deliver(w);
    const mails = smtp.to(invitee.account.email!);
    expect(mails).toHaveLength(1);
    expect(linksIn(mails[0]!.text)).toEqual([newToken]);
    expect(mails[0]!.html).not.toContain(oldToken);
    expect((await rowOf(w, sentKey(invite))).status).toBe('skipped');
    expect((await rowOf(w, sentKey(resent))).status).toBe('sent');
    await expect(w.domain.invites.lookupByToken(oldToken)).rejects.toMatchObject({ code: 'invite_not_found' });
    expect((await w.domain.invites.lookupByToken(newToken)).state).toBe('pending');
  });

  it("a revoked invite's pending email is skipped, never sent", async () => {
    const w = world();
    const { owner, invitee, invite } = await inviteOne(w);
    await w.domain.invites.revoke(owner.actor, invite.id);
    const stats = await deliver(w);
    expect(stats.skipped).toBeGreaterThanOrEqual(1);
    expect(smtp.to(invitee.account.email!)).toHaveLength(0);
    const row = await rowOf(w, sentKey(invite));
    expect(row.status).toBe('skipped');
    expect(row.attempts).toBe(1);
  });

  it("an invite's email still waiting when the invite expires is skipped, not sent with a dead link", async () => {
    const w = world();
    const { invitee, invite } = await inviteOne(w);
    w.clock.set(invite.expiresAt!);
    await deliver(w);
    expect(smtp.to(invitee.account.email!)).toHaveLength(0);
    expect((await rowOf(w, sentKey(invite))).status).toBe('skipped');
  });

  it("a deleted org's waiting emails are never sent, even one a worker had already claimed", async () => {
    const w = world();
    const waiting = await inviteOne(w);
    const inFlight = await inviteOne(w);
    // A worker claims everything due (inFlight's email among it), then dies.
    const claimed = await w.domain.outbox.claimDue(1000, 120_000);
    expect(claimed.map((n) => n.dedupeKey)).toContain(sentKey(inFlight.invite));
    await w.db.db
      .update(notifications)
      .set({ status: 'pending', lockedUntil: null })
      .where(eq(notifications.dedupeKey, sentKey(waiting.invite)));
    await w.domain.orgs.delete(waiting.owner.actor, waiting.org.id, waiting.org.name);
    await w.domain.orgs.delete(inFlight.owner.actor, inFlight.org.id, inFlight.org.name);
    w.clock.advance(120_000);
    await deliver(w);
    expect(smtp.to(waiting.invitee.account.email!)).toHaveLength(0);
    expect(smtp.to(inFlight.invitee.account.email!)).toHaveLength(0);
    expect(await w.count('notifications', `dedupe_key = '${sentKey(waiting.invite)}'`)).toBe(0);
    expect((await rowOf(w, sentKey(inFlight.invite))).status).toBe('skipped');
  });

  it('a reminder email says it is a reminder and carries the current link', async () => {
    const w = world();
    const { org, invitee, invite, token } = await inviteOne(w);
    await deliver(w);
    w.clock.set(new Date(invite.expiresAt!.getTime() - 24 * 3_600_000));
    await w.domain.invites.remindDue();
    await deliver(w);
    const mails = smtp.to(invitee.account.email!);
    expect(mails).toHaveLength(2);
    const reminder = mails[1]!;
    expect(reminder.subject).toMatch(/^Reminder: your invite to /);
    expect(reminder.subject).toContain(org.name);
    expect(reminder.text).toMatch(/^Reminder: /);
    expect(linksIn(reminder.text)).toEqual([token]);
    for (const words of dateWords(invite.expiresAt!)) expect(reminder.text).toContain(words);
    expect(reminder.messageId).not.toBe(mails[0]!.messageId);
  });
});

describe('delivery when SMTP is down', () => {
  it('SMTP refusing connections: the email stays pending with its attempt, error and a later retry; after SMTP is back it is delivered exactly once', async () => {
    const w = world();
    await smtp.down();
    try {
      const { invitee, invite } = await inviteOne(w);
      const stats = await deliver(w);
      expect(stats.failed).toBeGreaterThanOrEqual(1);
      let row = await rowOf(w, sentKey(invite));
      expect(row).toMatchObject({ status: 'pending', attempts: 1, lockedUntil: null, deliveredAt: null });
      expect(row.lastError).toMatch(/ECONNREFUSED|connect/i);
      expect(row.nextAttemptAt.getTime()).toBe(w.clock.now().getTime() + 30_000);
      // Not retried before its time, even when the job runs again.
      w.clock.advance(29_999);
      await deliver(w);
      expect((await rowOf(w, sentKey(invite))).attempts).toBe(1);

      await smtp.up();
      w.clock.advance(1);
      await deliver(w);
      row = await rowOf(w, sentKey(invite));
      expect(row).toMatchObject({ status: 'sent', attempts: 2, lastError: null });
      w.clock.advanceHours(2);
      await deliver(w);
      expect(smtp.to(invitee.account.email!)).toHaveLength(1);
      expect(linksIn(smtp.to(invitee.account.email!)[0]!.text)).toHaveLength(1);
    } finally {
      await smtp.up();
    }
  });

  it('SMTP rejecting messages (451) for a while: nothing is lost, and the email is delivered once it accepts again', async () => {
    const w = world();
    smtp.rejecting = true;
    try {
      const { invitee, invite } = await inviteOne(w);
      const refusedBefore = smtp.refused;
      await deliver(w);
      expect(smtp.refused).toBeGreaterThan(refusedBefore);
      w.clock.advance(30_000);
      await deliver(w);
      const row = await rowOf(w, sentKey(invite));
      expect(row).toMatchObject({ status: 'pending', attempts: 2 });
      expect(row.lastError).toMatch(/451/);
      expect(row.nextAttemptAt.getTime()).toBe(w.clock.now().getTime() + 60_000);
      expect(smtp.to(invitee.account.email!)).toHaveLength(0);

      smtp.rejecting = false;
      w.clock.advance(60_000);
      await deliver(w);
      await deliver(w);
      expect(smtp.to(invitee.account.email!)).toHaveLength(1);
      expect((await rowOf(w, sentKey(invite))).status).toBe('sent');
    } finally {
      smtp.rejecting = false;
    }
  });

  it('SMTP down for 45 minutes while the job runs every minute: the email is delivered exactly once when SMTP is back', async () => {
    const w = world();
    await smtp.down();
    let invitee: Awaited<ReturnType<typeof inviteOne>>['invitee'];
    let invite: Awaited<ReturnType<typeof inviteOne>>['invite'];
    try {
      ({ invitee, invite } = await inviteOne(w));
      for (let minute = 0; minute < 45; minute++) {
        await deliver(w);
        w.clock.advance(60_000);
      }
      const row = await rowOf(w, sentKey(invite));
      expect(row.status).toBe('pending');
      expect(row.attempts).toBeGreaterThan(1);
      expect(row.attempts).toBeLessThan(MAX_ATTEMPTS);
    } finally {
      await smtp.up();
    }
    for (let minute = 0; minute < 60; minute++) {
      await deliver(w);
      w.clock.advance(60_000);
    }
    expect(smtp.to(invitee.account.email!)).toHaveLength(1);
    expect((await rowOf(w, sentKey(invite))).status).toBe('sent');
  });

  it(`retries back off (30 s doubling) and after ${MAX_ATTEMPTS} failed attempts the notification is marked failed and never tried again`, async () => {
    const w = world();
    smtp.rejecting = true;
    try {
      const { invitee, invite } = await inviteOne(w);
      // 30 s, 1 min, 2 min, 4 min … capped at 1 h.
      const expectedWaits = Array.from({ length: MAX_ATTEMPTS }, (_, i) => Math.min(30_000 * 2 ** i, 3_600_000));
      expect(expectedWaits.slice(0, 4)).toEqual([30_000, 60_000, 120_000, 240_000]);
      for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
        await deliver(w);
        const row = await rowOf(w, sentKey(invite));
        expect(row.attempts).toBe(attempt);
        expect(row.status).toBe(attempt < MAX_ATTEMPTS ? 'pending' : 'failed');
        expect(row.nextAttemptAt.getTime() - w.clock.now().getTime()).toBe(expectedWaits[attempt - 1]);
        expect(backoffMs(attempt)).toBe(expectedWaits[attempt - 1]);
        if (attempt < MAX_ATTEMPTS) {
          // 1 ms early: not retried.
          w.clock.advance(expectedWaits[attempt - 1]! - 1);
          await deliver(w);
          expect((await rowOf(w, sentKey(invite))).attempts).toBe(attempt);
          w.clock.advance(1);
        }
      }
      smtp.rejecting = false;
      w.clock.advanceHours(48);
      await deliver(w);
      const row = await rowOf(w, sentKey(invite));
      expect(row).toMatchObject({ status: 'failed', attempts: MAX_ATTEMPTS });
      expect(row.lastError).toMatch(/451/);
      expect(smtp.to(invitee.account.email!)).toHaveLength(0);
    } finally {
      smtp.rejecting = false;
    }
  });

  it("a notification claimed by a worker that died is delivered once after the claim's lease runs out", async () => {
    const w = world();
    const { invitee, invite } = await inviteOne(w);
    // A worker claims everything due, then dies before sending or settling.
    const claimed = await w.domain.outbox.claimDue(1000, 120_000);
    expect(claimed.map((n) => n.dedupeKey)).toContain(sentKey(invite));
    await deliver(w);
    expect(smtp.to(invitee.account.email!)).toHaveLength(0);
    expect((await rowOf(w, sentKey(invite))).status).toBe('sending');
    w.clock.advance(120_000);
    await deliver(w);
    await deliver(w);
    expect(smtp.to(invitee.account.email!)).toHaveLength(1);
    expect(await rowOf(w, sentKey(invite))).toMatchObject({ status: 'sent', attempts: 2 });
  });
});

describe('every notification that goes by email renders', () => {
  async function onlyMailTo(address: string): Promise<ReceivedMail> {
    const mails = smtp.to(address);
    expect(mails).toHaveLength(1);
    return mails[0]!;
  }

  it('invite accepted → the inviter is told who accepted, in which org', async () => {
    const w = world();
    const { org, owner, invitee, invite } = await inviteOne(w);
    await w.domain.invites.accept(invitee.actor, invite.id);
    await deliver(w);
    const mail = await onlyMailTo(owner.account.email!);
    expect(mail.subject).toBe(`${invitee.account.email} accepted your invite to ${org.name}`);
    for (const part of [mail.text, mail.html]) expect(part).toContain(`${invitee.account.email} accepted your invite to ${org.name}.`);
    expect((await rowOf(w, `invite.accepted:${invite.id}`, 'slack_or_email')).status).toBe('sent');
  });

  it('invite declined → the inviter is told', async () => {
    const w = world();
    const { org, owner, invitee, invite } = await inviteOne(w);
    await w.domain.invites.decline(invitee.actor, invite.id);
    await deliver(w);
    const mail = await onlyMailTo(owner.account.email!);
    for (const part of [mail.text, mail.html]) expect(part).toContain(`${invitee.account.email} declined your invite to ${org.name}.`);
  });

  it('role changed → the member is told their new role', async () => {
    const w = world();
    const { org, owner } = await w.org('Roles');
    const m = await w.member(org, owner.actor, 'member');
    await deliver(w);
    const before = smtp.to(m.account.email!).length;
    await w.domain.members.changeRole(owner.actor, org.id, m.account.id, 'admin');
    await deliver(w);
    const mails = smtp.to(m.account.email!).slice(before);
    expect(mails).toHaveLength(1);
    expect(mails[0]!.subject).toBe(`Your role in ${org.name} changed`);
    for (const part of [mails[0]!.text, mails[0]!.html]) expect(part).toContain(`Your role in ${org.name} is now Admin.`);
  });

  it('removed → the former member is told they no longer have access', async () => {
    const w = world();
    const { org, owner } = await w.org('Removal');
    const m = await w.member(org, owner.actor, 'developer');
    await deliver(w);
    const before = smtp.to(m.account.email!).length;
    await w.domain.members.remove(owner.actor, org.id, m.account.id);
    await deliver(w);
    const mails = smtp.to(m.account.email!).slice(before);
    expect(mails).toHaveLength(1);
    expect(mails[0]!.subject).toBe(`You were removed from ${org.name}`);
    for (const part of [mails[0]!.text, mails[0]!.html]) expect(part).toContain(`You were removed from ${org.name} and no longer have access to it.`);
  });

  it('join request approved → the requester is told their role; denied → told with the reason', async () => {
    const w = world();
    const { org, owner } = await w.org('Joiners');
    const yes = await w.person('Yes');
    const no = await w.person('No');
    const r1 = await w.domain.joinRequests.request(yes.actor, org);
    const r2 = await w.domain.joinRequests.request(no.actor, org);
    await w.domain.joinRequests.approve(owner.actor, r1.request.id, 'developer');
    await w.domain.joinRequests.deny(owner.actor, r2.request.id, 'Contractors join through IT');
    await deliver(w);
    const approved = await onlyMailTo(yes.account.email!);
    expect(approved.subject).toBe(`Your request to join ${org.name} was approved`);
    expect(approved.text).toContain(`Your request to join ${org.name} was approved. You're in as Developer.`);
    expect(approved.html).toContain(`Your request to join ${org.name} was approved. You&#39;re in as Developer.`);
    const denied = await onlyMailTo(no.account.email!);
    expect(denied.subject).toBe(`Your request to join ${org.name} was declined`);
    for (const part of [denied.text, denied.html]) expect(part).toContain(`Your request to join ${org.name} was declined. Reason: Contractors join through IT`);
  });

  it('a join request to approvers goes by Slack only: no email to the owner, and the row is skipped without Slack', async () => {
    const w = world();
    const { org, owner } = await w.org('SlackOnly');
    const asker = await w.person('Asker');
    const { request } = await w.domain.joinRequests.request(asker.actor, org);
    await deliver(w);
    expect(smtp.to(owner.account.email!)).toHaveLength(0);
    expect((await rowOf(w, `join_request.created:${request.id}:${owner.account.id}`, 'slack')).status).toBe('skipped');
  });
});

describe('Slack DM or email', () => {
  it('a person Slack can reach gets a DM and no email; a person it cannot reach gets the email', async () => {
    const w = world();
    const { org, owner } = await w.org('Mixed');
    const inSlack = await w.member(org, owner.actor, 'member');
    const notInSlack = await w.member(org, owner.actor, 'member');
    await deliver(w, { email: email() });
    const before = { a: smtp.to(inSlack.account.email!).length, b: smtp.to(notInSlack.account.email!).length };
    const slack = recordingSlack((c) => c.recipient.accountId === inSlack.account.id);
    await w.domain.members.changeRole(owner.actor, org.id, inSlack.account.id, 'developer');
    await w.domain.members.changeRole(owner.actor, org.id, notInSlack.account.id, 'developer');
    await deliver(w, { email: email(), slack });
    expect(slack.sent.filter((c) => c.notification.kind === 'member.role_changed').map((c) => c.recipient.accountId)).toEqual([inSlack.account.id]);
    expect(smtp.to(inSlack.account.email!).length - before.a).toBe(0);
    expect(smtp.to(notInSlack.account.email!).length - before.b).toBe(1);
  });

  it('an invite goes both ways: a DM to a workspace member and the email with the link', async () => {
    const w = world();
    const { invitee, invite } = await inviteOne(w);
    const slack = recordingSlack((c) => c.recipient.email === invitee.account.email);
    await deliver(w, { email: email(), slack });
    expect(slack.sent.filter((c) => c.invite?.id === invite.id)).toHaveLength(1);
    expect(smtp.to(invitee.account.email!)).toHaveLength(1);
    expect((await rowOf(w, sentKey(invite), 'slack')).status).toBe('sent');
    expect((await rowOf(w, sentKey(invite), 'email')).status).toBe('sent');
  });

  it('Slack down for a while: the DM waits with backoff and is sent once when Slack is back, while the email goes at once', async () => {
    const w = world();
    const { invitee, invite } = await inviteOne(w);
    const slack = recordingSlack((c) => c.recipient.email === invitee.account.email);
    slack.down = true;
    await deliver(w, { email: email(), slack });
    expect(smtp.to(invitee.account.email!)).toHaveLength(1);
    const waiting = await rowOf(w, sentKey(invite), 'slack');
    expect(waiting).toMatchObject({ status: 'pending', attempts: 1, lastError: 'slack_unavailable' });
    w.clock.advance(30_000);
    await deliver(w, { email: email(), slack });
    expect((await rowOf(w, sentKey(invite), 'slack')).attempts).toBe(2);
    slack.down = false;
    w.clock.advance(60_000);
    await deliver(w, { email: email(), slack });
    w.clock.advanceHours(1);
    await deliver(w, { email: email(), slack });
    expect(slack.sent.filter((c) => c.invite?.id === invite.id)).toHaveLength(1);
    expect((await rowOf(w, sentKey(invite), 'slack')).status).toBe('sent');
    expect(smtp.to(invitee.account.email!)).toHaveLength(1);
  });

  it('a DM-or-email notification is delivered once in total even when Slack was down first', async () => {
    const w = world();
    const { org, owner, invitee, invite } = await inviteOne(w);
    await deliver(w);
    const slack = recordingSlack((c) => c.recipient.accountId === owner.account.id);
    slack.down = true;
    const ownerMailsBefore = smtp.to(owner.account.email!).length;
    await w.domain.invites.accept(invitee.actor, invite.id);
    await deliver(w, { email: email(), slack });
    expect((await rowOf(w, `invite.accepted:${invite.id}`, 'slack_or_email')).status).toBe('pending');
    slack.down = false;
    w.clock.advanceHours(1);
    await deliver(w, { email: email(), slack });
    await deliver(w, { email: email(), slack });
    const dms = slack.sent.filter((c) => c.notification.kind === 'invite.accepted' && c.orgName === org.name).length;
    const mails = smtp.to(owner.account.email!).length - ownerMailsBefore;
    expect(dms + mails).toBe(1);
    expect((await rowOf(w, `invite.accepted:${invite.id}`, 'slack_or_email')).status).toBe('sent');
  });
});

describe('claims and concurrent delivery loops', () => {
  const fakeSlack = new FakeSlack();
  beforeAll(() => fakeSlack.start());
  afterAll(() => fakeSlack.stop());

  /** The channels main.ts wires: the real Slack DM channel (pointed at the fake Slack) and email. */
  const realChannels = (w: World) => ({
    email: email(),
    slack: createSlackChannel(
      { domain: w.domain, clock: w.clock, log, publicUrl: PUBLIC_URL, kickOutbox: () => {} },
      new webApi.WebClient('xoxb-test', { slackApiUrl: fakeSlack.url }),
    ),
  });

  it('two delivery loops in one process send each notification exactly once, even when slow attempts make rows wait past their claim', async () => {
    const w = world();
    const channels = realChannels(w);
    const { org, owner } = await w.org('TwoLoops');
    const invitees: { email: string; slackId: string }[] = [];
    for (let i = 0; i < 8; i++) {
      const p = await w.person(`Loop${i}`);
      const u = fakeSlack.addUser(`Loop${i}`, p.account.email!);
      const [r] = await w.domain.invites.create(owner.actor, org.id, { emails: p.account.email!, role: 'member' });
      if (!r?.ok) throw new Error('invite failed');
      invitees.push({ email: p.account.email!, slackId: u.id });
    }
    // Every DM takes 40 s (of the test's clock): three in a row outlast the claim of the rows after them.
    fakeSlack.intercept = (method) => {
      if (method === 'chat.postMessage') w.clock.advance(40_000);
      return undefined;
    };
    const mark = fakeSlack.calls.length;
    try {
      // The agenda job and the in-process kick(): one takes a whole batch, the other polls meanwhile.
      let firstDone = false;
      const first = deliverDueNotifications(w.domain, channels, log).finally(() => {
        firstDone = true;
      });
      const second = (async () => {
        while (!firstDone) {
          await deliverDueNotifications(w.domain, channels, log, 3);
          await new Promise((r) => setTimeout(r, 2));
        }
      })();
      await Promise.all([first, second]);
      w.clock.advanceHours(1);
      await deliver(w, channels);
    } finally {
      fakeSlack.intercept = undefined;
    }
    for (const x of invitees) {
      expect(smtp.to(x.email)).toHaveLength(1);
      expect(fakeSlack.of('chat.postMessage', mark).filter((c) => c.args.channel === x.slackId)).toHaveLength(1);
    }
    expect(await w.count('notifications', `org_id = '${org.id}' and kind = 'invite.sent' and status <> 'sent'`)).toBe(0);
  });

  it('while an attempt runs, its claim reaches past the slowest attempt there can be: every Slack request timing out, then the whole SMTP deadline', async () => {
    const w = world();
    const channels = realChannels(w);
    expect(channels.slack.maxAttemptMs).toBe(2 * SLACK_REQUEST_TIMEOUT_MS);
    expect(channels.email.maxAttemptMs).toBe(SMTP_SEND_DEADLINE_MS);
    const { org, owner } = await w.org('Lease');
    const m = await w.member(org, owner.actor, 'member');
    fakeSlack.addUser('Leased', m.account.email!);
    await deliver(w, channels);
    await w.domain.members.changeRole(owner.actor, org.id, m.account.id, 'developer');
    const leaseLeft: number[] = [];
    fakeSlack.intercept = async (method) => {
      if (method !== 'chat.postMessage') return undefined;
      const [r] = (await w.domain.outbox.find({ kind: 'member.role_changed' })).filter((x) => x.recipientAccountId === m.account.id);
      leaseLeft.push(r!.lockedUntil!.getTime() - w.clock.now().getTime());
      return undefined;
    };
    try {
      await deliver(w, channels);
    } finally {
      fakeSlack.intercept = undefined;
    }
    expect(leaseLeft).toHaveLength(1);
    expect(leaseLeft[0]).toBeGreaterThan(2 * SLACK_REQUEST_TIMEOUT_MS + SMTP_SEND_DEADLINE_MS);
  });
});

// Count check used by several tests above, kept here so a schema change shows up in one place.
it('the outbox keeps one row per notification and channel (the idempotency key)', async () => {
  const w = world();
  const { invite } = await inviteOne(w);
  const rows = await w.db.db
    .select()
    .from(notifications)
    .where(sql`${notifications.dedupeKey} = ${sentKey(invite)}`);
  expect(rows.map((r) => r.channel).sort()).toEqual(['email', 'slack']);
  await expect(w.db.db.insert(notifications).values({ kind: 'invite.sent', channel: 'email', payload: {}, dedupeKey: sentKey(invite) })).rejects.toMatchObject({
    cause: { code: '23505' },
  });
});
