import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import nodemailer from 'nodemailer';
import type { Logger } from '../logger.js';

export type EmailMessage = {
  to: string;
  subject: string;
  text: string;
  html: string;
  /** Stable per notification, so a rare duplicate send is recognizable as the same message. */
  messageId: string;
  /** Logged in development (outbox) mode only, so a developer can click it. */
  devLink?: string | undefined;
};

export type Mailer = { send: (m: EmailMessage) => Promise<void>; mode: 'smtp' | 'outbox'; close: () => void };

/**
 * SMTP through nodemailer when SMTP_URL is set. Without it (development), each message is written
 * as an .eml file into the outbox folder and its link is logged.
 */
/**
 * Bounded SMTP waits. nodemailer's defaults (2 min to connect, 10 min of socket silence) outlast the
 * outbox claim's 2-minute lease: a hung server would let another worker re-claim and re-send the
 * message meanwhile. Failing sooner means the outbox retries it with backoff instead. Options in
 * SMTP_URL's query string (e.g. ?socketTimeout=…) still take precedence.
 */
export const SMTP_TIMEOUTS = { connectionTimeout: 20_000, greetingTimeout: 15_000, socketTimeout: 60_000 };

export function createMailer(opts: {
  smtpUrl?: string | undefined;
  from: string;
  outboxDir: string;
  /** In production an invite link (a credential) is never written to the log. */
  production?: boolean;
  log: Logger;
  timeouts?: Partial<typeof SMTP_TIMEOUTS>;
}): Mailer {
  if (opts.smtpUrl) {
    const transport = nodemailer.createTransport({ url: opts.smtpUrl, ...SMTP_TIMEOUTS, ...opts.timeouts }, { from: opts.from });
    return {
      mode: 'smtp',
      send: async (m) => {
        await transport.sendMail({ from: opts.from, to: m.to, subject: m.subject, text: m.text, html: m.html, messageId: m.messageId });
      },
      close: () => transport.close(),
    };
  }
  const writer = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  return {
    mode: 'outbox',
    send: async (m) => {
      const info = await writer.sendMail({ from: opts.from, to: m.to, subject: m.subject, text: m.text, html: m.html, messageId: m.messageId });
      await mkdir(opts.outboxDir, { recursive: true });
      const file = path.join(opts.outboxDir, `${new Date().toISOString().replace(/[:.]/g, '-')}-${m.messageId.replace(/[^a-z0-9]+/gi, '_').slice(0, 60)}.eml`);
      await writeFile(file, info.message as Buffer);
      opts.log.info({ to: m.to, file, ...(m.devLink && !opts.production ? { link: m.devLink } : {}) }, `email written to the outbox (no SMTP_URL): ${m.subject}`);
    },
    close: () => writer.close(),
  };
}
