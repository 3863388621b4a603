import type { ScimGroupRow, ScimUserRow } from '../../db/schema.js';

/** What SCIM provisioning takes and gives, independent of SCIM's wire format (scim/ maps it). */
type ScimEmail = { value: string; type?: string | undefined; primary?: boolean | undefined };
export type ScimUserInput = {
  userName: string;
  externalId?: string | null | undefined;
  givenName?: string | null | undefined;
  familyName?: string | null | undefined;
  displayName?: string | null | undefined;
  emails?: ScimEmail[] | undefined;
  active?: boolean | undefined;
};
export type ScimUserView = ScimUserRow & { groups: { id: string; displayName: string }[] };
export type ScimGroupInput = { displayName: string; externalId?: string | null | undefined; memberIds: string[] };
export type ScimGroupView = ScimGroupRow & { members: { id: string; display: string }[] | undefined };
/**
 * For a PATCH, which the adapter applies to the resource it read: that resource as read. Only what the
 * PATCH changed relative to it is written, on top of the current row (read under lock), so IdPs' parallel
 * PATCHes (Okta and Entra send them) don't undo each other: two member adds both stay, a removal stays removed.
 */
export type PatchBase<T> = { base?: T | undefined };

export type FilterOp = 'eq' | 'ne' | 'co' | 'sw' | 'ew' | 'pr' | 'gt' | 'ge' | 'lt' | 'le';
export type FilterTerm = { field: string; op: FilterOp; value?: string | boolean | number | null };
/** OR of ANDs, as SCIM filters come. */
export type ScimQuery = { anyOf: FilterTerm[][]; startIndex: number; count: number; withMembers?: boolean };

export const MAX_PAGE = 1000;
