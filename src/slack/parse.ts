import { isRole, type Role } from '../domain/access.js';
import { pointInTime } from '../shared/when.js';

/**
 * Turning `/org …` text into arguments. Slack escapes mentions and emails when the command has
 * should_escape: `<@U123|ana>` and `<mailto:ana@example.com|ana@example.com>`.
 */
export type Target = { slackUserId: string } | { email: string };

export function unescapeSlack(text: string): string {
  return text
    .replace(/<mailto:([^|>]+)(?:\|[^>]*)?>/g, '$1')
    .replace(/<(https?:[^|>]+)(?:\|[^>]*)?>/g, '$1')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

type ParsedCommand = { sub: string; args: string[]; rest: string };

export function parseCommand(text: string): ParsedCommand {
  const clean = unescapeSlack(text ?? '').trim();
  const match = /^(\S+)\s*([\s\S]*)$/.exec(clean);
  if (!match) return { sub: '', args: [], rest: '' };
  const rest = match[2]!.trim();
  return { sub: match[1]!.toLowerCase(), args: rest ? rest.split(/[\s,;]+/).filter(Boolean) : [], rest };
}

const mention = /^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$/;

export function parseTarget(token: string | undefined): Target | undefined {
  if (!token) return undefined;
  const m = mention.exec(token.trim());
  if (m) return { slackUserId: m[1]! };
  const t = token.trim();
  if (/^[^\s@<>|]+@[^\s@<>|]+\.[^\s@<>|]+$/.test(t)) return { email: t };
  return undefined;
}

/** `/org invite a@x.com b@x.com admin billing-emails` → emails, role, billing flag. */
export function parseInviteArgs(args: string[]): { emails: string[]; role: Role | undefined; billingEmails: boolean; unknown: string[] } {
  const emails: string[] = [];
  const unknown: string[] = [];
  let role: Role | undefined;
  let billingEmails = false;
  for (const a of args) {
    const lower = a.toLowerCase();
    if (isRole(lower)) role = lower;
    else if (lower === 'billing-emails' || lower === '--billing-emails') billingEmails = true;
    else if (a.includes('@')) emails.push(a);
    else unknown.push(a);
  }
  return { emails, role, billingEmails, unknown };
}

/** `/org audit [action] [@user] [since]`: since is a date (2026-01-31) or an age (7d, 24h). */
export function parseAuditArgs(args: string[], now: Date): { action?: string; actor?: Target; since?: Date; unknown: string[] } {
  const out: { action?: string; actor?: Target; since?: Date; unknown: string[] } = { unknown: [] };
  for (const a of args) {
    const when = pointInTime(a, now);
    if (when) {
      out.since = when;
    } else if (mention.test(a)) {
      out.actor = parseTarget(a);
    } else if (/^[a-z_]+\.[a-z_]+$/.test(a)) {
      out.action = a;
    } else {
      out.unknown.push(a);
    }
  }
  return out;
}

/**
 * The settings form's reminder field: "72, 24" (or "72h 24 hours") → [72, 24]; empty → [] (no
 * reminders). undefined when a part is not a whole number; the domain checks the range.
 */
export function parseReminderHours(text: string): number[] | undefined {
  const parts = text
    .replace(/(\d)\s*(?:hours?|hrs?|h)\b/gi, '$1')
    .split(/[\s,;]+/)
    .filter(Boolean);
  if (parts.some((p) => !/^-?\d{1,7}$/.test(p))) return undefined;
  return parts.map(Number);
}

/** The settings form's seat limit: empty → null (no limit); undefined when not a whole number. */
export function parseSeatLimit(text: string): number | null | undefined {
  const t = text.trim();
  if (!t) return null;
  return /^-?\d{1,9}$/.test(t) ? Number(t) : undefined;
}
