import type { ViewOutput } from '@slack/bolt';

/**
 * private_metadata of Roster's modals, read in one place. The view builders (blocks/modals.ts, the
 * join-deny prompt) write JSON objects of string ids; anything else reads as missing, and the domain
 * then refuses the empty id.
 */
function read(view: ViewOutput): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(view.private_metadata || '{}');
    return parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** Modals about one organization (invite, settings, leave, rename, delete). */
export function orgMetadata(view: ViewOutput): { orgId: string } {
  return { orgId: str(read(view).orgId) ?? '' };
}

/** Modals about one member; without accountId the form has a member picker instead. */
export function memberMetadata(view: ViewOutput): { orgId: string; accountId: string | undefined } {
  const m = read(view);
  return { orgId: str(m.orgId) ?? '', accountId: str(m.accountId) };
}

export function inviteMetadata(view: ViewOutput): { inviteId: string } {
  return { inviteId: str(read(view).inviteId) ?? '' };
}

export function joinDenyMetadata(requestId: string): string {
  return JSON.stringify({ requestId });
}

export function joinRequestMetadata(view: ViewOutput): { requestId: string } {
  return { requestId: str(read(view).requestId) ?? '' };
}
