import { z } from 'zod';
import { fail } from './errors.js';

/** Parses domain input; a failure becomes one invalid_input error whose message says what to fix. */
/** Parses input with its schema; a refusal names the field (as `field`, and in the message when it is a path). */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, as?: string): z.output<S> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const path = issue.path.map(String).join('.');
  const field = [as, path].filter(Boolean).join('.');
  // A path is named in the message too, for surfaces that cannot point at it (a CLI, a SCIM client).
  fail('invalid_input', `${path ? `${path}: ` : ''}${issue.message}`, field ? { field } : undefined);
}

/** Shaped like a UUID (any version): the one check before an id reaches a uuid column. */
export function isUuid(value: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);
}

export function parseId(value: string, what = 'id'): string {
  if (typeof value !== 'string' || !isUuid(value)) fail('invalid_input', `That ${what} is not valid.`);
  return value;
}

/**
 * The one rule on which characters Roster accepts in text a person or a client sends (names, emails,
 * slugs, SCIM attributes and filter values, reasons, Slack text, CLI arguments, form fields).
 * Refused everywhere: C0 controls (U+0000–U+001F), DEL (U+007F), C1 controls (U+0080–U+009F) and
 * unpaired surrogates. PostgreSQL cannot store a NUL or an unpaired surrogate at all (the request then
 * failed with a 500), and the other controls are invisible in Slack, pages and terminals, where they can
 * disguise a name or rewrite a log line. Free text that may span lines ('multiline': a join message, a
 * reason, a whole slash command) keeps tab, new line and carriage return.
 */
type TextKind = 'line' | 'multiline';

/* eslint-disable no-control-regex -- these patterns exist to find control characters */
const unsafeIn: Record<TextKind, RegExp> = {
  line: /[\u0000-\u001f\u007f-\u009f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/,
  multiline: /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/,
};
/* eslint-enable no-control-regex */

const controlNames: Record<number, string> = { 0: 'NUL', 9: 'tab', 10: 'new line', 13: 'carriage return', 27: 'escape', 0x7f: 'DEL' };

/**
 * What is wrong with the characters of a text, for a message ("a control character (U+0000, NUL)",
 * "an unpaired surrogate (U+D800), which is not valid Unicode"), or undefined when every character is fine.
 */
export function textProblem(value: string, kind: TextKind = 'line'): string | undefined {
  const m = unsafeIn[kind].exec(value);
  if (!m) return undefined;
  const code = m[0].charCodeAt(0);
  const u = `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  if (code >= 0xd800 && code <= 0xdfff) return `an unpaired surrogate (${u}), which is not valid Unicode`;
  const name = controlNames[code];
  return `a control character (${u}${name ? `, ${name}` : ''})`;
}

/** The text without the characters textProblem names: for showing back what someone typed, never for storing. */
export function withoutUnsafeCharacters(value: string, kind: TextKind = 'line'): string {
  return value.replace(new RegExp(unsafeIn[kind].source, 'g'), '');
}

/** Refuses a text with characters Roster does not accept: invalid_input naming the field and the character. */
export function assertText(value: string, field: string, kind: TextKind = 'line'): string {
  const problem = textProblem(value, kind);
  if (problem) fail('invalid_input', `${field} contains ${problem}. Remove it and try again.`, { field });
  return value;
}

/**
 * A zod string held to the character rule. With `what`, the message names it ("The display name contains
 * …"); without, parseInput puts the field's path in front ("userName: contains …").
 */
export const safeString = (opts: { what?: string; kind?: TextKind; message?: string } = {}) =>
  z.string(opts.message ? { message: opts.message } : undefined).superRefine((s, ctx) => {
    const problem = textProblem(s, opts.kind ?? 'line');
    if (problem) ctx.addIssue({ code: 'custom', message: `${opts.what ? `The ${opts.what} contains` : 'contains'} ${problem}. Remove it and try again.` });
  });

const MAX_EMAIL_LENGTH = 254;
// Pragmatic address check: one @, a dotted domain, no spaces or angle brackets.
const emailPattern = /^[^\s@<>(),;:"]+@[^\s@<>(),;:"]+\.[^\s@<>(),;:"]{2,}$/;

export function isValidEmail(value: string): boolean {
  return value.length <= MAX_EMAIL_LENGTH && emailPattern.test(value) && textProblem(value) === undefined;
}

export function normalizeEmail(value: string): string {
  return value.trim();
}

export function sameEmail(a: string | null | undefined, b: string | null | undefined): boolean {
  return !!a && !!b && a.trim().toLowerCase() === b.trim().toLowerCase();
}

export const emailSchema = safeString({ what: 'email address' })
  .transform(normalizeEmail)
  .refine(isValidEmail, { message: 'That is not a valid email address.' });

/**
 * A name (of a person, an org, a token): whitespace, tabs and new lines included, collapses to single
 * spaces; any other control character is refused.
 */
export const nameSchema = (what: string, max: number) =>
  z
    .string({ message: `Give a ${what}.` })
    .transform((s) => s.replace(/\s+/g, ' ').trim())
    .pipe(safeString({ what }))
    .refine((s) => s.length >= 1, { message: `The ${what} cannot be empty.` })
    .refine((s) => s.length <= max, { message: `The ${what} can be at most ${max} characters.` });
