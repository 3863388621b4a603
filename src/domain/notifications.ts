import { notifications } from '../db/schema.js';
import type { Executor } from './context.js';

/**
 * What to tell whom — decided by the domain, written to the outbox in the same transaction as the
 * change. How it is delivered (Slack DM, email) is the delivery adapters' business.
 */
export type NotificationKind =
  | 'invite.sent'
  | 'invite.accepted'
  | 'invite.declined'
  | 'member.role_changed'
  | 'member.removed'
  | 'join_request.created'
  | 'join_request.decided';

export type Notification = {
  kind: NotificationKind;
  orgId: string | null;
  recipientAccountId?: string | null;
  recipientEmail?: string | null;
  payload: Record<string, unknown>;
  /** Makes the notification exist once, however often the change is retried. */
  dedupeKey: string;
};

export async function notify(tx: Executor, ...items: Notification[]): Promise<void> {
  if (!items.length) return;
  await tx
    .insert(notifications)
    .values(
      items.map((n) => ({
        kind: n.kind,
        orgId: n.orgId,
        recipientAccountId: n.recipientAccountId ?? null,
        recipientEmail: n.recipientEmail ?? null,
        payload: n.payload,
        dedupeKey: n.dedupeKey,
      })),
    )
    .onConflictDoNothing({ target: notifications.dedupeKey });
}
