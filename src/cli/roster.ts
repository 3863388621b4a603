import { capitalized } from '../shared/text.js';
import { loadConfig, ConfigError } from '../config.js';
import { openDatabase } from '../db/open.js';
import { aRole, credentialRoles, defaultRole, oneWhoMay, roleList, whoMay } from '../domain/access.js';
import { isDomainError, isInvalidDataError, type Hint } from '../domain/errors.js';
import { textProblem, withoutUnsafeCharacters } from '../domain/validation.js';
import { createLogger } from '../logger.js';
import { createRosterDomain } from '../wiring.js';
import { audit } from './commands/audit.js';
import { domain } from './commands/domain.js';
import { importCommand } from './commands/import.js';
import { invite, invites } from './commands/invites.js';
import { members } from './commands/members.js';
import { org } from './commands/org.js';
import { scim } from './commands/scim.js';
import { apiKey } from './commands/api-key.js';
import { webhooks } from './commands/webhooks.js';
import { type Command, type Out, UsageError } from './context.js';
import { parseFlags } from './flags.js';

const usage = `Roster — manage organizations from the command line.

Usage:
  roster org create <name> --owner <email> [--slug <url-name>] [--owner-name <name>]
  roster org list
  roster org settings <org> [--invite-expiry 72h|7d|14d|30d|never] [--reminders 72,24|none]
                            [--seat-limit <n>|none]    shows the settings; flags change them (${whoMay('org:update')})
  roster org rename <org> <new name>                the URL name stays
  roster org delete <org> --confirm "<name>"        ends every member's access; the audit trail stays
  roster members <org>
  roster members role <org> <email> <role> [--force]    --force overrides what the IdP manages
  roster members remove <org> <email> [--force]
  roster members billing <org> <email> on|off
  roster members transfer <org> <email> --as <primary owner's email>
  roster invite <org> <email…> [--role <role>] [--billing-emails] [--as <email>]
  roster invites <org>
  roster invites revoke|resend <org> <email>
  roster invites update <org> <email> [--role <role>] [--billing-emails on|off]
  roster import <org> <file.csv> [--dry-run] [--role <role>] [--billing-emails] [--as <email>]
                                 invites the file's rows (columns email, role, billing_emails, name);
                                 --dry-run tells what each row would do; failed rows go to <file>.failed.csv
  roster audit <org> [--action <action>] [--since 7d|<date>] [--until 24h|<date>] [--actor <email|id>]
                     [--target-type <type>] [--target-id <id>] [--limit <n>] [--format table|jsonl|csv]
  roster scim token create <org> [--name <name>]    prints the new token alone on its last line
  roster scim token list <org>
  roster scim token rotate <org> <name>             the old token keeps working for 24 hours
  roster scim token revoke <org> <name>
  roster scim map <org> "<group>" <role>            members of that IdP group get the role
  roster scim unmap <org> "<group>"
  roster scim default-role <org> <role>             the role of people the IdP adds in no mapped group
  roster scim allow-owner <org> on|off              whether a group mapped to owner makes owners
  roster domain add <org> <domain>                  prints the DNS TXT record that proves it
  roster domain list <org>
  roster domain verify <org> <domain>               checks the record now (exit code 1 while not found)
  roster domain remove <org> <domain>
  roster domain enrollment <org> <domain> off|suggest|auto-join [role]
  roster api-key create <org> [--name <name>] [--scope read|write]   the key alone on its last line
  roster api-key create --operator [--name <name>]  a key for the product's backend: every org
  roster api-key list|rotate|revoke <org>|--operator [<name>]         rotate: the old key works 24 hours
  roster webhooks list <org>                        its endpoints, with the short ids commands take
  roster webhooks create <org> <url> [--events a,b] [--description <text>]   the secret alone on its last line
  roster webhooks update <org> <id|url> [--url <url>] [--events a,b|all] [--description <text>]
  roster webhooks enable|disable|delete <org> <id|url>
  roster webhooks rotate <org> <id|url>             new secret on its last line; the old one signs 24 hours more
  roster webhooks replay <org> <id|url> --since 24h|7d|<date>   failed and missed events, sent again
  roster webhooks deliveries <org> <id|url> [--limit <n>]

<org> is an organization's URL name (slug) or id. Commands act as the operator, with
${aRole(credentialRoles.system)}'s rights, and are audited as "Operator (roster CLI)"; --as <email> acts as that member instead. Roles: ${roleList()}.
Settings come from the environment (see .env.example); with no DATABASE_URL the CLI uses the local
embedded PostgreSQL in DATA_DIR, whether or not \`npm start\` is running.`;

const commands: Record<string, Command> = { org, members, invite, invites, import: importCommand, audit, scim, domain, 'api-key': apiKey, webhooks };

/** The domain's hints as commands here; where the CLI has no such command, the Slack one. */
const cliHints: Record<Hint, string> = {
  list_orgs: '`roster org list` shows them all.',
  switch_org: 'Name the organization in the command (its URL name or id).',
  create_or_join_org: 'Create one with `roster org create <name> --owner <email>`.',
  transfer_primary: 'Transfer it first: `roster members transfer <org> <email> --as <primary owner>`.',
  scim_allow_owner: `${capitalized(oneWhoMay('scim:manage'))} can allow it: \`roster scim allow-owner <org> on\`.`,
  scim_default_role: `${capitalized(oneWhoMay('scim:manage'))} can change it: \`roster scim default-role <org> ${defaultRole}\`.`,
  list_scim_tokens: '`roster scim token list <org>` lists them.',
};

/** The domain's input fields as the flags that set them here. */
const flagOf: Record<string, string> = {
  reminderHours: '--reminders',
  inviteExpiry: '--invite-expiry',
  seatLimit: '--seat-limit',
  role: '--role',
  billingEmails: '--billing-emails',
  slug: '--slug',
  name: 'the name',
  events: '--events',
  url: 'the URL',
  description: '--description',
  since: '--since',
  until: '--until',
  scope: '--scope',
};

/** "reminderHours.1: …" (a field path, for surfaces that cannot point at a field) → "--reminders (value 2): …". */
function inFlagWords(message: string, field: string | undefined): string {
  if (!field) return message;
  const [head, index] = field.split('.');
  const flag = flagOf[head!];
  if (!flag || !message.startsWith(`${field}: `)) return message;
  return `${flag}${index !== undefined && /^\d+$/.test(index) ? ` (value ${Number(index) + 1})` : ''}: ${message.slice(field.length + 2)}`;
}

/**
 * Runs one command and returns its exit code: 0 done, 1 refused or failed (the message says why),
 * 2 wrong usage. Errors are written with out.error, never thrown, so callers (main, tests) see the same.
 */
export async function run(argv: string[], out: Out, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  try {
    return await execute(argv, out, env);
  } catch (err) {
    if (isDomainError(err)) {
      const message = inFlagWords(err.message, err.field);
      out.error(err.hint ? `${message} ${cliHints[err.hint]}` : message);
      return 1;
    }
    if (err instanceof UsageError || err instanceof ConfigError) {
      out.error(err.message);
      return err instanceof UsageError ? 2 : 1;
    }
    if (isInvalidDataError(err)) {
      out.error('Roster cannot store that: an argument holds a character Roster does not accept, or a number out of range. Nothing was changed.');
      return 1;
    }
    if (err instanceof TypeError && (err as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) {
      out.error(`${argumentsInWords(err)} \`roster help\` lists every command and its options.`);
      return 2;
    }
    out.error(`Roster failed: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}

/** Node's parseArgs messages ("Unknown option '--x'. To specify a positional argument…") in a few words. */
function argumentsInWords(err: Error): string {
  const unknown = /^Unknown option '([^']+)'/.exec(err.message);
  if (unknown) return `There is no option ${unknown[1]}.`;
  // "Option '--role <value>' argument missing", "Option '--actor' argument is ambiguous" (a flag came next).
  const missing = /^Option '(?:-\w, )?(--[a-z-]+)[^']*' argument (?:missing|is ambiguous)/.exec(err.message);
  if (missing) return `${missing[1]} needs a value after it.`;
  const unexpected = /^Option '(?:-\w, )?(--[a-z-]+)' does not take an argument/.exec(err.message);
  if (unexpected) return `${unexpected[1]} takes no value.`;
  return err.message;
}

/**
 * Arguments are held to the domain's character rule before anything runs (the domain checks each
 * field again). New lines and tabs may stay: a list of emails can come from a file.
 */
function checkArguments(argv: string[]): void {
  for (const [i, arg] of argv.entries()) {
    const problem = textProblem(arg, 'multiline');
    if (problem)
      throw new UsageError(`Argument ${i + 1} ("${withoutUnsafeCharacters(arg, 'multiline').slice(0, 40)}") contains ${problem}. Remove it and try again.`);
  }
}

async function execute(argv: string[], out: Out, env: NodeJS.ProcessEnv): Promise<number> {
  checkArguments(argv);
  const { values: flags, positionals } = parseFlags(argv);
  const [command, ...args] = positionals;
  if (!command || flags.help || command === 'help') {
    out.print(usage);
    return 0;
  }

  const config = loadConfig(env, { dotenv: true });
  const log = createLogger(env.LOG_LEVEL ?? 'warn', { fd: 2 });
  const database = await openDatabase(config, log, { poolSize: 2 });
  const domain = createRosterDomain(config, { db: database.db, onBackgroundError: (err, what) => log.warn({ err }, what) });
  try {
    const handler = Object.hasOwn(commands, command) ? commands[command] : undefined;
    if (!handler) throw new UsageError(`Unknown command "${command}".\n\n${usage}`);
    return await handler({ domain, flags, out, publicUrl: config.publicUrl }, args);
  } finally {
    // The events this run committed get their numbers (and webhook deliveries) before it exits.
    await domain.feed.idle();
    await database.shutdown();
  }
}

export async function main(argv = process.argv.slice(2)): Promise<void> {
  const out: Out = { print: (s) => console.log(s), error: (s) => console.error(s) };
  process.exitCode = await run(argv, out);
}
