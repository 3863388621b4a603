import { describe, expect, it } from 'vitest';
import { esc, truncate } from '../../src/slack/blocks/kit.js';

/** Block Kit text is cut to Slack's limits without breaking what it holds (a half token is garbage, or a refused block). */
describe('truncating Block Kit text', () => {
  it('never cuts an emoji or a flag in half', () => {
    const t = truncate('a' + '👩‍👩‍👧‍👦'.repeat(10), 20);
    expect(t.length).toBeLessThanOrEqual(20);
    expect(t).toMatch(/^a(👩‍👩‍👧‍👦)*…$/u);
  });

  it('never cuts an escape sequence or a Slack token in half', () => {
    const name = esc('Smith & Sons ').repeat(50);
    const t = truncate(name, 100);
    expect(t.length).toBeLessThanOrEqual(100);
    expect(t).not.toMatch(/&(a|am|amp|l|lt|g|gt)?…$/);
    const withDate = `expires ${'x'.repeat(80)}<!date^1700000000^{date_short_pretty}|2023-11-14>`;
    expect(truncate(withDate, 100)).toBe(`expires ${'x'.repeat(80)}…`);
  });

  it('is never empty (Slack refuses empty text) and leaves short text alone', () => {
    expect(truncate('', 10)).not.toBe('');
    expect(truncate('short', 10)).toBe('short');
    expect(truncate('x'.repeat(3001), 3000)).toHaveLength(3000);
  });
});
