import type { Config } from './config.js';
import { createDomain, systemClock, type Deps, type Domain } from './domain/index.js';
import { createTxtLookup } from './dns.js';
import { appSecret, deriveKey } from './secrets.js';

/**
 * The domain over an open database, with its settings from config: the one recipe the server (main.ts)
 * and the CLI share, so an invite link made by either is accepted by the other.
 */
export function createRosterDomain(
  config: Config,
  given: Pick<Deps, 'db' | 'scimTokenChanges' | 'slackInstallationChanges' | 'accessChanges' | 'onBackgroundError'> & { clock?: Deps['clock'] },
): Domain {
  return createDomain({
    db: given.db,
    clock: given.clock ?? systemClock,
    scimTokenChanges: given.scimTokenChanges,
    slackInstallationChanges: given.slackInstallationChanges,
    accessChanges: given.accessChanges,
    onBackgroundError: given.onBackgroundError,
    dns: createTxtLookup(config.dnsServers),
    settings: {
      membershipMode: config.membershipMode,
      operatorName: config.operatorName,
      inviteTokenKey: deriveKey(appSecret(config), 'invite-token'),
      installationKey: deriveKey(appSecret(config), 'slack-installations'),
      webhookSecretKey: deriveKey(appSecret(config), 'webhook-secrets'),
      // One workspace's own install trusts its workspace; a distributed app only those the operator lists.
      slackEmailsTrusted: config.slack.clientId ? config.slack.trustedTeams : 'all',
    },
  });
}
