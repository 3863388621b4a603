import { createAccountService } from './accounts.js';
import { createAuditService } from './audit.js';
import { createConsentService } from './consents.js';
import { createEnrollment } from './domains/enrollment.js';
import { createDomainService } from './domains/service.js';
import { withEvents } from './events.js';
import type { Deps } from './context.js';
import { createTokenCache } from './token-cache.js';
import { createEventNumberer } from './event-numbers.js';
import { changesAccess, createAccessCache } from './access-cache.js';
import { createInviteService } from './invites.js';
import { createJoinRequestService } from './join-requests.js';
import { createMemberService } from './members.js';
import { createMessageRefService } from './message-refs.js';
import { createOrgService } from './orgs.js';
import { createOutboxService } from './notifications.js';
import { createScimService } from './scim/index.js';
import { createScimTokenService } from './scim-tokens.js';
import { createApiKeyService } from './api-keys.js';
import { createAuthorization } from './authorization.js';
import { createFeed } from './feed.js';
import { createReplayGuard } from './replay.js';
import { createSlackInstallationService } from './slack-installations.js';
import { createSlackLinkService } from './slack-links.js';
import { createWebhookService } from './webhooks/index.js';

/** Roster's rules, as one object the adapters (Slack, SCIM, web, jobs, CLI) call. */
export function createDomain(given: Deps) {
  const accessCache = createAccessCache(given.accessChanges);
  // A step that fails here (the database went away) is retried by the next feed read or webhook run.
  const numberer = createEventNumberer(given.db, (err) =>
    given.onBackgroundError?.(err, 'Numbering committed events failed; the next feed read or webhook run numbers them'),
  );
  const deps: Deps = {
    ...given,
    db: withEvents(given.db, (actions) => {
      if (actions.some(changesAccess)) accessCache.forget();
      numberer.soon();
    }),
    numberer,
    tokenCache: createTokenCache(given.scimTokenChanges),
    accessCache,
  };
  const invites = createInviteService(deps);
  const consents = createConsentService(deps);
  const slackInstallations = createSlackInstallationService(deps);
  const slackLinks = createSlackLinkService(deps, slackInstallations);
  return {
    accounts: createAccountService(deps, slackLinks),
    orgs: createOrgService(deps),
    members: createMemberService(deps),
    invites,
    outbox: createOutboxService(deps, invites.tokenOf, consents.tokenOf, slackLinks.pending),
    slackLinks,
    consents,
    joinRequests: createJoinRequestService(deps),
    audit: createAuditService(deps),
    messageRefs: createMessageRefService(deps),
    scimTokens: createScimTokenService(deps),
    apiKeys: createApiKeyService(deps),
    authorization: createAuthorization(deps),
    feed: createFeed(deps),
    scim: createScimService(deps),
    domains: { ...createDomainService(deps), ...createEnrollment(deps) },
    replay: createReplayGuard(deps),
    slackInstallations,
    webhooks: createWebhookService(deps),
  };
}

export type Domain = ReturnType<typeof createDomain>;
export * from './context.js';
export * from './errors.js';
export * from './access.js';
