import type { OrgRow } from '../db/schema.js';
import { accountActor, systemActor, type Actor } from '../domain/context.js';
import type { Domain } from '../domain/index.js';
import type { Flags } from './flags.js';

/** Wrong usage: roster.ts prints the message and exits with code 2. */
export class UsageError extends Error {}

export type Out = { print: (s: string) => void; error: (s: string) => void };

/** Everything a command gets: the domain, the parsed flags, where to write, and how to build links. */
export type CliCtx = {
  domain: Domain;
  flags: Flags;
  out: Out;
  publicUrl: string;
};

/** A command group: the positionals after its name in, the exit code out (0 done, 1 refused or failed). */
export type Command = (c: CliCtx, args: string[]) => Promise<number>;

export async function orgAndActor(c: CliCtx, ref: string | undefined): Promise<{ org: OrgRow; actor: Actor }> {
  if (!ref) throw new UsageError('Name the organization by its URL name (slug) or id. `roster org list` shows them.');
  const org = await c.domain.orgs.resolve(ref);
  // The operator acts with owner rights, and the audit log says it was the operator, not an owner.
  const as = c.flags.as;
  if (!as) return { org, actor: systemActor('cli') };
  const account = await c.domain.accounts.findByEmail(as);
  if (!account) throw new UsageError(`Nobody with the email ${as} is known to Roster.`);
  return { org, actor: accountActor(account.id, 'cli') };
}

/** "on" or "off" (also yes/no, true/false); anything else is a usage error naming the command. */
export function onOff(value: string | undefined, usage: string): boolean {
  const v = value?.toLowerCase();
  if (v === 'on' || v === 'yes' || v === 'true') return true;
  if (v === 'off' || v === 'no' || v === 'false') return false;
  throw new UsageError(`Say on or off: ${usage}`);
}
