import { capitalized } from '../../shared/text.js';
import { describeRole, joinRequestPermission, whoMay } from '../../domain/access.js';
import { type DomainView, type Enrollment, VERIFY_WINDOW_DAYS } from '../../domain/domains/service.js';
import { type Block, context, esc, header, section, slackDate } from './kit.js';

/** How each enrollment mode reads (the domain's `auto_join` reads badly; it accepts `auto-join` as typed). */
export const enrollmentWords: Record<Enrollment, string> = { off: 'off', suggest: 'suggest', auto_join: 'auto-join' };

export const domainsUsage = [
  `*Verified domains* prove your organization owns an email domain, so people with a confirmed email there can be let in by it. ${capitalized(whoMay('domain:manage'))} only.`,
  '`/org domains` this list · `/org domains add [domain]` add one and get the DNS record to publish (no domain opens a form)',
  '`/org domains verify <domain>` check its DNS record now · `/org domains remove <domain>`',
  '`/org domains enrollment <domain> off|suggest|auto-join [role]` how people with a confirmed email there may join (verified domains only)',
].join('\n');

const code = (s: string) => `\`${esc(s)}\``;

/** The TXT record to publish, one part per line so each can be copied on its own. */
export function recordText(v: DomainView): string {
  return [`• Type: ${code(v.record.type)}`, `• Name: ${code(v.record.name)}`, `• Value: ${code(v.record.value)}`].join('\n');
}

function enrollmentSummary(v: DomainView): string {
  return `Enrollment: ${enrollmentWords[v.enrollment]} · role: ${describeRole(v.enrollmentRole)}`;
}

function lastCheck(v: DomainView): string {
  return v.lastCheckedAt ? `Last check ${slackDate(v.lastCheckedAt)}: ${esc(v.lastCheckResult ?? 'no answer recorded.')}` : 'Not checked yet.';
}

/** One domain, as a section of the list: status, and for an unproven one what to publish and what the last check found. */
export function domainSummary(v: DomainView): string {
  const name = `*${esc(v.domain)}*`;
  switch (v.status) {
    case 'verified':
      return [`:white_check_mark: ${name} · verified ${slackDate(v.verifiedAt, '')}`, enrollmentSummary(v)].join('\n');
    case 'pending':
      return [
        `:hourglass_flowing_sand: ${name} · pending · fails ${slackDate(v.failsAt, 'soon')} unless verified before`,
        `TXT record to publish: name ${code(v.record.name)} · value ${code(v.record.value)}`,
        lastCheck(v),
        enrollmentSummary(v),
      ].join('\n');
    case 'failed':
      return [
        `:x: ${name} · failed ${slackDate(v.failedAt, '')}: not verified within ${VERIFY_WINDOW_DAYS} days. Verify again to retry: ${code(`/org domains verify ${v.domain}`)}`,
        `TXT record to publish: name ${code(v.record.name)} · value ${code(v.record.value)}`,
        lastCheck(v),
        enrollmentSummary(v),
      ].join('\n');
  }
}

/** Header and usage take 3 of a message's 50 blocks. */
const MAX_LISTED = 45;

/** `/org domains`: every domain of the org, then how to manage them. */
export function domainsMessage(orgName: string, list: DomainView[]): { text: string; blocks: Block[] } {
  if (!list.length) {
    const text = `*${esc(orgName)}* has no domains yet. Add one with \`/org domains add acme.com\`.`;
    return { text, blocks: [section(text), context(domainsUsage)] };
  }
  const blocks: Block[] = [header(`Domains · ${orgName}`), ...list.slice(0, MAX_LISTED).map((v) => section(domainSummary(v)))];
  if (list.length > MAX_LISTED) blocks.push(context(`${list.length - MAX_LISTED} more not shown.`));
  blocks.push(context(domainsUsage));
  const verified = list.filter((v) => v.status === 'verified').length;
  return { text: `${esc(orgName)} has ${list.length} domain${list.length === 1 ? '' : 's'}, ${verified} verified.`, blocks };
}

/** After add (command or form): the record to publish, and how to verify. */
export function domainAddedText(orgName: string, v: DomainView): string {
  return [
    `Added *${esc(v.domain)}* to *${esc(orgName)}*. To prove you control it, publish this DNS record at your DNS provider:`,
    recordText(v),
    `Then run \`/org domains verify ${esc(v.domain)}\`. Roster also rechecks it by itself until ${slackDate(v.failsAt, 'it is verified')}.`,
  ].join('\n');
}

/** After verify: verified, or why not yet and what to publish. */
export function domainCheckedText(orgName: string, v: DomainView): string {
  if (v.status === 'verified') {
    const next = v.enrollment === 'off' ? ` To let people with a confirmed email there join, use \`/org domains enrollment ${esc(v.domain)} auto-join\`.` : '';
    return `:white_check_mark: *${esc(v.domain)}* is verified for *${esc(orgName)}*.${next}`;
  }
  return [
    `:hourglass_flowing_sand: *${esc(v.domain)}* is not verified yet: ${esc(v.lastCheckResult ?? 'no record found.')}`,
    'The record to publish:',
    recordText(v),
    v.failsAt ? `Roster rechecks it by itself until ${slackDate(v.failsAt)}.` : `Verify again to retry: \`/org domains verify ${esc(v.domain)}\`.`,
  ].join('\n');
}

/** After enrollment: what the setting now means for people on the domain. */
export function enrollmentText(orgName: string, v: DomainView): string {
  const [domain, org, role] = [esc(v.domain), esc(orgName), describeRole(v.enrollmentRole)];
  switch (v.enrollment) {
    case 'off':
      return `People on *${domain}* join *${org}* only when invited.`;
    case 'suggest':
      return `People with a confirmed *${domain}* email are offered to ask to join *${org}* (on App Home); ${whoMay(joinRequestPermission)} approve.`;
    case 'auto_join':
      return `People with a confirmed *${domain}* email join *${org}* as ${role} by themselves.`;
  }
}
