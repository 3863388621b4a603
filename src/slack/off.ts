/**
 * What the start log says when Slack stays off: with some of its settings given, the one still missing.
 * (A client id without its secret, or the reverse, is refused by the configuration before this.)
 */
export function slackOffMessage(s: {
  signingSecret?: string | undefined;
  botToken?: string | undefined;
  clientId?: string | undefined;
  clientSecret?: string | undefined;
}): string {
  const how = 'SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN (one workspace) or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET (many)';
  if (!s.signingSecret && !s.botToken && !s.clientId && !s.clientSecret) return `Slack is off: set ${how} to turn it on (see README).`;
  const missing = s.signingSecret ? 'SLACK_BOT_TOKEN (one workspace) or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET (many)' : 'SLACK_SIGNING_SECRET';
  return `Slack is off: ${missing} is missing (see README).`;
}
