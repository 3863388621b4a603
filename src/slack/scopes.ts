/**
 * The bot scopes Roster asks for, and why; manifest.yml lists the same (a test compares them). No
 * im:write: DMs are posted to a user id with chat:write, which opens the conversation by itself.
 */
export const botScopes = [
  'commands', // /org
  'chat:write', // DMs (invites, join requests, consent requests) and their updates
  'users:read', // users.info: names, and whether a user is a guest, deleted or external
  'users:read.email', // users.info profile email and users.lookupByEmail: who an invitee is in Slack
] as const;
