import { parseArgs } from 'node:util';

/** Every flag any command takes; parseArgs refuses the rest (exit code 2). */
export function parseFlags(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      owner: { type: 'string' },
      'owner-name': { type: 'string' },
      slug: { type: 'string' },
      role: { type: 'string' },
      'billing-emails': { type: 'boolean', default: false },
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
