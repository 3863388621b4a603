import { parseArgs } from 'node:util';

/** Every flag any command takes; parseArgs refuses the rest (exit code 2). */
export function parseFlags(argv: string[]) {
  return parseArgs({
    args: negativeValues(argv),
    allowPositionals: true,
    strict: true,
    options: {
      owner: { type: 'string' },
      'owner-name': { type: 'string' },
      slug: { type: 'string' },
      role: { type: 'string' },
      'billing-emails': { type: 'boolean', default: false },
      'dry-run': { type: 'boolean', default: false },
      force: { type: 'boolean', default: false },
      confirm: { type: 'string' },
      as: { type: 'string' },
      action: { type: 'string' },
      since: { type: 'string' },
      until: { type: 'string' },
      actor: { type: 'string' },
      'target-type': { type: 'string' },
      'target-id': { type: 'string' },
      limit: { type: 'string' },
      format: { type: 'string', default: 'table' },
      name: { type: 'string' },
      events: { type: 'string' },
      description: { type: 'string' },
      url: { type: 'string' },
      scope: { type: 'string' },
      operator: { type: 'boolean', default: false },
      'invite-expiry': { type: 'string' },
      reminders: { type: 'string' },
      'seat-limit': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
}

export type Flags = ReturnType<typeof parseFlags>['values'];

/**
 * `--seat-limit -3`: parseArgs takes "-3" for an option and refuses it as "ambiguous". A value after a
 * flag that takes one, that looks like a negative number, is joined to it (`--seat-limit=-3`), so the
 * command can say what is wrong with it.
 */
function negativeValues(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = argv[i + 1];
    if (/^--[a-z-]+$/.test(a) && next !== undefined && /^-\d/.test(next)) {
      out.push(`${a}=${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}
