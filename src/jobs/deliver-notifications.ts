import type { Domain } from '../domain/index.js';
import type { NotificationContent } from '../domain/notifications.js';
import type { Logger } from '../logger.js';

/** A way to reach people (email, Slack DM). 'skipped' = this channel can't reach them; throw = try again later. */
export type DeliveryChannel = { deliver: (c: NotificationContent) => Promise<'sent' | 'skipped'> };
export type Channels = { email?: DeliveryChannel | undefined; slack?: DeliveryChannel | undefined };

/**
 * Delivers due outbox rows: claim (SKIP LOCKED lease) → describe from the database as it is now →
 * send → settle. Failures retry with backoff; a row is claimed by one worker at a time, so each
 * notification is sent once even with several workers.
 */
export async function deliverDueNotifications(domain: Domain, channels: Channels, log: Logger, batch = 50): Promise<{ sent: number; skipped: number; failed: number }> {
  const stats = { sent: 0, skipped: 0, failed: 0 };
  for (;;) {
    const claimed = await domain.outbox.claimDue(batch);
    if (!claimed.length) return stats;
    for (const n of claimed) {
      try {
        const content = await domain.outbox.describe(n);
        const outcome = content ? await send(channels, n.channel, content) : 'skipped';
        await domain.outbox.settle(n, { status: outcome });
        stats[outcome]++;
      } catch (err) {
        stats.failed++;
        log.warn({ err: (err as Error).message, notification: n.id, kind: n.kind, channel: n.channel, attempts: n.attempts }, 'notification delivery failed; will retry');
        await domain.outbox.settle(n, { status: 'failed', error: (err as Error).message ?? String(err) });
      }
    }
    if (claimed.length < batch) return stats;
  }
}

async function send(channels: Channels, channel: string, content: NotificationContent): Promise<'sent' | 'skipped'> {
  switch (channel) {
    case 'email':
      return channels.email ? channels.email.deliver(content) : 'skipped';
    case 'slack':
      return channels.slack ? channels.slack.deliver(content) : 'skipped';
    case 'slack_or_email': {
      const viaSlack = channels.slack ? await channels.slack.deliver(content) : 'skipped';
      if (viaSlack === 'sent') return 'sent';
      return channels.email ? channels.email.deliver(content) : 'skipped';
    }
    default:
      return 'skipped';
  }
}
