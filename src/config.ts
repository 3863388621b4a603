import { Resolver } from 'node:dns/promises';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseEnv } from 'node:util';
import { z } from 'zod';

/** The project's folder (this file is in src/ or dist/): `.env` and a relative DATA_DIR are found from here. */
export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * Every setting Roster reads, parsed once. This is the only module that touches process.env;
 * everything else receives a Config.
 */
const optionalString = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .optional();

const schema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default('0.0.0.0'),
  PUBLIC_URL: optionalString,
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATABASE_URL: optionalString,
  DATA_DIR: z.string().default('.data'),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  MEMBERSHIP_MODE: z.enum(['multi', 'single']).default('multi'),
  /** Who an invite made from the CLI (or by an API key) says invited you. */
  OPERATOR_NAME: z.string().trim().min(1).max(80).optional(),
  APP_SECRET: optionalString.refine((v) => v === undefined || v.length >= 32, {
    message: 'APP_SECRET must be at least 32 characters (e.g. `openssl rand -hex 32`).',
  }),
  SMTP_URL: optionalString,
  SMTP_FROM: z.string().trim().default('Roster <roster@localhost>'),
  OUTBOX_DIR: optionalString,
  EMAIL_FILE_OUTBOX: z.enum(['true', 'false']).default('false'),
  ROSTER_ROLE: z.enum(['all', 'web', 'worker']).default('all'),
  SLACK_SIGNING_SECRET: optionalString,
  SLACK_BOT_TOKEN: optionalString,
  SLACK_APP_TOKEN: optionalString,
  SLACK_API_URL: optionalString,
  SLACK_CLIENT_ID: optionalString,
  SLACK_CLIENT_SECRET: optionalString,
  SLACK_TRUSTED_TEAMS: z
    .string()
    .optional()
    .transform((v) =>
      (v ?? '')
        .split(',')
        .map((t) => t.trim())
        .filter(Boolean),
    )
    .refine((ids) => ids.every((t) => /^[TE][A-Z0-9]{2,}$/.test(t)), {
      message: 'list Slack workspace ids (T…) or Enterprise Grid ids (E…), separated by commas, e.g. T0123ABCD,E0456EFGH',
    }),
  HTTP_HEADERS_TIMEOUT_MS: z.coerce.number().int().min(1000).max(600_000).default(10_000),
  HTTP_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(1000).max(3_600_000).default(30_000),
  HTTP_KEEP_ALIVE_TIMEOUT_MS: z.coerce.number().int().min(1000).max(600_000).default(5_000),
  HTTP_MAX_CONNECTIONS: z.coerce.number().int().min(10).max(1_000_000).default(2_000),
  TRUST_PROXY: optionalString.refine((v) => v === undefined || !/^true$/i.test(v), {
    message:
      'TRUST_PROXY=true would believe any X-Forwarded-For a client sends (and defeat the per-address limits). Give the number of proxies in front of Roster (e.g. 1) or their addresses (e.g. 10.0.0.0/8).',
  }),
  SCIM_RATE_LIMIT: z.coerce.number().int().min(0).max(10_000_000).default(600),
  SCIM_AUTH_FAILURE_LIMIT: z.coerce.number().int().min(0).max(1_000_000).default(30),
  API_RATE_LIMIT: z.coerce.number().int().min(0).max(10_000_000).default(6000),
  EVENT_RETENTION_DAYS: z.preprocess(
    (v) => (typeof v === 'string' && v.trim() === '' ? undefined : v),
    z.coerce.number().int().min(30, { error: 'keep events at least 30 days (the API promises a month of events to poll)' }).max(36_500).optional(),
  ),
  INVITE_PAGE_RATE_LIMIT: z.coerce.number().int().min(0).max(10_000_000).default(120),
  DNS_SERVERS: optionalString,
  WEBHOOKS_ALLOW_PRIVATE: z
    .enum(['true', 'false'], { error: 'WEBHOOKS_ALLOW_PRIVATE is true or false' })
    .optional()
    .transform((v) => v === 'true'),
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(1_000).max(15_000).default(15_000),
  METRICS_TOKEN: optionalString.refine((v) => v === undefined || v.length >= 16, { message: 'METRICS_TOKEN must be at least 16 characters.' }),
});

export type Config = {
  env: 'development' | 'production' | 'test';
  port: number;
  host: string;
  publicUrl: string;
  logLevel: z.infer<typeof schema>['LOG_LEVEL'];
  databaseUrl: string | undefined;
  dataDir: string;
  databasePoolSize: number;
  membershipMode: 'multi' | 'single';
  /** Named as the inviter of invites the CLI or an API key makes (default: the org's name). */
  operatorName: string | undefined;
  /** Signs invite links. Without it, a secret is generated once and kept in DATA_DIR. */
  appSecret: string | undefined;
  email: {
    /** smtp(s)://user:pass@host:port; without it, messages are written as .eml files to outboxDir. */
    smtpUrl: string | undefined;
    from: string;
    outboxDir: string;
    /** Production without SMTP_URL writes emails (invite links) to files only when this is set. */
    allowFileOutbox: boolean;
  };
  /** all: web and jobs in one process; web: HTTP only; worker: jobs only. */
  role: 'all' | 'web' | 'worker';
  /** Limits that keep slow or idle clients from holding the process (see README, Security). */
  http: {
    /** A client must send all request headers within this. */
    headersTimeoutMs: number;
    /** …and the whole request (headers and body) within this. */
    requestTimeoutMs: number;
    /** An idle keep-alive connection is closed after this; behind a load balancer, set it above the balancer's idle timeout. */
    keepAliveTimeoutMs: number;
    /** Connections beyond this many at once are refused. */
    maxConnections: number;
  };
  /** express `trust proxy` (README): undefined = the socket's address is the client's. */
  trustProxy: boolean | number | string | undefined;
  /** Per-process limits; 0 turns one off. */
  rateLimits: { scimPerTokenPerMinute: number; authFailuresPerMinute: number; invitePagePerMinute: number; apiPerKeyPerMinute: number };
  /** How long events (the audit log, the API's feed) are kept, at least 30 days; undefined: for ever. */
  eventRetentionDays: number | undefined;
  /** DNS servers for domain verification (e.g. 127.0.0.1:5353); undefined = the system's resolvers. */
  dnsServers: string[] | undefined;
  /** Webhooks may reach private, loopback and link-local addresses (tests, intranet receivers): off by default. */
  webhooksAllowPrivate: boolean;
  /** The bound on one webhook attempt (at most 15 s, the default). */
  webhookTimeoutMs: number;
  /** When set, GET /metrics requires `Authorization: Bearer <token>`. */
  metricsToken: string | undefined;
  slack: {
    signingSecret: string | undefined;
    botToken: string | undefined;
    appToken: string | undefined;
    apiUrl: string | undefined;
    /** With the client secret: distribution (OAuth installs into many workspaces) instead of one bot token. */
    clientId: string | undefined;
    clientSecret: string | undefined;
    /**
     * Distribution: workspaces (T…) and Grids (E…) whose Slack emails Roster takes at their word; people
     * anywhere else confirm their address by an emailed link before Roster links them. (One workspace
     * mode trusts its own workspace.)
     */
    trustedTeams: string[];
  };
};

export class ConfigError extends Error {}

/**
 * The environment with the project's `.env` under it: a variable set in the real environment wins over
 * the file's. No file: the environment as it is.
 */
export function withDotEnv(env: NodeJS.ProcessEnv, root = PROJECT_ROOT): NodeJS.ProcessEnv {
  const file = path.join(root, '.env');
  if (!existsSync(file)) return env;
  let fromFile: NodeJS.Dict<string>;
  try {
    fromFile = parseEnv(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(`Invalid configuration:\n  ${file}: cannot be read (${(err as Error).message}).`);
  }
  return { ...fromFile, ...env };
}

/**
 * Roster's settings from `env`. With `dotenv` (the server and the CLI), the project's `.env` is read
 * under it. Relative folders (DATA_DIR, OUTBOX_DIR) are taken from the project's folder, not the
 * current one, so `cd src && npx roster …` finds the same database as `npm start`.
 */
export function loadConfig(given: NodeJS.ProcessEnv = process.env, opts: { dotenv?: boolean; root?: string } = {}): Config {
  const root = opts.root ?? PROJECT_ROOT;
  const env = opts.dotenv ? withDotEnv(given, root) : given;
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  if (!!e.SLACK_CLIENT_ID !== !!e.SLACK_CLIENT_SECRET) {
    throw new ConfigError(
      `Invalid configuration:\n  ${e.SLACK_CLIENT_ID ? 'SLACK_CLIENT_SECRET' : 'SLACK_CLIENT_ID'}: installing into many workspaces needs both SLACK_CLIENT_ID and SLACK_CLIENT_SECRET (Basic Information in your Slack app's settings).`,
    );
  }
  if (e.SLACK_CLIENT_ID && e.SLACK_APP_TOKEN) {
    throw new ConfigError(
      'Invalid configuration:\n  SLACK_APP_TOKEN: Socket Mode serves one workspace; installing into many workspaces (SLACK_CLIENT_ID) needs HTTP events. Unset one of them.',
    );
  }
  if (e.NODE_ENV === 'production' && !e.APP_SECRET) {
    throw new ConfigError('Invalid configuration:\n  APP_SECRET: required in production, and the same on every Roster process.');
  }
  return {
    env: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    publicUrl: (e.PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, ''),
    logLevel: e.LOG_LEVEL,
    databaseUrl: e.DATABASE_URL,
    dataDir: path.resolve(root, e.DATA_DIR),
    databasePoolSize: e.DATABASE_POOL_SIZE,
    membershipMode: e.MEMBERSHIP_MODE,
    operatorName: e.OPERATOR_NAME,
    appSecret: e.APP_SECRET,
    email: {
      smtpUrl: e.SMTP_URL,
      from: e.SMTP_FROM,
      outboxDir: path.resolve(root, e.OUTBOX_DIR ?? path.join(e.DATA_DIR, 'outbox')),
      allowFileOutbox: e.EMAIL_FILE_OUTBOX === 'true',
    },
    role: e.ROSTER_ROLE,
    http: {
      headersTimeoutMs: e.HTTP_HEADERS_TIMEOUT_MS,
      requestTimeoutMs: Math.max(e.HTTP_REQUEST_TIMEOUT_MS, e.HTTP_HEADERS_TIMEOUT_MS),
      keepAliveTimeoutMs: e.HTTP_KEEP_ALIVE_TIMEOUT_MS,
      maxConnections: e.HTTP_MAX_CONNECTIONS,
    },
    trustProxy: parseTrustProxy(e.TRUST_PROXY),
    rateLimits: {
      scimPerTokenPerMinute: e.SCIM_RATE_LIMIT,
      authFailuresPerMinute: e.SCIM_AUTH_FAILURE_LIMIT,
      invitePagePerMinute: e.INVITE_PAGE_RATE_LIMIT,
      apiPerKeyPerMinute: e.API_RATE_LIMIT,
    },
    dnsServers: parseDnsServers(e.DNS_SERVERS),
    webhooksAllowPrivate: e.WEBHOOKS_ALLOW_PRIVATE,
    webhookTimeoutMs: e.WEBHOOK_TIMEOUT_MS,
    eventRetentionDays: e.EVENT_RETENTION_DAYS,
    metricsToken: e.METRICS_TOKEN,
    slack: {
      signingSecret: e.SLACK_SIGNING_SECRET,
      botToken: e.SLACK_BOT_TOKEN,
      appToken: e.SLACK_APP_TOKEN,
      apiUrl: e.SLACK_API_URL,
      clientId: e.SLACK_CLIENT_ID,
      clientSecret: e.SLACK_CLIENT_SECRET,
      trustedTeams: e.SLACK_TRUSTED_TEAMS,
    },
  };
}

/** TRUST_PROXY: false, a hop count (1), or addresses/subnets (loopback, 10.0.0.0/8), as express takes them. */
function parseTrustProxy(v: string | undefined): boolean | number | string | undefined {
  if (v === undefined) return undefined;
  if (/^false$/i.test(v)) return false;
  if (/^\d+$/.test(v)) return Number(v);
  return v;
}

/** DNS_SERVERS: comma-separated addresses with optional ports (1.1.1.1, 127.0.0.1:5353, [::1]:53). */
function parseDnsServers(v: string | undefined): string[] | undefined {
  if (v === undefined) return undefined;
  const servers = v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  try {
    new Resolver().setServers(servers);
  } catch {
    throw new ConfigError(
      `Invalid configuration:\n  DNS_SERVERS: give IP addresses with optional ports, comma-separated (e.g. 127.0.0.1:5353,1.1.1.1), not "${v.slice(0, 80)}".`,
    );
  }
  return servers.length ? servers : undefined;
}
