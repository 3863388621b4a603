import type { Db, Executor, Tx } from '../db/client.js';
import type { Invalidation } from '../db/notify.js';
import type { AccessCache } from './access-cache.js';
import type { EventNumberer } from './event-numbers.js';
import type { TokenCache } from './token-cache.js';

/** Which surface a person acted through; kept on audit events. */
type Via = 'slack' | 'cli' | 'web' | 'scim' | 'job' | 'api';

export type Actor =
  | { type: 'account'; accountId: string; via: Via }
  | { type: 'scim'; tokenId: string; orgId: string; label: string }
  /** The host product, through an API key: its org's (orgId), or an operator key (null: every org). */
  | { type: 'api'; keyId: string; orgId: string | null; readOnly: boolean; label: string }
  | { type: 'system'; job: string };

export type Clock = { now: () => Date };
export const systemClock: Clock = { now: () => new Date() };

export type DomainSettings = {
  membershipMode: 'multi' | 'single';
  /** Named as the inviter when the CLI or an API key invites (OPERATOR_NAME); default: the org's name. */
  operatorName?: string | undefined;
  /** Key for deriving invite link tokens (HMAC); never stored in the database. */
  inviteTokenKey: Buffer;
  /** Seals Slack installations (their tokens) at rest; derived from APP_SECRET. */
  installationKey?: Buffer | undefined;
  /** Seals webhook signing secrets at rest; derived from APP_SECRET. */
  webhookSecretKey?: Buffer | undefined;
  /**
   * Which Slack workspaces (T…) and Grids (E…) Roster takes at their word on a person's email: 'all' for a
   * one-workspace install (its own workspace), else the operator's list (distribution: any workspace can
   * install Roster, and its admins can set any address). Default: none.
   */
  slackEmailsTrusted?: 'all' | readonly string[] | undefined;
};

/**
 * DNS TXT lookups (domain verification): each record's strings joined, [] when the name has none.
 * Throws when DNS could not answer (timeout, server failure).
 */
export type TxtLookup = (name: string) => Promise<string[]>;

export type Deps = {
  db: Db;
  clock: Clock;
  settings: DomainSettings;
  /** Notifications of SCIM token changes; with them, token lookups are cached (domain/token-cache.ts). */
  scimTokenChanges?: Invalidation | undefined;
  /**
   * Notifications of changes to who holds which role (migration 0019); with them, authorize keeps the
   * memberships it found in memory.
   */
  accessChanges?: Invalidation | undefined;
  /** Notifications of Slack installation changes; with them, installation lookups are cached. */
  slackInstallationChanges?: Invalidation | undefined;
  /** How verified domains are checked; without it, DNS checks say DNS is not configured. */
  dns?: TxtLookup | undefined;
  /** Set by createDomain: the one token cache its services share. */
  tokenCache?: TokenCache;
  /**
   * Told when work the domain does in the background fails (numbering committed events, which the next
   * feed read or webhook run does again): the server logs it. Without it, such failures are silent.
   */
  onBackgroundError?: (err: unknown, what: string) => void;
  /** Set by createDomain: gives committed events their org's numbers (domain/event-numbers.ts). */
  numberer?: EventNumberer;
  /** Set by createDomain: the memberships authorize found (domain/access-cache.ts). */
  accessCache?: AccessCache;
};

export type { Db, Executor, Tx };
export { isUniqueViolation } from '../db/errors.js';

export function accountActor(accountId: string, via: Via): Actor {
  return { type: 'account', accountId, via };
}

export function systemActor(job: string): Actor {
  return { type: 'system', job };
}

/** Postgres unique violation, as drizzle wraps it. */
