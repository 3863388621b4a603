/**
 * A point in time as people type it on a command line or in Slack: an age back from now (`30m`, `24h`,
 * `7d`, `2w`) or a date (`2026-01-31`, `2026-01-31T12:00Z`). Pure: any layer may use it.
 */
export function pointInTime(text: string, now: Date): Date | undefined {
  const age = /^(\d{1,4})(m|h|d|w)$/i.exec(text.trim());
  if (age) {
    const minutes = Number(age[1]) * ({ m: 1, h: 60, d: 1440, w: 10080 } as const)[age[2]!.toLowerCase() as 'm' | 'h' | 'd' | 'w'];
    return new Date(now.getTime() - minutes * 60_000);
  }
  if (!/^\d{4}-\d{2}-\d{2}/.test(text.trim())) return undefined;
  const d = new Date(text.trim());
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/** How to write one, for messages that refuse a wrong one. */
export const pointInTimeHelp = 'an age such as 24h or 7d, or a date such as 2026-01-31 or 2026-01-31T12:00Z';
