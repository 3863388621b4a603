import { describe, expect, it } from 'vitest';
import { countRows, slashCommand, useSlackRoster } from '../helpers/slack.js';

/** Single-token mode serves only the workspace its bot token belongs to (learned from auth.test at start). */
const harness = useSlackRoster();

describe('the workspace Roster serves', () => {
  it('a correctly signed command from another workspace is told Roster is not installed there, and changes nothing', async () => {
    const h = harness();
    const user = h.slack.addUser('Stranger', 'stranger@other.test');
    const { form } = slashCommand(h.slack, user, 'create Elsewhere Inc');
    const before = await countRows(h, 'orgs', 'true');
    const res = await h.post({ ...form, team_id: 'T0OTHER' });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toMatchObject({ response_type: 'ephemeral', text: expect.stringMatching(/Roster is not installed in this workspace/) });
    expect(await countRows(h, 'orgs', 'true')).toBe(before);
    expect(await countRows(h, 'slack_identities', `team_id = 'T0OTHER'`)).toBe(0);
  });

  it('its own workspace is served as before', async () => {
    const h = harness();
    const reply = await h.command(h.slack.addUser('Local', 'local@acme.test'), 'help');
    expect(reply.text).toMatch(/\/org/);
  });
});
