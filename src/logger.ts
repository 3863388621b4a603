import { pino, type Logger } from 'pino';

export type { Logger };

/** Invite tokens and secrets must never reach a log line. */
const redact = {
  paths: ['token', '*.token', 'req.headers.authorization', 'headers.authorization', 'password', '*.password'],
  censor: '[redacted]',
};

/** JSON logs on stdout; the CLI passes fd 2 so its own output stays clean. */
export function createLogger(level: string, opts: { name?: string; fd?: 1 | 2 } = {}): Logger {
  return pino({ name: opts.name ?? 'roster', level, redact }, pino.destination(opts.fd ?? 1));
}
