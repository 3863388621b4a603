import { accountActor } from '../../domain/context.js';
import { settingsView } from '../../domain/orgs.js';
import { type CliCtx, type Command, UsageError, orgAndActor } from '../context.js';
import { table, when } from '../table.js';

/** roster org create | list | settings */
export const org: Command = async (c, [sub, ...args]) => {
  if (sub === 'create') return create(c, args);
  if (sub === 'settings') return settings(c, args);
  if (sub === 'list') return list(c);
  throw new UsageError(`Unknown command "org ${sub ?? ''}". Try: roster org create | roster org list`);
};

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
    changes.reminderHours = flags.reminders === 'none' ? [] : flags.reminders.split(',').map((h) => Number(h.trim()));
  }
  if (flags['seat-limit'] !== undefined) changes.seatLimit = flags['seat-limit'] === 'none' ? null : Number(flags['seat-limit']);
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
