import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import nodemailer from 'nodemailer';
import type { Logger } from '../logger.js';

type EmailMessage = {
  to: string;
  subject: string;
  text: string;
  html: string;
  /** Stable per notification, so a rare duplicate send is recognizable as the same message. */
  messageId: string;
  /** Logged in development (outbox) mode only, so a developer can click it. */
  devLink?: string | undefined;
};

export type Mailer = {
  send: (m: EmailMessage) => Promise<void>;
  mode: 'smtp' | 'outbox';
  /** The longest one send() can take before it fails: the outbox's claim on a message outlasts it. */
  maxSendMs: number;
  close: () => void;
};

/**
 * SMTP through nodemailer when SMTP_URL is set. Without it (development), each message is written
 * as an .eml file into the outbox folder (its link is logged at debug level, never in production).
 */
/**
 * Bounded SMTP waits. nodemailer's defaults (2 min to connect, 10 min of socket silence) outlast the
 * outbox claim's 2-minute lease: a hung server would let another worker re-claim and re-send the
 * message meanwhile. Failing sooner means the outbox retries it with backoff instead. Options in
 * SMTP_URL's query string (e.g. ?socketTimeout=…) still take precedence.
 */
export const SMTP_TIMEOUTS = { connectionTimeout: 20_000, greetingTimeout: 15_000, socketTimeout: 60_000 };

/**
 * The whole of one send (connect, greeting, every command, the message), however the server paces its
 * answers: socketTimeout only bounds each silence, so a server answering every command just in time
 * could stretch a send past the outbox's claim. At the deadline the connection is closed and the send
 * fails (the outbox retries it later).
 */
export const SMTP_SEND_DEADLINE_MS = 90_000;

/** Writing a development email to a file is quick; a stuck disk is given this long. */
const FILE_SEND_MAX_MS = 10_000;

export function createMailer(opts: {
  smtpUrl?: string | undefined;
  from: string;
  outboxDir: string;
  /** In production an invite link (a credential) is never written to the log, nor to a file unless allowed. */
  production?: boolean;
  /** Production only: write emails to outboxDir although there is no SMTP server (explicitly configured). */
  allowFileOutbox?: boolean | undefined;
  log: Logger;
  timeouts?: Partial<typeof SMTP_TIMEOUTS>;
  sendDeadlineMs?: number;
}): Mailer {
  if (opts.smtpUrl) {
    const transport = nodemailer.createTransport({ url: opts.smtpUrl, ...SMTP_TIMEOUTS, ...opts.timeouts }, { from: opts.from });
    const deadlineMs = opts.sendDeadlineMs ?? SMTP_SEND_DEADLINE_MS;
    return {
      mode: 'smtp',
      maxSendMs: deadlineMs,
      send: async (m) => {
        // nodemailer closes the connection when the signal fires and fails the send.
        const signal = AbortSignal.timeout(deadlineMs);
        await transport.sendMail({ from: opts.from, to: m.to, subject: m.subject, text: m.text, html: m.html, messageId: m.messageId, signal });
      },
      close: () => transport.close(),
    };
  }
  if (opts.production && !opts.allowFileOutbox) {
    // Every invite email carries a link that lets its holder join: in production such files appear
    // only when someone asked for them.
    throw new Error(
      'No SMTP_URL is set, and in production Roster does not write emails (invite links) to files unless told to. Set SMTP_URL, or allow the file outbox explicitly (see README, Configuration).',
    );
  }
  const writer = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  return {
    mode: 'outbox',
    maxSendMs: FILE_SEND_MAX_MS,
    send: async (m) => {
      const info = await writer.sendMail({ from: opts.from, to: m.to, subject: m.subject, text: m.text, html: m.html, messageId: m.messageId });
      // The files hold invite links (credentials): the folder and each file are the owner's only,
      // including a folder that existed before with wider permissions.
      await mkdir(opts.outboxDir, { recursive: true, mode: 0o700 });
      await chmod(opts.outboxDir, 0o700);
      const file = path.join(opts.outboxDir, `${new Date().toISOString().replace(/[:.]/g, '-')}-${m.messageId.replace(/[^a-z0-9]+/gi, '_').slice(0, 60)}.eml`);
      await writeFile(file, info.message as Buffer, { mode: 0o600, flag: 'wx' });
      // An id is enough at info: no address, no name (the subject has the org's), no link (a
      // credential). Developers see the link at debug level, outside production.
      opts.log.info({ file }, 'email written to the outbox (no SMTP_URL)');
      if (m.devLink && !opts.production) opts.log.debug({ file, link: m.devLink }, "the email's link (development only)");
    },
    close: () => writer.close(),
  };
}
