import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { waitFor } from './wait.js';

export type ReceivedMail = {
  /** Envelope (what the SMTP client said in MAIL FROM / RCPT TO). */
  envelopeFrom: string;
  envelopeTo: string[];
  raw: string;
  parsed: ParsedMail;
  subject: string;
  text: string;
  html: string;
  messageId: string;
  /** The From header's address and display name. */
  from: { address: string; name: string };
  to: string;
};

/**
 * A real SMTP server (npm `smtp-server`) on 127.0.0.1 with a random port, collecting what it receives.
 * "SMTP down" two ways: `down()` closes the listening socket (connections are refused) and `up()`
 * listens again on the same port; `rejecting = true` keeps it up but answers 451 to every message.
 */
export class TestSmtp {
  messages: ReceivedMail[] = [];
  /** While true, every message is refused with a temporary failure (451). */
  rejecting = false;
  /** Messages refused while rejecting. */
  refused = 0;
  port = 0;
  private server: SMTPServer | undefined;

  get url(): string {
    return `smtp://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    await this.listen(0);
  }

  /** Stops listening: new connections are refused until up(). */
  async down(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    await new Promise<void>((r) => s.close(() => r()));
  }

  /** Listens again on the same port. */
  async up(): Promise<void> {
    if (this.server) return;
    await this.listen(this.port);
  }

  stop(): Promise<void> {
    return this.down();
  }

  /** Messages sent to this address (case-insensitive). */
  to(address: string): ReceivedMail[] {
    return this.messages.filter((m) => m.envelopeTo.some((t) => t.toLowerCase() === address.toLowerCase()));
  }

  waitFor<T>(find: () => T | undefined | false, what: string, timeoutMs = 10_000): Promise<T> {
    return waitFor(find, what, { timeoutMs, describe: () => `Received: ${this.messages.map((m) => `${m.to}: ${m.subject}`).join('; ') || 'nothing'}` });
  }

  private async listen(port: number): Promise<void> {
    const server = new SMTPServer({
      // Plain SMTP on loopback: no STARTTLS (its default certificate is self-signed), no auth.
      disabledCommands: ['STARTTLS', 'AUTH'],
      authOptional: true,
      logger: false,
      // down() must not wait long for a lingering client connection.
      closeTimeout: 300,
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          if (this.rejecting) {
            this.refused++;
            const err = Object.assign(new Error('Mailbox temporarily unavailable, try again later'), { responseCode: 451 });
            callback(err);
            return;
          }
          const raw = Buffer.concat(chunks).toString('utf8');
          simpleParser(raw).then(
            (parsed) => {
              this.messages.push({
                envelopeFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
                envelopeTo: session.envelope.rcptTo.map((r) => r.address),
                raw,
                parsed,
                subject: parsed.subject ?? '',
                text: parsed.text ?? '',
                html: typeof parsed.html === 'string' ? parsed.html : '',
                messageId: parsed.messageId ?? '',
                from: { address: parsed.from?.value[0]?.address ?? '', name: parsed.from?.value[0]?.name ?? '' },
                to: Array.isArray(parsed.to) ? parsed.to.map((a) => a.text).join(', ') : (parsed.to?.text ?? ''),
              });
              callback();
            },
            (err: Error) => callback(err),
          );
        });
      },
    });
    server.on('error', () => {});
    await new Promise<void>((resolve, reject) => {
      server.server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.server.off('error', reject);
        resolve();
      });
    });
    this.port = (server.server.address() as AddressInfo).port;
    this.server = server;
  }
}
