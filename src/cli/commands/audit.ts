import { pointInTime, pointInTimeHelp } from '../../shared/when.js';
import { systemActor, type Actor } from '../../domain/context.js';
import { isDomainError } from '../../domain/errors.js';
import { isUuid } from '../../domain/validation.js';
import { type CliCtx, type Command, UsageError, orgAndActor } from '../context.js';
import { table, when } from '../table.js';

/**
 * The org whose trail is read: by URL name or id; a deleted org's trail is kept, and the operator reads
 * it by the id `roster org delete` printed (the domain says whether there is one).
 */
async function auditedOrg(c: CliCtx, ref: string | undefined): Promise<{ org: { id: string }; actor: Actor }> {
  try {
    return await orgAndActor(c, ref);
  } catch (err) {
    if (!ref || !isUuid(ref) || c.flags.as || !isDomainError(err) || err.code !== 'org_not_found') throw err;
    return { org: { id: ref }, actor: systemActor('cli') };
  }
}

/** An actor id no event has: an email nobody has matches no event (as in Slack). */
const NOBODY = 'nobody:unknown-email';
const TABLE_DEFAULT = 50;
const MAX_LIMIT = 100_000;

/**
 * roster audit <org> [--action] [--actor <email|id>] [--since 7d|<date>] [--until …] [--target-type]
 * [--target-id] [--limit n] [--format table|jsonl|csv]. The table says when it was cut at the limit.
 */
export const audit: Command = async (c, [ref]) => {
  const { org, actor } = await auditedOrg(c, ref);
  const { flags } = c;
  const now = new Date();
  const filter = {
    action: flags.action,
    since: flags.since ? when_(flags.since, '--since', now) : undefined,
    until: flags.until ? when_(flags.until, '--until', now) : undefined,
    actorId: flags.actor ? await actorIdOf(c, flags.actor) : undefined,
    targetType: flags['target-type'],
    targetId: flags['target-id'],
  };
  const format = flags.format ?? 'table';
  if (format !== 'table' && format !== 'jsonl' && format !== 'csv') throw new UsageError('--format is table, jsonl or csv.');
  const limit = flags.limit === undefined ? undefined : Number(flags.limit);
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT))
    throw new UsageError(`--limit is a whole number from 1 to ${MAX_LIMIT.toLocaleString('en')}.`);
  if (format !== 'table') {
    // Through `out` like every other output, so callers (tests) capture it.
    const text = await c.domain.audit.export(actor, org.id, format, { ...filter, max: limit });
    if (text) c.out.print(text.replace(/\n$/, ''));
    return 0;
  }
  const shown = Math.min(limit ?? TABLE_DEFAULT, 1000);
  // One more than shown: whether there are more to say so.
  const events = await c.domain.audit.query(actor, org.id, { ...filter, limit: Math.min(shown + 1, 1000) });
  if (!events.length) {
    c.out.print('No audit events match.');
    return 0;
  }
  const page = events.slice(0, shown);
  const labels = await c.domain.audit.targetLabels(page);
  c.out.print(
    table(
      ['WHEN', 'ACTOR', 'VIA', 'ACTION', 'TARGET'],
      page.map((e) => [when(e.at), e.actorLabel, e.via, e.action, targetOf(e, labels.get(e.id))]),
    ),
  );
  if (events.length > shown)
    c.out.print(
      `Showing the newest ${shown} events; there are more. Narrow with --since/--until/--action, raise --limit (up to 1000 in a table), or export all with --format csv.`,
    );
  return 0;
};

function targetOf(e: { targetType: string; targetId: string | null }, label: string | undefined): string {
  return label ? `${e.targetType} ${label}` : `${e.targetType} ${e.targetId ?? ''}`.trim();
}

function when_(value: string, flag: string, now: Date): Date {
  const d = pointInTime(value, now);
  if (!d) throw new UsageError(`${flag} takes ${pointInTimeHelp}.`);
  return d;
}

/** --actor: an email (the person's events) or an id as the log shows it (a SCIM token, a job). */
async function actorIdOf(c: CliCtx, value: string): Promise<string> {
  if (!value.includes('@')) return value;
  return (await c.domain.accounts.findByEmail(value))?.id ?? NOBODY;
}
