import { parseArgs } from 'node:util';
import { loadConfig, ConfigError } from '../config.js';
import { openDatabase } from '../db/open.js';
import { createDomain, type Domain } from '../domain/index.js';
import { accountActor, systemActor, systemClock, type Actor } from '../domain/context.js';
import { isDomainError, isInvalidDataError } from '../domain/errors.js';
import { textProblem, withoutUnsafeCharacters } from '../domain/validation.js';
import { inviteUrl } from '../domain/invites.js';
import { roleLabels } from '../domain/access.js';
import type { OrgRow } from '../db/schema.js';
import { settingsView } from '../domain/orgs.js';
import { createLogger } from '../logger.js';
import { appSecret, deriveKey } from '../secrets.js';
import { table, when } from './table.js';

const usage = `Roster — manage organizations from the command line.

Usage:
  roster org create <name> --owner <email> [--slug <url-name>] [--owner-name <name>]
  roster org list
  roster org settings <org> [--invite-expiry 72h|7d|14d|30d|never] [--reminders 72,24|none]
                            [--seat-limit <n>|none]    shows the settings; flags change them (owners)
  roster members <org>
  roster invite <org> <email…> [--role <role>] [--billing-emails] [--as <email>]
  roster invites <org>
  roster audit <org> [--action <action>] [--since <date>] [--until <date>] [--actor <id>]
                     [--target-type <type>] [--target-id <id>] [--limit <n>] [--format table|jsonl|csv]
  roster scim token create <org> [--name <name>]    prints the new token alone on its last line
  roster scim token list <org>
  roster scim token rotate <org> <name>             the old token keeps working for 24 hours
  roster scim token revoke <org> <name>
  roster scim map <org> "<group>" <role>            members of that IdP group get the role
  roster scim unmap <org> "<group>"

<org> is an organization's URL name (slug) or id. Commands act as the operator, with an owner's
rights, and are audited as "Operator (roster CLI)"; --as <email> acts as that member instead. Roles: owner, admin, billing, developer, member.
Settings come from the environment (see .env.example); with no DATABASE_URL the CLI uses the local
embedded PostgreSQL in DATA_DIR, whether or not \`npm start\` is running.`;

class UsageError extends Error {}

type Out = { print: (s: string) => void; error: (s: string) => void };

/**
 * Runs one command and returns its exit code: 0 done, 1 refused or failed (the message says why),
 * 2 wrong usage. Errors are written with out.error, never thrown, so callers (main, tests) see the same.
 */
export async function run(argv: string[], out: Out, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  try {
    return await execute(argv, out, env);
  } catch (err) {
    if (isDomainError(err) || err instanceof UsageError || err instanceof ConfigError) {
      out.error(err.message);
      return err instanceof UsageError ? 2 : 1;
    }
    if (isInvalidDataError(err)) {
      out.error('Roster cannot store that: an argument holds a character Roster does not accept, or a number out of range. Nothing was changed.');
      return 1;
    }
    if (err instanceof TypeError && (err as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) {
      out.error(`${err.message}\n\n${usage}`);
      return 2;
    }
    out.error(`Roster failed: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}

/**
 * Arguments are held to the domain's character rule before anything runs (the domain checks each
 * field again). New lines and tabs may stay: a list of emails can come from a file.
 */
function checkArguments(argv: string[]): void {
  for (const [i, arg] of argv.entries()) {
    const problem = textProblem(arg, 'multiline');
    if (problem) throw new UsageError(`Argument ${i + 1} ("${withoutUnsafeCharacters(arg, 'multiline').slice(0, 40)}") contains ${problem}. Remove it and try again.`);
  }
}

async function execute(argv: string[], out: Out, env: NodeJS.ProcessEnv): Promise<number> {
  checkArguments(argv);
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      owner: { type: 'string' },
      'owner-name': { type: 'string' },
      slug: { type: 'string' },
      role: { type: 'string', default: 'member' },
      'billing-emails': { type: 'boolean', default: false },
      as: { type: 'string' },
      action: { type: 'string' },
      since: { type: 'string' },
      until: { type: 'string' },
      actor: { type: 'string' },
      'target-type': { type: 'string' },
      'target-id': { type: 'string' },
      limit: { type: 'string' },
      format: { type: 'string', default: 'table' },
      name: { type: 'string' },
      'invite-expiry': { type: 'string' },
      reminders: { type: 'string' },
      'seat-limit': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [command, ...rest] = positionals;
  if (!command || values.help || command === 'help') {
    out.print(usage);
    return 0;
  }

  const config = loadConfig(env);
  const log = createLogger(env.LOG_LEVEL ?? 'warn', { fd: 2 });
  const database = await openDatabase(config, log, { poolSize: 2 });
  const domain = createDomain({
    db: database.db,
    clock: systemClock,
    settings: { membershipMode: config.membershipMode, inviteTokenKey: deriveKey(appSecret(config), 'invite-token') },
  });
  const link = (token: string) => inviteUrl(config.publicUrl, token);

  try {
    switch (command) {
      case 'org': {
        const [sub, ...args] = rest;
        if (sub === 'create') {
          const name = args.join(' ');
          if (!name) throw new UsageError('Give the organization name: roster org create "Acme Inc" --owner you@example.com');
          if (!values.owner) throw new UsageError('Say who owns it: --owner <email>');
          const owner = await domain.accounts.findOrCreateByEmail(values.owner, values['owner-name']);
          const org = await domain.orgs.create(accountActor(owner.id, 'cli'), { name, slug: values.slug });
          out.print(`Created ${org.name}, owned by ${owner.email}.`);
          out.print(org.slug);
          return 0;
        }
        if (sub === 'settings') {
          const { org, actor } = await orgAndActor(domain, args[0], values.as);
          const changes: Parameters<typeof domain.orgs.updateSettings>[2] = {};
          if (values['invite-expiry'] !== undefined) changes.inviteExpiry = values['invite-expiry'] as never;
          if (values.reminders !== undefined) {
            changes.reminderHours = values.reminders === 'none' ? [] : values.reminders.split(',').map((h) => Number(h.trim()));
          }
          if (values['seat-limit'] !== undefined) changes.seatLimit = values['seat-limit'] === 'none' ? null : Number(values['seat-limit']);
          const after = Object.keys(changes).length ? await domain.orgs.updateSettings(actor, org.id, changes) : org;
          const s = settingsView(after);
          out.print(
            table(
              ['SETTING', 'VALUE'],
              [
                ['invite expiry', s.inviteExpiry],
                ['reminders (hours before expiry)', s.reminderHours.length ? s.reminderHours.join(', ') : 'none'],
                ['seat limit', s.seatLimit ?? 'none'],
              ],
            ),
          );
          return 0;
        }
        if (sub === 'list') {
          const all = await domain.orgs.listAll();
          if (!all.length) {
            out.print('No organizations yet. Create one: roster org create "Acme Inc" --owner you@example.com');
            return 0;
          }
          out.print(table(['SLUG', 'NAME', 'MEMBERS', 'CREATED'], all.map((o) => [o.slug, o.name, o.members, when(o.createdAt)])));
          return 0;
        }
        throw new UsageError(`Unknown command "org ${sub ?? ''}". Try: roster org create | roster org list`);
      }
      case 'members': {
        const { org, actor } = await orgAndActor(domain, rest[0], values.as);
        const members = await domain.members.list(actor, org.id);
        out.print(`${org.name} (${org.slug}): ${members.length} member${members.length === 1 ? '' : 's'}`);
        out.print(
          table(
            ['NAME', 'EMAIL', 'ROLE', 'STATUS', 'BILLING EMAILS', 'JOINED', 'VIA'],
            members.map((m) => [
              m.displayName,
              m.email,
              roleLabels[m.role] + (m.isPrimaryOwner ? ' (primary)' : ''),
              m.status,
              m.billingEmails ? 'yes' : 'no',
              when(m.joinedAt),
              m.source === 'scim' ? 'scim (IdP)' : m.source + (m.scimBaseRole !== null ? ', role from IdP groups' : ''),
            ]),
          ),
        );
        return 0;
      }
      case 'invite': {
        const [ref, ...emails] = rest;
        if (!emails.length) throw new UsageError('Give one or more emails: roster invite <org> a@example.com b@example.com --role member');
        const { org, actor } = await orgAndActor(domain, ref, values.as);
        const results = await domain.invites.create(actor, org.id, {
          emails,
          role: values.role ?? 'member',
          billingEmails: values['billing-emails'] ?? false,
        });
        for (const r of results) {
          if (r.ok) {
            out.print(`✓ ${r.email}: invited as ${roleLabels[r.invite.role]}, expires ${when(r.invite.expiresAt)}\n  ${link(r.token)}`);
          } else {
            out.error(`✗ ${r.email}: ${r.message}`);
          }
        }
        return results.every((r) => r.ok) ? 0 : 1;
      }
      case 'invites': {
        const { org, actor } = await orgAndActor(domain, rest[0], values.as);
        const pending = await domain.invites.listPending(actor, org.id);
        if (!pending.length) {
          out.print(`${org.name} has no pending invites.`);
          return 0;
        }
        out.print(
          table(
            ['EMAIL', 'ROLE', 'STATE', 'EXPIRES', 'INVITED BY', 'ID'],
            pending.map((i) => [i.email, roleLabels[i.role], i.state, when(i.expiresAt), i.invitedByName ?? '', i.id]),
          ),
        );
        return 0;
      }
      case 'scim': {
        return await scimCommand(domain, rest, values, out, config.publicUrl);
      }
      case 'audit': {
        const { org, actor } = await orgAndActor(domain, rest[0], values.as);
        const filter = {
          action: values.action,
          since: values.since ? parseDate(values.since, '--since') : undefined,
          until: values.until ? parseDate(values.until, '--until') : undefined,
          actorId: values.actor,
          targetType: values['target-type'],
          targetId: values['target-id'],
        };
        const format = values.format ?? 'table';
        if (format === 'jsonl' || format === 'csv') {
          // Through `out` like every other output (it was written to process.stdout, out of callers' reach).
          const text = await domain.audit.export(actor, org.id, format, filter);
          if (text) out.print(text.replace(/\n$/, ''));
          return 0;
        }
        if (format !== 'table') throw new UsageError('--format is table, jsonl or csv.');
        const limit = values.limit ? Number(values.limit) : 50;
        if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new UsageError('--limit is a number from 1 to 1000.');
        const events = await domain.audit.query(actor, org.id, { ...filter, limit });
        if (!events.length) {
          out.print('No audit events match.');
          return 0;
        }
        out.print(
          table(
            ['WHEN', 'ACTOR', 'VIA', 'ACTION', 'TARGET'],
            events.map((e) => [when(e.at), e.actorLabel, e.via, e.action, `${e.targetType} ${e.targetId ?? ''}`]),
          ),
        );
        return 0;
      }
      default:
        throw new UsageError(`Unknown command "${command}".\n\n${usage}`);
    }
  } finally {
    await database.shutdown();
  }
}

async function scimCommand(
  domain: Domain,
  rest: string[],
  values: { name?: string | undefined; as?: string | undefined },
  out: Out,
  publicUrl: string,
): Promise<number> {
  const [area, ...args] = rest;
  if (area === 'token') {
    const [verb, ref, ...nameParts] = args;
    const { org, actor } = await orgAndActor(domain, ref, values.as);
    const name = nameParts.join(' ');
    switch (verb) {
      case 'create': {
        const { token, view } = await domain.scimTokens.create(actor, org.id, values.name ?? (name || 'default'));
        out.print(`SCIM token "${view.name}" for ${org.name}. Base URL: ${publicUrl}/scim/v2 — shown only once:`);
        out.print(token);
        return 0;
      }
      case 'list': {
        const tokens = await domain.scimTokens.list(actor, org.id);
        if (!tokens.length) {
          out.print(`${org.name} has no SCIM tokens. Create one: roster scim token create ${org.slug} --name okta`);
          return 0;
        }
        out.print(table(['NAME', 'CREATED', 'LAST USED', 'VALID UNTIL'], tokens.map((t) => [t.name, when(t.createdAt), t.lastUsedAt ? when(t.lastUsedAt) : 'never', t.expiresAt ? when(t.expiresAt) : 'until revoked'])));
        return 0;
      }
      case 'rotate': {
        if (!name) throw new UsageError('Name the token: roster scim token rotate <org> <name>');
        const { token, oldValidUntil } = await domain.scimTokens.rotate(actor, org.id, name);
        out.print(`New token for "${name}"; the old one works until ${when(oldValidUntil)}. Shown only once:`);
        out.print(token);
        return 0;
      }
      case 'revoke': {
        if (!name) throw new UsageError('Name the token: roster scim token revoke <org> <name>');
        await domain.scimTokens.revoke(actor, org.id, name);
        out.print(`Revoked "${name}".`);
        return 0;
      }
      default:
        throw new UsageError('Use: roster scim token create|list|rotate|revoke <org> …');
    }
  }
  if (area === 'map' || area === 'unmap') {
    const [ref, group, role] = args;
    if (!group || (area === 'map' && !role)) throw new UsageError('Use: roster scim map <org> "<group>" <role>  or  roster scim unmap <org> "<group>"');
    const { org, actor } = await orgAndActor(domain, ref, values.as);
    const r = await domain.scim.mapGroup(actor, org.id, group, area === 'map' ? role! : null);
    out.print(area === 'unmap' ? `"${group}" no longer grants a role in ${org.name}.` : `Members of "${group}" get the ${role} role in ${org.name}${r.pending ? ' once the IdP pushes that group' : ''}.`);
    return 0;
  }
  throw new UsageError('Use: roster scim token … | roster scim map … | roster scim unmap …');
}

async function orgAndActor(domain: Domain, ref: string | undefined, as: string | undefined): Promise<{ org: OrgRow; actor: Actor }> {
  if (!ref) throw new UsageError('Name the organization by its URL name (slug) or id. `roster org list` shows them.');
  const org = await domain.orgs.resolve(ref);
  // The operator acts with owner rights, and the audit log says it was the operator, not an owner.
  if (!as) return { org, actor: systemActor('cli') };
  const account = await domain.accounts.findByEmail(as);
  if (!account) throw new UsageError(`Nobody with the email ${as} is known to Roster.`);
  return { org, actor: accountActor(account.id, 'cli') };
}

function parseDate(value: string, flag: string): Date {
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) throw new UsageError(`${flag} must be a date, e.g. 2026-01-31 or 2026-01-31T12:00Z.`);
  return d;
}

export async function main(argv = process.argv.slice(2)): Promise<void> {
  const out: Out = { print: (s) => console.log(s), error: (s) => console.error(s) };
  process.exitCode = await run(argv, out);
}
