import { z } from 'zod';
import type { InviteRow, OrgRow } from '../../db/schema.js';
import { defaultRole } from '../access.js';
import { DomainError, type ErrorCode } from '../errors.js';

/** What an invite is and how it reads: states, shapes, the link, and what each state tells a person. */

export const MAX_EMAILS_PER_INVITE = 100;

export type InviteState = 'pending' | 'expired' | 'accepted' | 'declined' | 'revoked';

export type InviteResult =
  { email: string; ok: true; invite: InviteRow; token: string } | { email: string; ok: false; code: ErrorCode; message: string; inviteId?: string };

export type InviteView = InviteRow & { state: InviteState; invitedByName: string | null };

export type InviteLookup = {
  invite: InviteRow;
  state: InviteState;
  org: Pick<OrgRow, 'id' | 'name' | 'slug'>;
  invitedByName: string | null;
};

export const createSchema = z.object({
  emails: z.union([z.string(), z.array(z.string())]),
  role: z.string().default(defaultRole),
  billingEmails: z.boolean().default(false),
});
export type CreateInvitesInput = z.input<typeof createSchema>;

export const updateSchema = z
  .object({ role: z.string().optional(), billingEmails: z.boolean().optional() })
  .refine((u) => u.role !== undefined || u.billingEmails !== undefined, { message: 'Say what to change: role or billing emails.' });

/**
 * Splits a list of emails written by a person: spaces, commas, semicolons or new lines between them
 * (Elastic), optionally wrapped in <…> or prefixed with mailto:. Duplicates (any case) are dropped.
 */
export function splitEmails(input: string | string[]): string[] {
  const parts = (Array.isArray(input) ? input : [input])
    .flatMap((s) => s.split(/[\s,;]+/))
    .map((s) =>
      s
        .trim()
        .replace(/^<|>$/g, '')
        .replace(/^mailto:/i, ''),
    )
    .filter(Boolean);
  const seen = new Set<string>();
  return parts.filter((p) => {
    const k = p.toLowerCase();
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** The page an invite link opens (served by the web adapter at /invites/<token>). */
export function inviteUrl(publicUrl: string, token: string): string {
  return `${publicUrl}/invites/${token}`;
}

export function inviteState(invite: InviteRow, now: Date): InviteState {
  if (invite.status === 'pending' && invite.expiresAt && invite.expiresAt <= now) return 'expired';
  return invite.status;
}

export function expiryFrom(org: OrgRow, now: Date): Date | null {
  return org.inviteExpiryHours === null ? null : new Date(now.getTime() + org.inviteExpiryHours * 3_600_000);
}

export function inviteAuditView(i: InviteRow) {
  return {
    email: i.email,
    role: i.role,
    billingEmails: i.billingEmails,
    status: i.status,
    expiresAt: i.expiresAt,
    // The name the inviter gave (a CSV import's name column), when one was given.
    ...(i.inviteeName ? { inviteeName: i.inviteeName } : {}),
  };
}

export function stateCode(state: InviteState): ErrorCode {
  switch (state) {
    case 'accepted':
      return 'invite_used';
    case 'declined':
      return 'invite_declined';
    case 'revoked':
      return 'invite_revoked';
    case 'expired':
      return 'invite_expired';
    default:
      return 'invite_not_pending';
  }
}

export function stateMessage(state: InviteState): string {
  return new DomainError(stateCode(state)).message;
}
