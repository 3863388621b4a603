import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const src = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src');

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    return e.isDirectory() ? filesUnder(full) : e.name.endsWith('.ts') ? [full] : [];
  });
}

/** Lines of src/ (migrations aside) matching `pattern`, outside the one file allowed to, as file:line: text. */
/** Lines matching the pattern in src/ outside `allowed` (a file, or a folder ending in a separator). */
function linesMatching(pattern: RegExp, allowed: string): string[] {
  const isAllowed = (rel: string) => (allowed.endsWith(path.sep) ? rel.startsWith(allowed) : rel === allowed);
  return filesUnder(src)
    .filter((f) => !f.includes(`${path.sep}migrations${path.sep}`) && !isAllowed(path.relative(src, f)))
    .flatMap((f) =>
      readFileSync(f, 'utf8')
        .split('\n')
        .flatMap((line, i) => (pattern.test(line) ? [`${path.relative(src, f)}:${i + 1}: ${line.trim()}`] : [])),
    );
}

/** Ways to write an audit row or an outbox notification: drizzle's insert, or SQL. */
const writes = /insert\(\s*(auditEvents|notifications)\s*\)|insert\s+into\s+"?(audit_events|notifications)\b/i;

describe('audit rows and outbox notifications are written only from domain events', () => {
  it('no file in src/ but domain/events.ts inserts into the audit log or the outbox', () => {
    expect(linesMatching(writes, path.join('domain', 'events.ts'))).toEqual([]);
  });

  it('the check finds such a write (it is not vacuous)', () => {
    expect(writes.test('await tx.insert(auditEvents).values(row);')).toBe(true);
    expect(writes.test('insert into notifications (kind) values ($1)')).toBe(true);
    expect(readFileSync(path.join(src, 'domain', 'events.ts'), 'utf8')).toMatch(writes);
  });
});

describe('memberships change only through the one membership write path', () => {
  const membershipWrites = /(insert|update|delete)\(\s*memberships\s*\)|(insert\s+into|update|delete\s+from)\s+"?memberships\b/i;

  it('no file in src/ outside domain/membership-rules/ inserts, updates or deletes memberships', () => {
    const folder = path.join('domain', 'membership-rules') + path.sep;
    expect(linesMatching(membershipWrites, folder)).toEqual([]);
    expect(readFileSync(path.join(src, folder, 'joining.ts'), 'utf8')).toMatch(membershipWrites);
  });
});
