import { shortIdOf, type WebhookEndpointView } from '../../domain/webhooks/index.js';
import { pointInTime, pointInTimeHelp } from '../../shared/when.js';
import { type CliCtx, type Command, UsageError, orgAndActor } from '../context.js';
import { table, when } from '../table.js';

const verbs = 'list|create|update|enable|disable|rotate|delete|replay|deliveries';

/**
 * roster webhooks <verb> <org> …: an org's webhook endpoints. An endpoint is named by its id, the first
 * characters of it that `list` shows, or its URL. A new or rotated secret is printed alone on the last line.
 */
export const webhooks: Command = async (c, [verb = 'list', ref, target, ...extra]) => {
  if (!verbs.split('|').includes(verb)) throw new UsageError(`Use: roster webhooks ${verbs} <org> …`);
  const { org, actor } = await orgAndActor(c, ref);
  const hooks = c.domain.webhooks;
  const { out, flags } = c;
  if (verb === 'list') {
    const all = await hooks.list(actor, org.id);
    if (!all.length) {
      out.print(`${org.name} has no webhook endpoints. Add one: roster webhooks create ${ref} https://app.example.com/roster-webhooks`);
      return 0;
    }
    out.print(
      table(
        ['ID', 'URL', 'EVENTS', 'STATE', 'PENDING'],
        all.map((e) => [shortIdOf(e.id), e.url, eventsOf(e), stateOf(e), e.pending ?? 0]),
      ),
    );
    return 0;
  }
  if (!target)
    throw new UsageError(
      verb === 'create'
        ? `Give its URL: roster webhooks create ${ref} <url> [--events a,b]`
        : `Name the endpoint: roster webhooks ${verb} ${ref} <id|url> (roster webhooks list ${ref} shows them)`,
    );
  if (extra.length) throw new UsageError(`Unexpected "${extra.join(' ')}". Put spaces inside quotes, or use the flags (roster help).`);
  if (verb === 'create') {
    const made = await hooks.create(actor, org.id, { url: target, events: eventsFlag(c) ?? [], description: flags.description });
    out.print(`Webhook ${shortIdOf(made.endpoint.id)} of ${org.name}: ${made.endpoint.url} (${eventsOf(made.endpoint)}). Its signing secret, shown only once:`);
    out.print(made.secret);
    return 0;
  }
  const endpoint = await hooks.find(actor, org.id, target);
  const name = `${shortIdOf(endpoint.id)} (${endpoint.url})`;
  switch (verb) {
    case 'update': {
      const events = eventsFlag(c);
      if (flags.url === undefined && events === undefined && flags.description === undefined)
        throw new UsageError('Say what changes: --url <url>, --events a,b (or --events all), --description <text>.');
      const after = await hooks.update(actor, org.id, endpoint.id, { url: flags.url, events, description: flags.description });
      out.print(`Updated webhook ${shortIdOf(after.id)}: ${after.url} (${eventsOf(after)}).`);
      return 0;
    }
    case 'enable':
    case 'disable': {
      await hooks.update(actor, org.id, endpoint.id, { enabled: verb === 'enable' });
      out.print(
        verb === 'enable'
          ? `Enabled webhook ${name}; its ${endpoint.pending ?? 0} waiting deliveries go now. Failed ones: roster webhooks replay ${ref} ${shortIdOf(endpoint.id)} --since 3d`
          : `Disabled webhook ${name}. Its events queue up until it is enabled again.`,
      );
      return 0;
    }
    case 'rotate': {
      const { secret, previousValidUntil } = await hooks.rotateSecret(actor, org.id, endpoint.id);
      out.print(`New signing secret for webhook ${name}; the old one also signs until ${when(previousValidUntil)}. Shown only once:`);
      out.print(secret);
      return 0;
    }
    case 'delete':
      await hooks.remove(actor, org.id, endpoint.id);
      out.print(`Deleted webhook ${name} and its queued deliveries.`);
      return 0;
    case 'replay': {
      if (!flags.since) throw new UsageError(`Say since when: --since 24h (or 7d, or a date such as 2026-12-01T00:00Z).`);
      const since = pointInTime(flags.since, new Date());
      if (!since) throw new UsageError(`--since is ${pointInTimeHelp}.`);
      const { queued } = await hooks.replay(actor, org.id, endpoint.id, since);
      out.print(`Queued ${queued} deliver${queued === 1 ? 'y' : 'ies'} to webhook ${name} again (since ${when(since)}), with their original webhook-id.`);
      return 0;
    }
    default: {
      const limit = limitFlag(c);
      const list = await hooks.deliveries(actor, org.id, endpoint.id, limit);
      if (!list.length) {
        out.print(`Nothing has been sent to webhook ${name} yet.`);
        return 0;
      }
      out.print(
        table(
          ['SEQ', 'WEBHOOK-ID', 'STATUS', 'ATTEMPTS', 'LAST ANSWER', 'NEXT TRY'],
          list.map((d) => [d.sequence, d.id, d.status, d.attempts, d.lastStatus ?? d.lastError ?? '', d.nextAttemptAt ? when(d.nextAttemptAt) : '']),
        ),
      );
      return 0;
    }
  }
};

function eventsFlag(c: CliCtx): string[] | undefined {
  const raw = c.flags.events;
  if (raw === undefined) return undefined;
  if (raw.trim().toLowerCase() === 'all') return [];
  return raw
    .split(/[\s,]+/)
    .map((t) => t.trim())
    .filter(Boolean);
}

function limitFlag(c: CliCtx): number {
  const limit = c.flags.limit ? Number(c.flags.limit) : 50;
  if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new UsageError('--limit is a number from 1 to 500.');
  return limit;
}

const eventsOf = (e: WebhookEndpointView) => (e.events.length ? e.events.join(',') : 'every event');
const stateOf = (e: WebhookEndpointView) => (e.enabled ? 'enabled' : `disabled: ${e.disabledReason ?? 'by hand'}`);
