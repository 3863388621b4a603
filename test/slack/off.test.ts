import { describe, expect, it } from 'vitest';
import { slackOffMessage } from '../../src/slack/off.js';

describe('the start log when Slack stays off', () => {
  it('names the setting still missing when only some are given', () => {
    expect(slackOffMessage({})).toMatch(/^Slack is off: set SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN/);
    expect(slackOffMessage({ botToken: 'xoxb-1' })).toBe('Slack is off: SLACK_SIGNING_SECRET is missing (see README).');
    expect(slackOffMessage({ signingSecret: 's' })).toBe(
      'Slack is off: SLACK_BOT_TOKEN (one workspace) or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET (many) is missing (see README).',
    );
    expect(slackOffMessage({ clientId: 'c', clientSecret: 'x' })).toBe('Slack is off: SLACK_SIGNING_SECRET is missing (see README).');
  });
});
