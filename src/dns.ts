import { Resolver } from 'node:dns/promises';
import type { TxtLookup } from './domain/context.js';

/** Answers that mean "this name has no TXT record", as opposed to "DNS could not answer". */
const NO_RECORDS = new Set(['ENOTFOUND', 'ENODATA', 'NXDOMAIN']);

/**
 * DNS TXT lookups for domain verification, through the system's resolvers or DNS_SERVERS (split
 * horizon, air-gapped deployments, and tests' loopback DNS server).
 */
export function createTxtLookup(servers: string[] | undefined, opts: { timeoutMs?: number; tries?: number } = {}): TxtLookup {
  const resolver = new Resolver({ timeout: opts.timeoutMs ?? 3_000, tries: opts.tries ?? 2 });
  if (servers?.length) resolver.setServers(servers);
  return async (name) => {
    try {
      // A TXT record can come in several strings; together they are one value (RFC 7208 §3.3).
      return (await resolver.resolveTxt(name)).map((chunks) => chunks.join(''));
    } catch (err) {
      if (NO_RECORDS.has((err as NodeJS.ErrnoException).code ?? '')) return [];
      throw err;
    }
  };
}
