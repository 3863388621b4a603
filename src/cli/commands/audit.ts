import { type Command, UsageError, orgAndActor } from '../context.js';
import { table, when } from '../table.js';

/** roster audit <org> [filters] [--format table|jsonl|csv] */
export const audit: Command = async (c, [ref]) => {
  const { org, actor } = await orgAndActor(c, ref);
  const { flags } = c;
  const filter = {
    action: flags.action,
    since: flags.since ? parseDate(flags.since, '--since') : undefined,
    until: flags.until ? parseDate(flags.until, '--until') : undefined,
    actorId: flags.actor,
    targetType: flags['target-type'],
    targetId: flags['target-id'],
  };
  const format = flags.format ?? 'table';
  if (format === 'jsonl' || format === 'csv') {
    // Through `out` like every other output, so callers (tests) capture it.
    const text = await c.domain.audit.export(actor, org.id, format, filter);
    if (text) c.out.print(text.replace(/\n$/, ''));
    return 0;
  }
  if (format !== 'table') throw new UsageError('--format is table, jsonl or csv.');
  const limit = flags.limit ? Number(flags.limit) : 50;
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new UsageError('--limit is a number from 1 to 1000.');
  const events = await c.domain.audit.query(actor, org.id, { ...filter, limit });
  if (!events.length) {
    c.out.print('No audit events match.');
    return 0;
  }
  c.out.print(
    table(
      ['WHEN', 'ACTOR', 'VIA', 'ACTION', 'TARGET'],
      events.map((e) => [when(e.at), e.actorLabel, e.via, e.action, `${e.targetType} ${e.targetId ?? ''}`]),
    ),
  );
  return 0;
};

function parseDate(value: string, flag: string): Date {
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) throw new UsageError(`${flag} must be a date, e.g. 2026-01-31 or 2026-01-31T12:00Z.`);
  return d;
}
