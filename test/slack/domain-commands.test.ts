import { describe, expect, it } from 'vitest';
import { useDnsServer } from '../helpers/dns.js';
import {
  addMember,
  ask,
  auditCount,
  countRows,
  formsShown,
  modalFrom,
  modalText,
  orgOwnedBy,
  slackPerson,
  uniq,
  useSlackRoster,
  type SlackHarness,
  type SlackPerson,
} from '../helpers/slack.js';

// `/org domains …`: an org's verified email domains from Slack, checked against a real DNS server on
// loopback that the booted Roster asks (DNS_SERVERS).

const dns = useDnsServer();
// The DNS server's port is known only once its beforeAll has run, which is before Roster boots: the
// getter is read when the Roster's settings are built.
const harness = useSlackRoster({
  get DNS_SERVERS() {
    return dns.address;
  },
});

/** Every text of a reply: its fallback text and its blocks' mrkdwn. */
function allText(reply: Record<string, any>): string {
  const blocks = (reply.blocks ?? []) as any[];
  return [
    reply.text ?? '',
    ...blocks.flatMap((b) => (b.type === 'section' ? [b.text.text] : b.type === 'context' ? b.elements.map((e: any) => e.text) : [])),
  ].join('\n');
}

/** A domain no other test (or earlier run on the same DNS table) uses. */
const freshDomain = () => `acme-${uniq()}.test`;

/** The TXT value an add reply (or added modal) asks to publish. */
function publishedValue(text: string): string {
  const m = /• Value: `([^`]+)`/.exec(text);
  if (!m) throw new Error(`no TXT value in:\n${text}`);
  return m[1]!;
}

async function ownerWithOrg(h: SlackHarness): Promise<{ olga: SlackPerson; org: Awaited<ReturnType<typeof orgOwnedBy>> }> {
  const olga = await slackPerson(h, 'Olga');
  const org = await orgOwnedBy(h, olga);
  return { olga, org };
}

const domainRows = (h: SlackHarness, orgId: string) => countRows(h, 'org_domains', `org_id = '${orgId}'`);

// Block Kit state values as Slack sends them.
const textValue = (value: string | null) => ({ type: 'plain_text_input', value });

describe('/org domains add', () => {
  it('an owner adds a domain and is shown the TXT record to publish, in code, and how to verify', async () => {
    const h = harness();
    const { olga, org } = await ownerWithOrg(h);
    const domain = freshDomain();

    const reply = await ask(h, olga, `domains add ${domain.toUpperCase()}`);
    expect(reply.text).toContain(`Added *${domain}* to *${org.name}*`);
    expect(reply.text).toContain('• Type: `TXT`');
    expect(reply.text).toContain(`• Name: \`_roster-challenge.${domain}\``);
    expect(publishedValue(reply.text)).toMatch(/^roster-verification=[\w-]+$/);
    expect(reply.text).toContain(`\`/org domains verify ${domain}\``);

    const [stored] = await h.domain.domains.list(olga.actor, org.id);
    expect(stored).toMatchObject({ domain, status: 'pending', record: { name: `_roster-challenge.${domain}`, value: publishedValue(reply.text) } });
    expect(await auditCount(h, org, 'domain.added')).toBe(1);
  });

  it('the list shows a pending domain with its record, when it fails, the last check, and the enrollment mode and role', async () => {
    const h = harness();
    const { olga, org } = await ownerWithOrg(h);
    const domain = freshDomain();
    const added = await ask(h, olga, `domains add ${domain}`);
    await ask(h, olga, `domains verify ${domain}`);

    const list = allText(await ask(h, olga, 'domains'));
    expect(list).toContain(`${org.name} has 1 domain, 0 verified.`);
    expect(list).toMatch(new RegExp(`:hourglass_flowing_sand: \\*${domain.replace(/\./g, '\\.')}\\* · pending · fails <!date\\^\\d+\\^`));
    expect(list).toContain(`name \`_roster-challenge.${domain}\` · value \`${publishedValue(added.text)}\``);
    expect(list).toMatch(/Last check <!date[^>]+>: No TXT record found at _roster-challenge\./);
    expect(list).toContain('Enrollment: off · role: Member');
    expect(list).toContain('Owners only.');
    expect(await ask(h, olga, 'domains list')).toEqual(await ask(h, olga, 'domains'));
  });

  it('an org with no domains is told how to add one', async () => {
    const h = harness();
    const { olga, org } = await ownerWithOrg(h);
    const reply = await ask(h, olga, 'domains');
    expect(reply.text).toBe(`*${org.name}* has no domains yet. Add one with \`/org domains add acme.com\`.`);
    expect(allText(reply)).toContain('`/org domains enrollment <domain> off|suggest|auto-join [role]`');
  });

  it('an admin is refused with a clear message, and nothing is stored', async () => {
    const h = harness();
    const { olga, org } = await ownerWithOrg(h);
    const adam = await addMember(h, org, olga, 'admin', 'Adam');

    const reply = await ask(h, adam, `domains add ${freshDomain()}`);
    expect(reply.text).toMatch(/^:warning: In .+, you don't have permission to manage the organization's verified domains \(owners only\)\.$/);

    const mark = h.slack.calls.length;
    expect(await modalText(h, adam.user, 'domains add')).toBe(`:warning: Only owners can add domains to *${org.name}*. Your role is Admin.`);
    expect(formsShown(h, mark)).toEqual([]);

    expect(await domainRows(h, org.id)).toBe(0);
    expect(await auditCount(h, org, 'domain.added')).toBe(0);
    // Members may still see the list.
    expect((await ask(h, adam, 'domains')).text).toContain('has no domains yet');
  });

  it('gmail.com is refused with the reason, and nothing is stored', async () => {
    const h = harness();
    const { olga, org } = await ownerWithOrg(h);
    const reply = await ask(h, olga, 'domains add gmail.com');
    expect(reply.text).toBe(':warning: gmail.com is a free email provider: anyone can have an address there, so no organization can claim it.');
    expect(await domainRows(h, org.id)).toBe(0);
  });

  it('a domain Slack turned into a link is read as the domain', async () => {
    const h = harness();
    const { olga, org } = await ownerWithOrg(h);
    const domain = freshDomain();
    const reply = await ask(h, olga, `domains add <http://${domain}|${domain}>`);
    expect(reply.text).toContain(`Added *${domain}*`);
    expect((await h.domain.domains.list(olga.actor, org.id)).map((d) => d.domain)).toEqual([domain]);
  });
});

describe('/org domains add (form)', () => {
  it('with no domain, an owner gets a form asking for it; nothing is stored yet', async () => {
    const h = harness();
    const { olga, org } = await ownerWithOrg(h);
    const view = await modalFrom(h, olga.user, 'domains add');
    expect(view.callback_id).toBe('org_domain_add_modal');
    expect(JSON.parse(view.private_metadata)).toEqual({ orgId: org.id });
    expect(view.blocks.find((b: any) => b.type === 'input')).toMatchObject({ block_id: 'domain', element: { action_id: 'domain_input' } });
    expect(await domainRows(h, org.id)).toBe(0);
  });

  const submitDomain = (h: SlackHarness, p: SlackPerson, orgId: string, value: string | null) =>
    h.submit(p.user, { callback_id: 'org_domain_add_modal', private_metadata: JSON.stringify({ orgId }) }, { domain: { domain_input: textValue(value) } });

  it('a submission with an invalid domain is refused on the field', async () => {
    const h = harness();
    const { olga, org } = await ownerWithOrg(h);
    expect(await submitDomain(h, olga, org.id, 'not a domain')).toEqual({
      response_action: 'errors',
      errors: { domain: '"not a domain" is not a domain name.' },
    });
    expect(await submitDomain(h, olga, org.id, 'ana@gmail.com')).toEqual({
      response_action: 'errors',
      errors: { domain: 'Give the domain only (e.g. gmail.com), not an email address.' },
    });
    expect(await submitDomain(h, olga, org.id, 'gmail.com')).toEqual({
      response_action: 'errors',
      errors: { domain: 'gmail.com is a free email provider: anyone can have an address there, so no organization can claim it.' },
    });
    expect(await domainRows(h, org.id)).toBe(0);
  });

  it('a valid submission adds the domain, and the form turns into the record to publish', async () => {
    const h = harness();
    const { olga, org } = await ownerWithOrg(h);
    const domain = freshDomain();
    const res = await submitDomain(h, olga, org.id, ` https://${domain}/ `);
    expect(res.response_action).toBe('update');
    expect(res.view.title.text).toBe('Domain added');
    const text = res.view.blocks.map((b: any) => b.text.text).join('\n');
    expect(text).toContain(`Added *${domain}* to *${org.name}*`);
    expect(text).toContain(`• Name: \`_roster-challenge.${domain}\``);
    const [stored] = await h.domain.domains.list(olga.actor, org.id);
    expect(stored?.record.value).toBe(publishedValue(text));
  });

  it('an admin submitting the form anyway is refused, and nothing is stored', async () => {
    const h = harness();
    const { olga, org } = await ownerWithOrg(h);
    const adam = await addMember(h, org, olga, 'admin', 'Adam');
    const res = await submitDomain(h, adam, org.id, freshDomain());
    expect(res).toEqual({
      response_action: 'errors',
      errors: { domain: expect.stringMatching(/^In .+, you don't have permission to manage the organization's verified domains \(owners only\)\.$/) },
    });
    expect(await domainRows(h, org.id)).toBe(0);
  });
});

describe('/org domains verify', () => {
  it('before the record is published it says not yet and why; after, verified', async () => {
    const h = harness();
    const { olga, org } = await ownerWithOrg(h);
    const domain = freshDomain();
    const value = publishedValue((await ask(h, olga, `domains add ${domain}`)).text);

    const early = await ask(h, olga, `domains verify ${domain}`);
    expect(early.text).toContain(`:hourglass_flowing_sand: *${domain}* is not verified yet: No TXT record found at _roster-challenge.${domain} yet`);
    expect(publishedValue(early.text)).toBe(value);
    expect(early.text).toMatch(/Roster rechecks it by itself until <!date/);

    dns.setTxt(`_roster-challenge.${domain}`, 'some-other-record', value);
    const ok = await ask(h, olga, `domains verify ${domain}`);
    expect(ok.text).toBe(
      `:white_check_mark: *${domain}* is verified for *${org.name}*. To let people with a confirmed email there join, use \`/org domains enrollment ${domain} auto-join\`.`,
    );
    expect(await auditCount(h, org, 'domain.verified')).toBe(1);

    const list = allText(await ask(h, olga, 'domains'));
    expect(list).toMatch(new RegExp(`:white_check_mark: \\*${domain.replace(/\./g, '\\.')}\\* · verified <!date`));
    expect(list).not.toContain('_roster-challenge');
  });

  it('a wrong value in DNS is not enough', async () => {
    const h = harness();
    const { olga } = await ownerWithOrg(h);
    const domain = freshDomain();
    await ask(h, olga, `domains add ${domain}`);
    dns.setTxt(`_roster-challenge.${domain}`, 'roster-verification=copied-from-elsewhere');
    const reply = await ask(h, olga, `domains verify ${domain}`);
    expect(reply.text).toContain('is not verified yet: The TXT record at');
  });

  it('verifying a domain that is not on the org says so; no domain says how to name it', async () => {
    const h = harness();
    const { olga } = await ownerWithOrg(h);
    expect((await ask(h, olga, 'domains verify nowhere.test')).text).toBe(":warning: nowhere.test isn't on this organization. Add it first.");
    expect((await ask(h, olga, 'domains verify')).text).toBe(':warning: Say which domain: `/org domains verify acme.com`.');
  });
});

describe('/org domains enrollment and remove', () => {
  async function verifiedDomain(h: SlackHarness, p: SlackPerson): Promise<string> {
    const domain = freshDomain();
    dns.setTxt(`_roster-challenge.${domain}`, publishedValue((await ask(h, p, `domains add ${domain}`)).text));
    expect((await ask(h, p, `domains verify ${domain}`)).text).toContain('is verified');
    return domain;
  }

  it('auto-join with a role works on a verified domain, and the list shows it', async () => {
    const h = harness();
    const { olga, org } = await ownerWithOrg(h);
    const domain = await verifiedDomain(h, olga);

    const reply = await ask(h, olga, `domains enrollment ${domain} auto-join Developer`);
    expect(reply.text).toBe(`People with a confirmed *${domain}* email join *${org.name}* as Developer by themselves.`);
    const [stored] = await h.domain.domains.list(olga.actor, org.id);
    expect(stored).toMatchObject({ enrollment: 'auto_join', enrollmentRole: 'developer' });
    expect(allText(await ask(h, olga, 'domains'))).toContain('Enrollment: auto-join · role: Developer');
    expect(await auditCount(h, org, 'domain.enrollment_changed')).toBe(1);

    expect((await ask(h, olga, `domains enrollment ${domain} suggest`)).text).toBe(
      `People with a confirmed *${domain}* email are offered to ask to join *${org.name}* (on App Home); owners and admins approve.`,
    );
    expect((await ask(h, olga, `domains enrollment ${domain} off`)).text).toBe(`People on *${domain}* join *${org.name}* only when invited.`);
  });

  it('enrollment is refused on an unverified domain, for the owner role, and for an unknown mode', async () => {
    const h = harness();
    const { olga, org } = await ownerWithOrg(h);
    const pending = freshDomain();
    await ask(h, olga, `domains add ${pending}`);
    expect((await ask(h, olga, `domains enrollment ${pending} auto-join`)).text).toMatch(/^:warning: .* is not verified yet: publish its TXT record/);

    const domain = await verifiedDomain(h, olga);
    expect((await ask(h, olga, `domains enrollment ${domain} auto-join owner`)).text).toMatch(/^:warning: Nobody becomes an owner by their email domain/);
    expect((await ask(h, olga, `domains enrollment ${domain} always`)).text).toBe(':warning: Enrollment is one of: off, suggest, auto-join (not "always").');
    expect((await ask(h, olga, `domains enrollment ${domain}`)).text).toMatch(
      // errorText escapes < and > for mrkdwn; Slack shows them as typed.
      /^:warning: Use `\/org domains enrollment &lt;domain&gt; off\|suggest\|auto-join \[role\]`/,
    );
    expect(await auditCount(h, org, 'domain.enrollment_changed')).toBe(0);
  });

  it('an owner removes a domain; an admin cannot', async () => {
    const h = harness();
    const { olga, org } = await ownerWithOrg(h);
    const adam = await addMember(h, org, olga, 'admin', 'Adam');
    const domain = freshDomain();
    await ask(h, olga, `domains add ${domain}`);

    expect((await ask(h, adam, `domains remove ${domain}`)).text).toMatch(/^:warning: In .+, you don't have permission to manage .* \(owners only\)\.$/);
    expect(await domainRows(h, org.id)).toBe(1);

    expect((await ask(h, olga, `domains remove ${domain}`)).text).toBe(`Removed *${domain}* from *${org.name}*. Its DNS record can be deleted now.`);
    expect(await domainRows(h, org.id)).toBe(0);
    expect(await auditCount(h, org, 'domain.removed')).toBe(1);
  });
});

describe('/org help and unknown domain subcommands', () => {
  it('help has a line for domains; an unknown subcommand gets the domains usage', async () => {
    const h = harness();
    const { olga } = await ownerWithOrg(h);
    expect((await ask(h, olga, 'help')).text).toMatch(/`\/org domains` verified email domains.*\(owners\)/);
    const reply = await ask(h, olga, 'domains frobnicate');
    expect(reply.text).toMatch(/^I don't know `\/org domains frobnicate`\.\n\*Verified domains\*/);
  });
});
