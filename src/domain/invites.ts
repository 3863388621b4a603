import type { InviteRow } from '../db/schema.js';
import type { Deps } from './context.js';
import { tokenFor } from './invites/core.js';
import { createInviteCreation } from './invites/create.js';
import { createInviteImport } from './invites/import.js';
import { createInviteManagement } from './invites/manage.js';
import { createInviteReads } from './invites/read.js';
import { createInviteResponses } from './invites/respond.js';
import { createInviteSweeps } from './invites/sweeps.js';

export {
  MAX_EMAILS_PER_INVITE,
  inviteState,
  inviteUrl,
  splitEmails,
  type CreateInvitesInput,
  type InviteLookup,
  type InviteResult,
  type InviteState,
  type InviteView,
} from './invites/state.js';
export { MAX_IMPORT_CHUNK, type ImportField, type ImportOptions, type ImportRow, type ImportVerdict } from './invites/import.js';

/** Invites: one service over the files in invites/, one per side of an invite's life. */
export function createInviteService(deps: Deps) {
  const key = deps.settings.inviteTokenKey;
  return {
    ...createInviteCreation(deps),
    ...createInviteImport(deps),
    ...createInviteManagement(deps),
    ...createInviteResponses(deps),
    ...createInviteReads(deps),
    ...createInviteSweeps(deps),
    /** The current link token of an invite (reminders and the outbox re-create links from it). */
    tokenOf: (invite: Pick<InviteRow, 'id' | 'tokenNonce'>) => tokenFor(key, invite),
  };
}
