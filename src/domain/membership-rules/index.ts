/**
 * The one membership write path. Every way into an org (creating it, accepting an invite, an approved
 * join request, SCIM provisioning) and every change to a membership (role, suspension, removal, leaving)
 * goes through the functions in this folder, which check the org's invariants once (seats, one org per person,
 * the primary owner, at least one active owner) and emit the member.* event. Callers hold the org row
 * lock (lockOrgFor / lockOrgForScim) so seat counts and owner counts cannot race; who may ask for the
 * change (permissions, SCIM ownership) is the caller's check.
 */

export { addMembership, assertMayJoinAnotherOrg, assertSeatAvailable } from './joining.js';
export {
  assertNotPrimaryOwner,
  assertPrimaryOwnerKeepsBilling,
  changeMembershipRole,
  endMembership,
  setMembershipBillingEmails,
  setMembershipStatus,
  transferPrimaryOwnershipTo,
} from './changes.js';
export { confirmPendingMembership, declinePendingMembership, declinedBefore } from './consent.js';
