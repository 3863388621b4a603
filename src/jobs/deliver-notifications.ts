import type { Domain } from '../domain/index.js';
import { DeliveryDeferred, RecipientUnreachable, type DeliveryOutcome, type NotificationContent } from '../domain/notifications.js';
import type { Logger } from '../logger.js';

/**
 * A way to reach people (email, Slack DM). 'skipped' = this channel can't reach them; throw = try again
 * later (RecipientUnreachable: never; DeliveryDeferred: at the time it names, without using a retry).
 */
export type DeliveryChannel = {
  deliver: (c: NotificationContent) => Promise<'sent' | 'skipped'>;
  /** The longest one deliver() can take before it fails (its timeouts, all requests and retries included). */
  maxAttemptMs?: number;
};
export type Channels = { email?: DeliveryChannel | undefined; slack?: DeliveryChannel | undefined };

/** Assumed for a channel that does not say how long it may take. */
const UNBOUNDED_CHANNEL_MS = 60_000;
/** Room for the database work around an attempt (renewing, describing, settling). */
const LEASE_MARGIN_MS = 30_000;

/**
 * How long a claim holds: the slowest attempt there can be (a DM-or-email notification tries Slack,
 * then email), with a margin. Another worker re-claims a row only after that, so it never sends a row
 * whose attempt is still running.
 */
function claimLeaseMs(channels: Channels): number {
  const bound = (c: DeliveryChannel | undefined) => (c ? (c.maxAttemptMs ?? UNBOUNDED_CHANNEL_MS) : 0);
  return bound(channels.slack) + bound(channels.email) + LEASE_MARGIN_MS;
}

type DeliveryStats = { sent: number; skipped: number; failed: number; deferred: number };

/**
 * Delivers due outbox rows: claim (SKIP LOCKED lease) → renew the row's lease → describe from the
 * database as it is now → send → settle. Failures retry with backoff; a row is claimed by one worker at
 * a time, so each notification is sent once even with several workers, or several loops in one process.
 */
export async function deliverDueNotifications(domain: Domain, channels: Channels, log: Logger, batch = 50): Promise<DeliveryStats> {
  const stats: DeliveryStats = { sent: 0, skipped: 0, failed: 0, deferred: 0 };
  const leaseMs = claimLeaseMs(channels);
  for (;;) {
    const claimed = await domain.outbox.claimDue(batch, leaseMs);
    if (!claimed.length) return stats;
    for (const n of claimed) {
      // A row waits behind the slower ones claimed with it: its lease starts again now, for its own
      // attempt. If it ran out meanwhile and another loop took the row, that loop delivers it, not us.
      if (!(await domain.outbox.renew(n, leaseMs))) continue;
      let outcome: DeliveryOutcome;
      try {
        const content = await domain.outbox.describe(n);
        outcome = content ? { status: await send(channels, n.channel, content) } : { status: 'skipped' };
      } catch (err) {
        outcome = outcomeOf(err);
        if (outcome.status === 'failed') {
          log.warn(
            { err: outcome.error, notification: n.id, kind: n.kind, channel: n.channel, attempts: n.attempts },
            'notification delivery failed; will retry',
          );
        }
      }
      await domain.outbox.settle(n, outcome);
      stats[outcome.status]++;
    }
    if (claimed.length < batch) return stats;
  }
}

function outcomeOf(err: unknown): DeliveryOutcome {
  if (err instanceof RecipientUnreachable) return { status: 'skipped', reason: err.message };
  if (err instanceof DeliveryDeferred) return { status: 'deferred', until: err.retryAt, reason: err.message };
  return { status: 'failed', error: (err as Error)?.message ?? String(err) };
}

async function send(channels: Channels, channel: string, content: NotificationContent): Promise<'sent' | 'skipped'> {
  switch (channel) {
    case 'email':
      return channels.email ? channels.email.deliver(content) : 'skipped';
    case 'slack':
      return channels.slack ? channels.slack.deliver(content) : 'skipped';
    case 'slack_or_email': {
      const viaSlack = channels.slack ? await slackUnlessEmailWillDo(channels.slack, content) : 'skipped';
      if (viaSlack === 'sent') return 'sent';
      return channels.email ? channels.email.deliver(content) : 'skipped';
    }
    default:
      return 'skipped';
  }
}

/** Either way will do: when Slack cannot reach the person, or cannot send now for the operator to fix, email it. */
async function slackUnlessEmailWillDo(slack: DeliveryChannel, content: NotificationContent): Promise<'sent' | 'skipped'> {
  try {
    return await slack.deliver(content);
  } catch (err) {
    if (err instanceof RecipientUnreachable) return 'skipped';
    if (err instanceof DeliveryDeferred && err.emailInstead) return 'skipped';
    throw err;
  }
}
