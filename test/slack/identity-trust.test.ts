import { describe, expect, it } from 'vitest';
import { orgOwnedBy, slackPerson, useSlackRoster, type SlackUserFacts } from '../helpers/slack.js';

/** A Slack user's email links them to an existing account only when Slack vouches for it. */
const harness = useSlackRoster();

describe("a Slack profile email claims nobody's account unless Slack vouches for it", () => {
  const untrusted: [string, SlackUserFacts][] = [
    ['an unconfirmed email', { emailConfirmed: false }],
    ['a deactivated user', { deleted: true }],
    ['a guest', { restricted: true }],
    ['a single-channel guest', { ultraRestricted: true }],
    ['an external (Slack Connect) user', { stranger: true }],
  ];

  for (const [who, facts] of untrusted) {
    it(`${who} with the email of another org's owner does not see or act in that org`, async () => {
      const h = harness();
      const carol = await slackPerson(h, 'Carol');
      const org = await orgOwnedBy(h, carol, 'Trust');
      const mallory = h.slack.addUser('Mallory', carol.email, facts);

      const list = await h.command(mallory, 'list');
      expect(list.text).toMatch(/not in any organization/);
      // Roster says what it did: a separate account, and why invites to that address don't show here.
      expect(JSON.stringify(list.blocks)).toMatch(/Roster doesn't use the email in your Slack profile/);
      const members = await h.command(mallory, `members`);
      expect(JSON.stringify(members)).not.toContain(org.name);
      expect((await h.domain.members.list(carol.actor, org.id)).map((m) => m.displayName)).toEqual(['Carol']);
    });
  }

  it('the same email, confirmed, on a full member of the workspace, is the same person', async () => {
    const h = harness();
    const carol = await slackPerson(h, 'Carol');
    const org = await orgOwnedBy(h, carol, 'Trust');
    const again = h.slack.addUser('Carol Again', carol.email);
    const list = await h.command(again, 'list');
    expect(JSON.stringify(list)).toContain(org.name);
    expect(JSON.stringify(list)).not.toMatch(/doesn't use the email in your Slack profile/);
  });
});
