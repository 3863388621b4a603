import { pino, stdSerializers, type Logger } from 'pino';

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

/** JSON logs on stdout; the CLI passes fd 2 so its own output stays clean. */
export function createLogger(level: string, opts: { name?: string; fd?: 1 | 2 } = {}): Logger {
  return pino({ name: opts.name ?? 'roster', level, redact, serializers }, pino.destination(opts.fd ?? 1));
}
