import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDomain, type Domain } from '../../src/domain/index.js';
import { accountActor, systemClock } from '../../src/domain/context.js';
import { freshDatabase } from '../helpers/db.js';
import { newMember } from '../helpers/fixtures.js';
import { runCliHere, runCliProcess, show } from '../helpers/process.js';
import { renderEmail } from '../../src/delivery/email-templates.js';

/**
 * The CLI can do what Slack can (issue 16 §3): invites revoke/resend/update, members role/remove/billing/
 * transfer, org rename/delete, SCIM default role and owner mapping. Each is the domain call Slack makes,
 * audited as the operator with via cli. Happy paths run the real bin/roster.js; refusals run in-process.
 */

let db: Awaited<ReturnType<typeof freshDatabase>>;
let env: Record<string, string>;
let domain: Domain;

beforeAll(async () => {
  db = await freshDatabase(2);
  env = { DATABASE_URL: db.url, LOG_LEVEL: 'silent', PUBLIC_URL: 'https://roster.test', APP_SECRET: 'p'.repeat(40) };
  domain = createDomain({ db: db.db, clock: systemClock, settings: { membershipMode: 'multi', inviteTokenKey: Buffer.alloc(32, 7) } });
});

afterAll(async () => {
  await db?.close();
});

type Result = { code: number; stdout: string; stderr: string };

async function binary(...argv: string[]): Promise<Result> {
  const r = await runCliProcess(argv, env);
  return { code: r.code ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const roster = (...argv: string[]): Promise<Result> => runCliHere(argv, env);

const fmt = (r: Result) => show({ code: r.code, stdout: r.stdout, stderr: r.stderr });
const tag = () => randomBytes(3).toString('hex');

async function newOrg() {
  const t = tag();
  const owner = `owner.${t}@example.com`;
  const name = `Parity ${t}`;
  // A display name of words: one derived from the address (owner.ab12cd) may look like a domain, and
  // emails defang those.
  const r = await roster('org', 'create', name, '--owner', owner, '--owner-name', 'Olga Parity');
  expect(r.code, fmt(r)).toBe(0);
  const org = await domain.orgs.resolve(r.stdout.trim().split('\n').at(-1)!);
  return { org, owner, name };
}

const q = async (sql: string, params: unknown[]) => (await db.pool.query(sql, params)).rows;
const lastEvent = async (orgId: string, action: string) =>
  (await q(`select actor_label, via, before, after from audit_events where org_id = $1 and action = $2 order by id desc limit 1`, [orgId, action]))[0];

describe('roster members (real binary)', () => {
  it('role, billing, transfer and remove change a member through the domain, audited as the operator via cli', async () => {
    const { org, owner } = await newOrg();
    const ownerActor = accountActor(org.primaryOwnerId, 'cli');
    const dev = await newMember(domain, org, ownerActor, 'developer');
    const email = dev.account.email!;

    const role = await binary('members', 'role', org.slug, email, 'admin');
    expect(role.code, fmt(role)).toBe(0);
    expect(role.stdout).toMatch(/is now admin in Parity/i);
    expect((await domain.members.find(ownerActor, org.id, { email })).role).toBe('admin');
    expect(await lastEvent(org.id, 'member.role_changed')).toMatchObject({ actor_label: 'Operator (roster CLI)', via: 'cli' });

    const billing = await binary('members', 'billing', org.slug, email.toUpperCase(), 'on');
    expect(billing.code, fmt(billing)).toBe(0);
    expect((await domain.members.find(ownerActor, org.id, { email })).billingEmails).toBe(true);

    // The primary owner hands over to an owner; then the former primary owner can be removed.
    expect((await binary('members', 'role', org.slug, email, 'owner')).code).toBe(0);
    // Only the primary owner hands primary ownership on: the operator acts as them (--as).
    const refused = await roster('members', 'transfer', org.slug, email);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/Only the primary owner/);
    const transfer = await binary('members', 'transfer', org.slug, email, '--as', owner);
    expect(transfer.code, fmt(transfer)).toBe(0);
    expect((await domain.orgs.resolve(org.slug)).primaryOwnerId).toBe(dev.account.id);

    const removed = await binary('members', 'remove', org.slug, owner);
    expect(removed.code, fmt(removed)).toBe(0);
    expect(removed.stdout).toContain('access ended');
    expect((await domain.members.list(accountActor(dev.account.id, 'cli'), org.id)).map((m) => m.email)).toEqual([email]);
    // `roster members <org>` still lists, as does `members list <org>`.
    const list = await binary('members', 'list', org.slug);
    expect(list.code, fmt(list)).toBe(0);
    expect(list.stdout).toContain(email);
  });

  it('refusals say why and change nothing: unknown member, bad role, the last owner, on|off', async () => {
    const { org, owner } = await newOrg();
    const nobody = await roster('members', 'role', org.slug, 'nobody@example.com', 'admin');
    expect(nobody.code).toBe(1);
    expect(nobody.stderr).toMatch(/not a member|no member|member/i);
    const bad = await roster('members', 'role', org.slug, owner, 'emperor');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/emperor/);
    const last = await roster('members', 'remove', org.slug, owner);
    expect(last.code).toBe(1);
    expect(last.stderr).toMatch(/owner/i);
    const onoff = await roster('members', 'billing', org.slug, owner, 'maybe');
    expect(onoff.code).toBe(2);
    expect(onoff.stderr).toMatch(/on or off/);
    const noRole = await roster('members', 'role', org.slug, owner);
    expect(noRole.code).toBe(2);
    expect((await domain.members.list(accountActor(org.primaryOwnerId, 'cli'), org.id)).map((m) => m.role)).toEqual(['owner']);
  });
});

describe('roster audit names its targets', () => {
  it('the org by its name, and a member who has since left by their email (their earlier events too)', async () => {
    const { org, name } = await newOrg();
    const ownerActor = accountActor(org.primaryOwnerId, 'cli');
    const dev = await newMember(domain, org, ownerActor, 'developer');
    const email = dev.account.email!;
    expect((await roster('members', 'role', org.slug, email, 'admin')).code).toBe(0);
    expect((await roster('members', 'remove', org.slug, email)).code).toBe(0);
    expect((await roster('org', 'settings', org.slug, '--seat-limit', '50')).code).toBe(0);

    const r = await roster('audit', org.slug);
    expect(r.code, fmt(r)).toBe(0);
    const line = (action: string) => r.stdout.split('\n').find((l) => l.includes(` ${action} `)) ?? `(no ${action} line)`;
    expect(line('member.role_changed')).toMatch(new RegExp(`membership ${email.replace(/\./g, '\\.')}$`));
    expect(line('member.removed')).toMatch(new RegExp(`membership ${email.replace(/\./g, '\\.')}$`));
    expect(line('org.settings_changed')).toMatch(new RegExp(`org ${name}$`));
    expect(line('org.created')).toMatch(new RegExp(`org ${name}$`));
  });
});

describe('roster invites (real binary)', () => {
  it('update, resend and revoke a pending invite named by its email', async () => {
    const { org } = await newOrg();
    const email = `invitee.${tag()}@example.com`;
    expect((await roster('invite', org.slug, email)).code).toBe(0);

    const updated = await binary('invites', 'update', org.slug, email, '--role', 'admin', '--billing-emails', 'on');
    expect(updated.code, fmt(updated)).toBe(0);
    expect(updated.stdout).toMatch(/now gives admin, with billing emails/i);
    expect(await q(`select role, billing_emails from invites where org_id = $1 and email = $2`, [org.id, email])).toEqual([
      { role: 'admin', billing_emails: true },
    ]);

    const resent = await binary('invites', 'resend', org.slug, email);
    expect(resent.code, fmt(resent)).toBe(0);
    expect(resent.stdout).toMatch(/https:\/\/roster\.test\/invites\//);
    expect(await lastEvent(org.id, 'invite.resent')).toMatchObject({ via: 'cli' });

    const revoked = await binary('invites', 'revoke', org.slug, email);
    expect(revoked.code, fmt(revoked)).toBe(0);
    expect((await q(`select status from invites where org_id = $1 and email = $2`, [org.id, email]))[0].status).toBe('revoked');

    const again = await roster('invites', 'revoke', org.slug, email);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`no pending invite for ${email}`);
    const nothing = await roster('invites', 'update', org.slug, email);
    expect(nothing.code).toBe(1);
  });
});

describe('roster org rename|delete and roster scim default-role|allow-owner (real binary)', () => {
  it('rename keeps the URL name; delete needs the exact name and keeps the trail; SCIM settings change', async () => {
    const { org, name, owner: owner_ } = await newOrg();
    const renamed = await binary('org', 'rename', org.slug, 'Parity', 'Renamed');
    expect(renamed.code, fmt(renamed)).toBe(0);
    expect((await domain.orgs.resolve(org.slug)).name).toBe('Parity Renamed');
    expect(await lastEvent(org.id, 'org.renamed')).toMatchObject({ before: { name }, after: { name: 'Parity Renamed' }, via: 'cli' });

    const role = await binary('scim', 'default-role', org.slug, 'developer');
    expect(role.code, fmt(role)).toBe(0);
    const owner = await binary('scim', 'allow-owner', org.slug, 'on');
    expect(owner.code, fmt(owner)).toBe(0);
    expect(await q(`select scim_default_role, scim_allow_owner from orgs where id = $1`, [org.id])).toEqual([
      { scim_default_role: 'developer', scim_allow_owner: true },
    ]);
    expect((await roster('scim', 'default-role', org.slug, 'emperor')).code).toBe(1);

    const unconfirmed = await roster('org', 'delete', org.slug);
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr).toContain(`--confirm "Parity Renamed"`);
    const wrong = await roster('org', 'delete', org.slug, '--confirm', 'Parity');
    expect(wrong.code).toBe(1);
    expect(await q(`select count(*)::int as n from orgs where id = $1`, [org.id])).toEqual([{ n: 1 }]);
    const deleted = await binary('org', 'delete', org.slug, '--confirm', 'Parity Renamed');
    expect(deleted.code, fmt(deleted)).toBe(0);
    expect(await q(`select count(*)::int as n from orgs where id = $1`, [org.id])).toEqual([{ n: 0 }]);

    // The trail is kept, and the operator reads it by the id the deletion printed (its URL name is free again).
    expect(deleted.stdout).toContain(`Its audit trail is kept: roster audit ${org.id}`);
    const trail = await roster('audit', org.id);
    expect(trail.code, fmt(trail)).toBe(0);
    expect(trail.stdout).toMatch(/\sorg\.deleted\s/);
    expect(trail.stdout).toMatch(/\sorg\.created\s/);
    // Nobody else may: no member of a deleted org is left to ask as.
    expect((await roster('audit', org.id, '--as', owner_)).code).toBe(1);
  });
});

describe('invites made from the CLI name their inviter', () => {
  async function inviteAndRead(org: { id: string; slug: string }, extraEnv: Record<string, string>, ...flags: string[]) {
    const email = `named.${tag()}@example.com`;
    const r = await runCliProcess(['invite', org.slug, email, ...flags], { ...env, ...extraEnv });
    expect(r.code, show(r)).toBe(0);
    const token = /\/invites\/([A-Za-z0-9_-]+)/.exec(r.stdout)![1]!;
    const page = await domain.invites.lookupByToken(token);
    const [notice] = (await domain.outbox.find({ kind: 'invite.sent' })).filter((n) => n.orgId === org.id && n.recipientEmail === email);
    const mail = renderEmail((await domain.outbox.describe(notice!))!, 'https://roster.test')!;
    return { page: page.invitedByName, mail: mail.text };
  }

  it("as the operator: OPERATOR_NAME, else the org's name, on the invite page and in the email; with --as, that person", async () => {
    const { org, owner } = await newOrg();
    const named = await inviteAndRead(org, { OPERATOR_NAME: 'Globex IT' });
    expect(named.page).toBe('Globex IT');
    expect(named.mail).toContain('Globex IT invited you');
    const plain = await inviteAndRead(org, {});
    expect(plain.page).toBe(org.name);
    expect(plain.mail).toContain(`${org.name} invited you`);
    const ownerName = (await domain.accounts.findByEmail(owner))!.displayName;
    const as = await inviteAndRead(org, {}, '--as', owner);
    expect(as.page).toBe(ownerName);
    expect(as.mail).toContain(`${ownerName} invited you`);
  });
});
