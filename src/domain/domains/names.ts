import { domainToASCII } from 'node:url';
import { isDisposableEmailDomain } from 'disposable-email-domains-js';
import freeEmailDomains from 'free-email-domains';
import { parse } from 'tldts';
import { fail } from '../errors.js';

/**
 * Which email domains an org may claim. Not a free-mail provider's (anyone can have an address there),
 * not a disposable one, not a public suffix (co.uk, github.io: nobody owns all of it). The lists come
 * from maintained npm packages (free-email-domains, disposable-email-domains-js; tldts for the Public
 * Suffix List, private suffixes included), so a new provider is a dependency update, not a code change.
 */

const freeMail = new Set<string>(freeEmailDomains);
const MAX_DOMAIN = 253;

/** The domain part of an email, lowercased: what a verified domain is compared with. */
export function domainOfEmail(email: string): string {
  return normalDomain(email.slice(email.lastIndexOf('@') + 1));
}

function typedDomain(input: string): string {
  return String(input ?? '')
    .trim()
    .toLowerCase()
    .replace(/^[a-z][a-z0-9+.-]*:\/\//, '')
    .replace(/[/?#].*$/, '')
    .replace(/\.$/, '');
}

/** A domain as typed, in its stored form (for lookups: no list checks, a stored domain passed them). */
export function normalDomain(input: string): string {
  const typed = typedDomain(input);
  return domainToASCII(typed) || typed;
}

/** True for a domain on a shared-mail list: the domain itself or the registrable domain it is under. */
function onList(hostname: string, registrable: string | null, has: (d: string) => boolean): boolean {
  return has(hostname) || (registrable !== null && has(registrable));
}

/**
 * The claimable form of what an owner typed ("Acme.COM.", "https://acme.com/", "bücher.example"):
 * lowercase ASCII (punycode), no scheme, path or trailing dot. Refused with a reason otherwise.
 */
export function claimableDomain(input: string): string {
  const typed = typedDomain(input);
  const field = { field: 'domain' };
  if (!typed) fail('invalid_domain', 'Give a domain, e.g. acme.com.', field);
  if (typed.includes('@')) fail('invalid_domain', `Give the domain only (e.g. ${domainOfEmail(typed) || 'acme.com'}), not an email address.`, field);
  const ascii = domainToASCII(typed);
  if (!ascii || ascii.length > MAX_DOMAIN) fail('invalid_domain', `"${typed.slice(0, 60)}" is not a domain name.`, field);
  const p = parse(ascii, { allowPrivateDomains: true });
  if (p.isIp) fail('invalid_domain', 'Give a domain name, not an IP address.', field);
  if (!p.hostname || p.hostname !== ascii || !/^[a-z0-9-]+(\.[a-z0-9-]+)+$/.test(ascii) || ascii.split('.').some((l) => !l || l.length > 63 || /^-|-$/.test(l)))
    fail('invalid_domain', `"${typed.slice(0, 60)}" is not a domain name.`, field);
  if (!p.domain) fail('domain_not_claimable', `${ascii} is a public suffix (like co.uk): many unrelated people and companies have addresses under it.`, field);
  if (onList(ascii, p.domain, (d) => freeMail.has(d)))
    fail('domain_not_claimable', `${ascii} is a free email provider: anyone can have an address there, so no organization can claim it.`, field);
  if (onList(ascii, p.domain, isDisposableEmailDomain))
    fail('domain_not_claimable', `${ascii} is a disposable email service, so no organization can claim it.`, field);
  return ascii;
}
