import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DomainError, errorCatalogue } from '../../src/domain/errors.js';
import { parseInput } from '../../src/domain/validation.js';
import { checkAttributes, checkFilter } from '../../src/scim/filters.js';
import { scimError } from '../../src/scim/mapping.js';
import { z } from 'zod';

// Domain errors are for every surface: a code, a message without any surface's command syntax, and
// structure (the field, a hint) that adapters map themselves.

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('the domain error contract', () => {
  it('no domain message names a Slack or CLI command (adapters add their own hint)', () => {
    for (const [code, message] of Object.entries(errorCatalogue)) expect(message, code).not.toMatch(/`\/org|roster \w/);
    const offenders = sources(path.resolve('src/domain')).flatMap((file) =>
      readFileSync(file, 'utf8')
        .split('\n')
        .map((line, i) => ({ line, at: `${path.relative(process.cwd(), file)}:${i + 1}` }))
        .filter(({ line }) => /['"`][^'"`]*`\/org /.test(line) && !line.trim().startsWith('//') && !line.trim().startsWith('*')),
    );
    expect(offenders.map((o) => o.at)).toEqual([]);
  });

  it('a refused input names its field, for adapters that can point at it', () => {
    const schema = z.object({ settings: z.object({ seatLimit: z.number().min(1) }) });
    const err = (() => {
      try {
        parseInput(schema, { settings: { seatLimit: 0 } });
      } catch (e) {
        return e as DomainError;
      }
      throw new Error('not refused');
    })();
    expect(err).toBeInstanceOf(DomainError);
    expect(err.code).toBe('invalid_input');
    expect(err.field).toBe('settings.seatLimit');
    expect(() => parseInput(z.string().min(2), 'x', 'slug')).toThrow(expect.objectContaining({ field: 'slug' }));
  });

  it('a catalogue code that always comes with a hint carries it wherever it is raised', () => {
    expect(new DomainError('no_active_org').hint).toBe('create_or_join_org');
    expect(new DomainError('no_active_org', 'Choose an organization first.', { hint: 'switch_org' }).hint).toBe('switch_org');
    expect(new DomainError('forbidden').hint).toBeUndefined();
  });

  it('SCIM filter errors join the catalogue: code invalid_filter, field naming the parameter, SCIM 400 invalidFilter', () => {
    const refusal = (run: () => void): DomainError => {
      try {
        run();
      } catch (e) {
        return e as DomainError;
      }
      throw new Error('not refused');
    };
    const filter = refusal(() => checkFilter('userName eq "a" and'));
    expect(filter).toBeInstanceOf(DomainError);
    expect(filter.code).toBe('invalid_filter');
    expect(filter.field).toBe('filter');
    const attributes = refusal(() => checkAttributes('excludedAttributes', 'userName,or'));
    expect(attributes.code).toBe('invalid_filter');
    expect(attributes.field).toBe('excludedAttributes');
    for (const err of [filter, attributes, new DomainError('invalid_filter')]) {
      const e = scimError(err);
      expect([e.status, e.scimType, e.message]).toEqual([400, 'invalidFilter', err.message]);
    }
  });
});
