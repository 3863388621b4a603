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
  /**
   * The user as the IdP sent it (every attribute, without id, meta, groups and password): kept as it
   * is and answered back. The fields above are what Roster derives from it (scim/mapping.ts).
   */
  resource?: Record<string, unknown> | undefined;
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
/**
 * Where an attribute Roster keeps no column for is in the kept resource, as the adapter resolved it
 * against /Schemas: `path` from the resource (or from an element of `within`, a multi-valued attribute).
 */
export type ResourcePath = { path: string[]; caseExact: boolean; kind: 'text' | 'bool'; within?: string[] | undefined };
/**
 * One comparison. Terms of one AND with the same `element` number compare one element of a
 * multi-valued attribute: emails[type eq "work" and value eq "x"] is one email that is both.
 */
export type FilterTerm = {
  field: string;
  op: FilterOp;
  value?: string | boolean | number | null;
  at?: ResourcePath | undefined;
  element?: number | undefined;
};
/** OR of ANDs, as SCIM filters come. */
export type ScimQuery = { anyOf: FilterTerm[][]; startIndex: number; count: number; withMembers?: boolean };

export const MAX_PAGE = 1000;
