import { accountActor } from '../../domain/context.js';
import { settingsView } from '../../domain/orgs.js';
import { type CliCtx, type Command, UsageError, orgAndActor } from '../context.js';
import { table, when } from '../table.js';

/** roster org create | list | settings */
export const org: Command = async (c, [sub, ...args]) => {
  if (sub === 'create') return create(c, args);
  if (sub === 'settings') return settings(c, args);
  if (sub === 'list') return list(c);
  if (sub === 'rename') return rename(c, args);
  if (sub === 'delete') return remove(c, args);
  throw new UsageError(`Unknown command "org ${sub ?? ''}". Try: roster org create | list | settings | rename | delete`);
};

/** roster org rename <org> <new name…> */
async function rename(c: CliCtx, [ref, ...nameParts]: string[]): Promise<number> {
  const { org, actor } = await orgAndActor(c, ref);
  const name = nameParts.join(' ').trim();
  if (!name) throw new UsageError(`Give the new name: roster org rename ${org.slug} "New Name"`);
  const after = await c.domain.orgs.rename(actor, org.id, name);
  c.out.print(`${org.name} is now called ${after.name} (URL name ${after.slug}, unchanged).`);
  return 0;
}

/** roster org delete <org> --confirm "<exact name>": everyone's access ends; the audit trail stays. */
async function remove(c: CliCtx, [ref]: string[]): Promise<number> {
  const { org, actor } = await orgAndActor(c, ref);
  if (c.flags.confirm === undefined)
    throw new UsageError(
      `Deleting ${org.name} ends every member's access and cannot be undone. To go on: roster org delete ${org.slug} --confirm "${org.name}"`,
    );
  await c.domain.orgs.delete(actor, org.id, c.flags.confirm);
  c.out.print(`${org.name} was deleted; its members no longer have access. Its audit trail is kept: roster audit ${org.id}`);
  return 0;
}

async function create(c: CliCtx, args: string[]): Promise<number> {
  const name = args.join(' ');
  if (!name) throw new UsageError('Give the organization name: roster org create "Acme Inc" --owner you@example.com');
  if (!c.flags.owner) throw new UsageError('Say who owns it: --owner <email>');
  const owner = await c.domain.accounts.findOrCreateByEmail(c.flags.owner, c.flags['owner-name']);
  const created = await c.domain.orgs.create(accountActor(owner.id, 'cli'), { name, slug: c.flags.slug });
  c.out.print(`Created ${created.name}, owned by ${owner.email}.`);
  c.out.print(created.slug);
  return 0;
}

/** Shows the settings; flags change them first. */
async function settings(c: CliCtx, args: string[]): Promise<number> {
  const { org, actor } = await orgAndActor(c, args[0]);
  const { flags } = c;
  const changes: Parameters<CliCtx['domain']['orgs']['updateSettings']>[2] = {};
  if (flags['invite-expiry'] !== undefined) changes.inviteExpiry = flags['invite-expiry'] as never;
  if (flags.reminders !== undefined) {
    changes.reminderHours =
      flags.reminders === 'none' ? [] : flags.reminders.split(',').map((h) => wholeNumber(h, '--reminders', 'whole hours before expiry, e.g. 72,24, or none'));
  }
  if (flags['seat-limit'] !== undefined)
    changes.seatLimit = flags['seat-limit'] === 'none' ? null : wholeNumber(flags['seat-limit'], '--seat-limit', 'a number of seats, or none');
  const after = Object.keys(changes).length ? await c.domain.orgs.updateSettings(actor, org.id, changes) : org;
  const s = settingsView(after);
  c.out.print(
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

async function list(c: CliCtx): Promise<number> {
  const all = await c.domain.orgs.listAll();
  if (!all.length) {
    c.out.print('No organizations yet. Create one: roster org create "Acme Inc" --owner you@example.com');
    return 0;
  }
  c.out.print(
    table(
      ['SLUG', 'NAME', 'MEMBERS', 'CREATED'],
      all.map((o) => [o.slug, o.name, o.members, when(o.createdAt)]),
    ),
  );
  return 0;
}

/** A whole number of at least 1 as typed, or a usage error naming the flag and what it takes. */
function wholeNumber(text: string, flag: string, takes: string): number {
  const t = text.trim();
  if (!/^\d{1,9}$/.test(t) || Number(t) < 1) throw new UsageError(`${flag} takes ${takes}: "${t.slice(0, 20)}" is not a whole number of at least 1.`);
  return Number(t);
}
