/**
 * The one catalogue of things that can go wrong in Roster's rules. Each error has a stable code and a
 * message written for the person who caused it: what happened and what to do. No HTTP statuses here;
 * each adapter maps codes to its own medium once.
 */
export const errorCatalogue = {
  invalid_input: 'That input is not valid.',
  not_found: 'Not found.',
  forbidden: "You don't have permission to do that.",
  not_a_member: "You're not a member of that organization.",
  no_active_org: "You don't have an active organization yet.",
  org_not_found: 'No organization matches that.',
  slug_taken: 'That URL name is already taken. Choose another.',
  confirmation_mismatch: 'The name you typed does not match the organization name, so nothing was deleted.',
  member_not_found: "That person isn't a member of this organization.",
  primary_owner_protected: 'The primary owner cannot be removed, demoted or leave. They can transfer primary ownership to another owner first.',
  last_owner: 'An organization must keep at least one owner. Make someone else an owner first.',
  sole_member: "You're the only member. Delete the organization instead of leaving it.",
  use_leave: 'To remove yourself, leave the organization instead.',
  primary_owner_billing: 'The primary owner always receives billing emails.',
  transfer_target_not_owner: 'Primary ownership can only be transferred to another owner. Make them an owner first.',
  already_member: 'Already a member of this organization.',
  single_membership: 'You already belong to an organization. Leave it before joining another one.',
  seat_limit: "The organization's seat limit is reached. Remove a member or pending invite, or raise the limit.",
  invite_pending: 'An invite is already pending for that email. Resend or update it instead.',
  invite_not_found: 'That invite does not exist.',
  invite_not_pending: 'That invite is no longer pending.',
  invite_expired: 'This invite has expired. Ask the organization to send a new one.',
  invite_revoked: 'This invite was revoked. Ask the organization for a new one if you still need access.',
  invite_used: 'This invite has already been used.',
  invite_declined: 'This invite was declined.',
  // Never name the address the invite was sent to: the person refused is, by definition, someone else.
  invite_wrong_email: "This invite isn't addressed to you. Ask the organization to invite your own email address.",
  join_request_not_found: 'That join request does not exist.',
  join_request_decided: 'That request was already decided.',
  join_request_pending: 'You already asked to join this organization. An owner or admin will decide soon.',
  own_request: 'You cannot approve or deny your own request.',
  scim_token_not_found: 'No active SCIM token has that name.',
  scim_token_name_taken: 'A SCIM token with that name already exists. Choose another name, or rotate that token.',
  scim_unauthorized: 'The SCIM token is missing, wrong, expired or revoked.',
  scim_user_not_found: 'No SCIM user with that id in this organization.',
  scim_group_not_found: 'No SCIM group with that id in this organization.',
  scim_uniqueness: 'A user with that userName already exists in this organization.',
  scim_managed: 'This member is managed by your identity provider (SCIM). Change it there, or, if you may override your identity provider, force the change.',
  scim_no_email: 'None of the emails given is an email address: send one such as someone@example.com in emails[].value.',
  // A SCIM filter, or an attributes/excludedAttributes list, Roster cannot read or answer; field names the parameter.
  invalid_filter: 'That filter is not supported. Use e.g. userName eq "someone@example.com".',
  invalid_domain: 'That is not a domain name. Give one like acme.com.',
  domain_not_claimable: 'That domain cannot be claimed by an organization.',
  domain_already_added: 'That domain is already on this organization. Verify it, or remove it first.',
  domain_not_found: "That domain isn't on this organization.",
  domain_taken: 'Another organization has already verified that domain. A domain can be verified by one organization only.',
  consent_not_found: 'That request to add you to an organization does not exist any more.',
  consent_not_pending: 'You already answered that request.',
  membership_pending: "You haven't accepted this organization's request to add you yet. Accept it first.",
  api_key_not_found: 'No active API key has that name.',
  api_key_name_taken: 'An API key with that name already exists. Choose another name, or rotate that key.',
  api_unauthorized: 'The API key is missing, wrong, expired or revoked.',
  slack_email_unconfirmed: 'Confirm your email address before using Roster from this Slack workspace: open the link Roster emailed you.',
  slack_link_invalid:
    'This link is not valid any more: it expired, was replaced by a newer one, or was already used. Run a Roster command in Slack to get a new one.',
  domain_not_verified: 'That domain is not verified yet. Publish its DNS record and verify it first.',
  webhook_not_found: 'No webhook endpoint with that id in this organization.',
  webhook_limit_reached: 'This organization has as many webhook endpoints as it may have. Remove one first.',
  feed_cursor_expired:
    'Events after that cursor were deleted (events are kept at least 30 days), so polling from it would skip them. Start again without `after` (the oldest events kept) and reconcile what you missed from the members list.',
} as const;

export type ErrorCode = keyof typeof errorCatalogue;

/**
 * What to do next, where the answer is a command of the surface the person is on: each adapter words
 * it its own way (Slack: `/org list`; CLI: `roster org list`), so domain messages never name a command.
 */
export type Hint = 'list_orgs' | 'switch_org' | 'create_or_join_org' | 'transfer_primary' | 'scim_allow_owner' | 'scim_default_role' | 'list_scim_tokens';

export type ErrorDetails = {
  /** The input the error is about (a form field, a SCIM attribute path), for adapters that can point at it. */
  field?: string;
  hint?: Hint;
  [key: string]: unknown;
};

export class DomainError extends Error {
  readonly code: ErrorCode;
  readonly details: ErrorDetails | undefined;
  readonly field: string | undefined;
  readonly hint: Hint | undefined;

  constructor(code: ErrorCode, message?: string, details?: ErrorDetails) {
    super(message ?? errorCatalogue[code]);
    this.name = 'DomainError';
    this.code = code;
    this.details = details;
    this.field = details?.field;
    this.hint = details?.hint ?? catalogueHints[code];
  }
}

/** Codes whose catalogue message is followed by a hint wherever they are raised. */
const catalogueHints: Partial<Record<ErrorCode, Hint>> = {
  no_active_org: 'create_or_join_org',
  scim_token_not_found: 'list_scim_tokens',
};

export function fail(code: ErrorCode, message?: string, details?: ErrorDetails): never {
  throw new DomainError(code, message, details);
}

/** For a lookup by id: a caller outside the thing's org gets "not found" instead of "not a member". */
export function notFoundFor(code: ErrorCode) {
  return (err: unknown): never => {
    if (isDomainError(err, 'not_a_member')) fail(code);
    throw err;
  };
}

export function isDomainError(err: unknown, code?: ErrorCode): err is DomainError {
  return err instanceof DomainError && (code === undefined || err.code === code);
}

// PostgreSQL's errors are decoded in db/; adapters read them through the domain.
export { isDatabaseUnavailable, isInvalidDataError } from '../db/errors.js';
