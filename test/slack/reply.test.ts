import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { errorText } from '../../src/slack/reply.js';

describe('errorText', () => {
  it("a value PostgreSQL refuses as data (22021, 22P02, 22P05, 22003, wrapped as drizzle wraps them) is the person's input, not our failure", () => {
    const log = pino({ level: 'silent' });
    for (const code of ['22021', '22P02', '22P05', '22003']) {
      const err = Object.assign(new Error('Failed query: insert …'), { cause: Object.assign(new Error('invalid byte sequence'), { code }) });
      const text = errorText(err, log);
      expect(text, code).toMatch(/^:warning: Roster cannot store that/);
      expect(text).not.toMatch(/Something went wrong|Failed query|byte sequence/);
    }
  });
});
