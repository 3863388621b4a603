/** Every action_id, callback_id and block_id Roster uses in Slack, in one place. */
export const ids = {
  command: '/org',
  views: {
    createOrg: 'org_create_modal',
    switchOrg: 'org_switch_modal',
    invite: 'org_invite_modal',
    inviteResult: 'org_invite_result_modal',
    changeRole: 'org_role_modal',
    leave: 'org_leave_modal',
    rename: 'org_rename_modal',
    deleteOrg: 'org_delete_modal',
    inviteLink: 'org_invite_link_modal',
    info: 'org_info_modal',
    loading: 'org_loading_modal',
    joinDeny: 'join_deny_modal',
    settings: 'org_settings_modal',
    inviteChange: 'invite_change_modal',
    removeMember: 'org_remove_member_modal',
    addDomain: 'org_domain_add_modal',
    domainAdded: 'org_domain_added_modal',
  },
  blocks: {
    orgName: 'org_name',
    orgSlug: 'org_slug',
    orgSelect: 'org_select',
    emails: 'invite_emails',
    role: 'role',
    billing: 'billing',
    member: 'member',
    confirmName: 'confirm_name',
    reason: 'reason',
    inviteExpiry: 'invite_expiry',
    reminders: 'reminder_hours',
    seatLimit: 'seat_limit',
    domain: 'domain',
  },
  inputs: {
    orgName: 'org_name_input',
    orgSlug: 'org_slug_input',
    orgSelect: 'org_select_input',
    emails: 'invite_emails_input',
    role: 'role_input',
    billing: 'billing_input',
    member: 'member_input',
    confirmName: 'confirm_name_input',
    reason: 'reason_input',
    inviteExpiry: 'invite_expiry_input',
    reminders: 'reminder_hours_input',
    seatLimit: 'seat_limit_input',
    domain: 'domain_input',
  },
  actions: {
    inviteAccept: 'invite_accept',
    inviteDecline: 'invite_decline',
    consentAccept: 'consent_accept',
    consentDecline: 'consent_decline',
    domainAskToJoin: 'domain_ask_to_join',
    joinApprove: 'join_approve',
    joinDeny: 'join_deny',
    joinRole: 'join_role',
    homeSwitchOrg: 'home_switch_org',
    homeMemberMenu: 'home_member_menu',
    homeInviteMenu: 'home_invite_menu',
    homePage: 'home_page',
    homeInvite: 'home_invite',
    homeCreateOrg: 'home_create_org',
    createOrgAnyway: 'org_create_anyway',
    inviteMenu: 'invite_menu',
    memberMenu: 'member_menu',
  },
  /** Kinds of Slack messages Roster remembers (domain.messageRefs) to update them later. */
  messageRefs: {
    joinRequest: 'join_request',
  },
} as const;

/** Values of overflow menus: "<verb>:<id>". `role` is "Change role" in both menus (of a member, of an invite). */
export type MenuVerb = 'role' | 'remove' | 'billing_on' | 'billing_off' | 'resend' | 'revoke' | 'link';

export function menuValue(verb: MenuVerb, id: string): string {
  return `${verb}:${id}`;
}

export function parseMenuValue(value: string): { verb: MenuVerb; id: string } | undefined {
  const m = /^(role|remove|billing_on|billing_off|resend|revoke|link):([0-9a-f-]{36})$/.exec(value);
  return m ? { verb: m[1] as MenuVerb, id: m[2]! } : undefined;
}
