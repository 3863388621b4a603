/**
 * Formatting that several surfaces share (web pages, emails). Pure functions, no imports: any layer
 * may use them.
 */

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** "Tue, 01 Dec 2026 09:00 UTC": a date people anywhere read the same way (no local time zone guessed). */
export function utcDate(d: Date): string {
  return d.toUTCString().replace(/:\d\d GMT$/, ' UTC');
}

/** A sentence's first word: "An owner can …" from "an owner". */
export function capitalized(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
