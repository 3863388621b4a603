import { inviteUrl } from '../domain/invites.js';
import type { NotificationContent } from '../domain/notifications.js';
import type { Mailer } from './email.js';
import { renderEmail } from './email-templates.js';

/** The email side of notification delivery. 'skipped' when there is no address or nothing to say by email. */
export function createEmailChannel(mailer: Mailer, publicUrl: string) {
  return {
    /** One message per delivery: the mailer's own bound. */
    maxAttemptMs: mailer.maxSendMs,
    async deliver(c: NotificationContent): Promise<'sent' | 'skipped'> {
      const to = c.recipient.email;
      const rendered = renderEmail(c, publicUrl);
      if (!to || !rendered) return 'skipped';
      const host = new URL(publicUrl).hostname || 'roster';
      await mailer.send({
        to,
        ...rendered,
        messageId: `<${c.notification.dedupeKey.replace(/[^A-Za-z0-9.:-]/g, '-')}@${host}>`,
        devLink: c.invite ? inviteUrl(publicUrl, c.invite.token) : undefined,
      });
      return 'sent';
    },
  };
}
