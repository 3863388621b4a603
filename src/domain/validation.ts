import { z } from 'zod';
import { fail } from './errors.js';

/** Parses domain input; a failure becomes one invalid_input error whose message says what to fix. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const field = issue.path.length ? `${issue.path.join('.')}: ` : '';
  fail('invalid_input', `${field}${issue.message}`);
}

export const uuidSchema = z.string().uuid({ message: 'That id is not valid.' });

export function parseId(value: string, what = 'id'): string {
  const r = uuidSchema.safeParse(value);
  if (!r.success) fail('invalid_input', `That ${what} is not valid.`);
  return r.data;
}

export const MAX_EMAIL_LENGTH = 254;
// Pragmatic address check: one @, a dotted domain, no spaces or angle brackets.
const emailPattern = /^[^\s@<>(),;:"]+@[^\s@<>(),;:"]+\.[^\s@<>(),;:"]{2,}$/;

export function isValidEmail(value: string): boolean {
  return value.length <= MAX_EMAIL_LENGTH && emailPattern.test(value);
}

export function normalizeEmail(value: string): string {
  return value.trim();
}

export function sameEmail(a: string | null | undefined, b: string | null | undefined): boolean {
  return !!a && !!b && a.trim().toLowerCase() === b.trim().toLowerCase();
}

export const emailSchema = z
  .string()
  .transform(normalizeEmail)
  .refine(isValidEmail, { message: 'That is not a valid email address.' });

export const nameSchema = (what: string, max: number) =>
  z
    .string({ message: `Give a ${what}.` })
    .transform((s) => s.replace(/\s+/g, ' ').trim())
    .refine((s) => s.length >= 1, { message: `The ${what} cannot be empty.` })
    .refine((s) => s.length <= max, { message: `The ${what} can be at most ${max} characters.` });
