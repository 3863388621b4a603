import { describe, expect, it } from 'vitest';
import { orgOwnedBy, slackPerson, useSlackRoster } from '../helpers/slack.js';

/** `/org create` with the name of an org I'm already in asks before creating a second one. */
const harness = useSlackRoster();

describe('creating an org with a name I already have', () => {
  it('asks first (switch, or create another), and creates only when asked to', async () => {
    const h = harness();
    const ana = await slackPerson(h, 'Ana');
    const org = await orgOwnedBy(h, ana, 'Twice');
    const reply = await h.command(ana.user, `create ${org.name.toUpperCase()}`);
    expect(reply.text).toContain(`You're already in *${org.name}*`);
    expect(JSON.stringify(reply.blocks)).toContain('org_create_anyway');
    expect((await h.domain.orgs.listMine(ana.actor)).length).toBe(1);
    const { responseId } = await h.action(ana.user, { action_id: 'org_create_anyway', value: org.name.toUpperCase(), type: 'button' });
    expect((await h.slack.waitForResponse(responseId)).text).toMatch(/Created/);
    expect((await h.domain.orgs.listMine(ana.actor)).length).toBe(2);
  });
});
