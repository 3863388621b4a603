import { isatty } from 'node:tty';
import { pino, stdSerializers, type Logger } from 'pino';
import prettyStream from 'pino-pretty';

export type { Logger };

/** Invite tokens and secrets must never reach a log line. */
const redact = {
  paths: ['token', '*.token', 'req.headers.authorization', 'headers.authorization', 'password', '*.password'],
  censor: '[redacted]',
};

/**
 * Errors as log fields, without the personal data some carry: email addresses anywhere in a message: drizzle puts a failed query's parameters
 * (emails, names) into its message and `params`, and PostgreSQL's `detail` quotes the values of a
 * violated key ("Key (email)=(ana@…) already exists"). An id in the message around it is enough to find
 * the thing; the code and constraint say what went wrong.
 */
export function scrubError(value: unknown): unknown {
  if (typeof value === 'string') return scrubMessage(value);
  if (!(value instanceof Error)) return value;
  const out = stdSerializers.err(value) as unknown as Record<string, unknown>;
  out.message = scrubMessage(String(out.message ?? ''));
  if (typeof out.stack === 'string') out.stack = scrubMessage(out.stack);
  for (const key of ['params', 'detail', 'where', 'parameters', 'values']) delete out[key];
  const cause = (value as { cause?: unknown }).cause;
  if (cause !== undefined) out.cause = scrubError(cause);
  return out;
}

/** A message or text without a failed query's parameters. */
export function scrubMessage(message: string): string {
  return (
    message
      // drizzle: "Failed query: <sql>\nparams: <values>"
      .replace(/\nparams: [\s\S]*?(?=\n {4}at |$)/, '\nparams: [not logged]')
      // An SMTP server's refusal quotes the recipient ("550 5.1.1 <ana@…>: Recipient address rejected").
      .replace(/[^\s<>()"',;:@]+@[^\s<>()"',;:@]+\.[a-z]{2,}/gi, '[email]')
  );
}

const serializers = { err: scrubError, error: scrubError };

/**
 * Logs on stdout (the CLI passes fd 2 so its own output stays clean): JSON lines, for a process manager
 * or a log shipper, unless the stream is a terminal, where a person reads them (pino-pretty: one
 * coloured line each). `pretty` forces either; redaction and error scrubbing apply to both.
 */
export function createLogger(level: string, opts: { name?: string; fd?: 1 | 2; pretty?: boolean } = {}): Logger {
  const fd = opts.fd ?? 1;
  const options = { name: opts.name ?? 'roster', level, redact, serializers };
  const pretty = opts.pretty ?? isatty(fd);
  if (!pretty) return pino(options, pino.destination(fd));
  return pino(options, prettyStream({ destination: fd, sync: true, colorize: isatty(fd), ignore: 'pid,hostname,name', translateTime: 'SYS:HH:MM:ss' }));
}
