import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createDomain, type Domain } from '../../src/domain/index.js';
import { createInvitePages } from '../../src/web/invite-page.js';
import { freshDatabase } from '../helpers/db.js';
import { TEST_INVITE_KEY, TestClock } from '../helpers/domain.js';
import { csrfOf, textOf, useInviteRoster, type InviteHarness, type NewInvite } from './harness.js';

const roster = useInviteRoster();

const DAY_HOURS = 24;
const otherToken = () => randomBytes(32).toString('base64url'); // 43 url-safe chars, like a real token

/** Nothing about this invite changed: still pending, no membership, no account, no accept/decline event. */
async function expectUntouched(h: InviteHarness, inv: NewInvite) {
  const l = await h.domain.invites.lookupByToken(inv.token);
  expect(l.invite.status).toBe('pending');
  expect(await h.domain.accounts.findByEmail(inv.email)).toBeUndefined();
  expect(await h.count('memberships', `org_id = '${inv.org.id}'`)).toBe(1); // the owner alone
  expect(await h.count('audit_events', `target_id = '${inv.inviteId}' and action in ('invite.accepted', 'invite.declined')`)).toBe(0);
}

async function roleOf(h: InviteHarness, inv: NewInvite) {
  return (await h.domain.members.find(inv.owner, inv.org.id, { email: inv.email })).role;
}

/** Runs with the clock moved forward, then puts it back so other tests see the present. */
async function later<T>(h: InviteHarness, hours: number, run: () => Promise<T>): Promise<T> {
  const now = h.clock.now();
  h.clock.advanceHours(hours);
  try {
    return await run();
  } finally {
    h.clock.set(now);
  }
}

describe('the pending invite page', () => {
  it('shows the org, who invited, the role and the expiry, with Accept and Decline forms', async () => {
    const h = roster();
    const inv = await h.invite({ role: 'developer', ownerName: 'Olga Owner' });
    const res = await h.get(`/invites/${inv.token}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const text = textOf(res.text);
    expect(text).toContain(`Join ${inv.org.name}`);
    expect(text).toContain(`Olga Owner invited you to join ${inv.org.name}`);
    expect(text).toMatch(/Role Developer/);
    expect(text).toContain(`Invite for ${inv.email}`);
    // Default expiry: 14 days, in words and as a UTC date.
    const utc = inv.expiresAt!.toUTCString().replace(/:\d\d GMT$/, ' UTC');
    expect(text).toContain(`Expires in 14 days (${utc})`);
    expect(res.text).toContain(`<form method="post" action="/invites/${inv.token}/accept">`);
    expect(res.text).toContain(`<form method="post" action="/invites/${inv.token}/decline">`);
    expect(res.text).toMatch(/<input type="text" id="name" name="name"/);
    expect(text).toContain('Your name');
    expect(csrfOf(res.text)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(res.text).not.toMatch(/<script/i);
  });

  it('says when an invite does not expire', async () => {
    const h = roster();
    const inv = await h.invite({ settings: { inviteExpiry: 'never' } });
    const res = await h.get(`/invites/${inv.token}`);
    expect(res.status).toBe(200);
    expect(textOf(res.text)).toContain('Expires Does not expire');
  });

  it('mentions billing emails when the invite includes them', async () => {
    const h = roster();
    const inv = await h.invite({ billingEmails: true });
    expect(textOf((await h.get(`/invites/${inv.token}`)).text)).toContain(`You will also receive ${inv.org.name}'s billing emails.`);
    const plain = await h.invite();
    expect(textOf((await h.get(`/invites/${plain.token}`)).text)).not.toContain('billing emails');
  });
});

describe('accepting through the link', () => {
  it("with the page's CSRF value adds the membership with the invite's role and shows a success page", async () => {
    const h = roster();
    const inv = await h.invite({ role: 'developer' });
    const csrf = csrfOf((await h.get(`/invites/${inv.token}`)).text);
    const res = await h.post(`/invites/${inv.token}/accept`, { csrf, name: 'Nora New' });
    expect(res.status).toBe(200);
    expect(textOf(res.text)).toContain(`You joined ${inv.org.name} as Developer.`);
    expect(await roleOf(h, inv)).toBe('developer');
    // Accepting through the link proves control of the email: the account is created for it, with the name given.
    const account = await h.domain.accounts.findByEmail(inv.email);
    expect(account?.displayName).toBe('Nora New');
    expect((await h.domain.invites.lookupByToken(inv.token)).state).toBe('accepted');
    // The link proves control of the link, not of the address: the audit says it was accepted by link.
    expect(await h.count('audit_events', `target_id = '${inv.inviteId}' and action = 'invite.accepted' and after->>'acceptedBy' = 'link'`)).toBe(1);
  });

  it("joins the existing account that has the invite's email and keeps its name", async () => {
    const h = roster();
    const inv = await h.invite({ role: 'billing' });
    const existing = await h.domain.accounts.findOrCreateByEmail(inv.email.toUpperCase(), 'Existing Ed');
    const csrf = csrfOf((await h.get(`/invites/${inv.token}`)).text);
    const res = await h.post(`/invites/${inv.token}/accept`, { csrf, name: 'Someone Else' });
    expect(res.status).toBe(200);
    expect(textOf(res.text)).toContain(`You joined ${inv.org.name} as Billing.`);
    const member = await h.domain.members.find(inv.owner, inv.org.id, { email: inv.email });
    expect(member.accountId).toBe(existing.id);
    expect(member.role).toBe('billing');
    expect((await h.domain.accounts.get(existing.id)).displayName).toBe('Existing Ed');
  });

  it('works without a name: the account is named from the email', async () => {
    const h = roster();
    const inv = await h.invite();
    const csrf = csrfOf((await h.get(`/invites/${inv.token}`)).text);
    const res = await h.post(`/invites/${inv.token}/accept`, { csrf });
    expect(res.status).toBe(200);
    expect(await roleOf(h, inv)).toBe('member');
    expect((await h.domain.accounts.findByEmail(inv.email))?.displayName).toBeTruthy();
  });

  it('a used link shows the already-in page on GET and on a second POST, and adds nothing', async () => {
    const h = roster();
    const inv = await h.invite({ role: 'admin' });
    const csrf = csrfOf((await h.get(`/invites/${inv.token}`)).text);
    expect((await h.post(`/invites/${inv.token}/accept`, { csrf })).status).toBe(200);

    const again = await h.post(`/invites/${inv.token}/accept`, { csrf });
    expect(again.status).toBe(409);
    expect(textOf(again.text)).toContain(`You're already in ${inv.org.name}`);
    expect(textOf(again.text)).toContain('already been used');

    const page = await h.get(`/invites/${inv.token}`);
    expect(page.status).toBe(200);
    expect(textOf(page.text)).toContain(`You're already in ${inv.org.name}`);
    expect(page.text).not.toContain('/accept"');

    expect(await h.count('memberships', `org_id = '${inv.org.id}'`)).toBe(2);
    expect(await h.count('audit_events', `target_id = '${inv.inviteId}' and action = 'invite.accepted'`)).toBe(1);
    // Declining a used invite is refused too, and it stays accepted.
    const decline = await h.post(`/invites/${inv.token}/decline`, { csrf });
    expect(decline.status).toBe(409);
    expect((await h.domain.invites.lookupByToken(inv.token)).state).toBe('accepted');
  });

  it('is refused with 403 and changes nothing when the CSRF value is missing, wrong, for another link, or the form came from another site', async () => {
    const h = roster();
    const inv = await h.invite();
    const other = await h.invite();
    const csrf = csrfOf((await h.get(`/invites/${inv.token}`)).text);
    const otherCsrf = csrfOf((await h.get(`/invites/${other.token}`)).text);
    const attempts: [Record<string, string>, Record<string, string>][] = [
      [{ name: 'Mallory' }, {}],
      [{ csrf: '' }, {}],
      [{ csrf: 'x'.repeat(43) }, {}],
      [{ csrf: csrf.slice(0, -1) }, {}],
      [{ csrf: otherCsrf }, {}],
      [{ csrf }, { 'sec-fetch-site': 'cross-site' }],
    ];
    for (const [form, headers] of attempts) {
      const res = await h.post(`/invites/${inv.token}/accept`, form, headers);
      expect(res.status, JSON.stringify({ form, headers })).toBe(403);
      expect(textOf(res.text)).toContain('nothing was changed');
    }
    // A JSON body carries no form field: refused the same way.
    const json = await fetch(`${h.baseUrl}/invites/${inv.token}/accept`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ csrf }),
    });
    expect(json.status).toBe(403);
    await expectUntouched(h, inv);
    // The same form from this site still works afterwards.
    expect((await h.post(`/invites/${inv.token}/accept`, { csrf }, { 'sec-fetch-site': 'same-origin' })).status).toBe(200);
    expect(await roleOf(h, inv)).toBe('member');
  });

  it('refuses a name longer than 80 characters with a readable page, keeping what was typed, and changes nothing', async () => {
    const h = roster();
    const inv = await h.invite();
    const csrf = csrfOf((await h.get(`/invites/${inv.token}`)).text);
    const res = await h.post(`/invites/${inv.token}/accept`, { csrf, name: 'N'.repeat(81) });
    expect(res.status).toBe(400);
    expect(textOf(res.text)).toMatch(/at most 80 characters/);
    expect(res.text).toContain(`value="${'N'.repeat(81)}"`);
    expect(res.text).toContain(`/invites/${inv.token}/accept"`); // the form is there to try again
    await expectUntouched(h, inv);
  });

  it('refuses a name with a control character with a readable 400 page naming it, echoes the name without it, and changes nothing', async () => {
    const h = roster();
    const inv = await h.invite();
    const csrf = csrfOf((await h.get(`/invites/${inv.token}`)).text);
    for (const [name, shown] of [
      ['Nora\u0000New', 'U+0000, NUL'],
      ['Nora\u001b[2JNew', 'U+001B, escape'],
      ['Nora\u0085New', 'U+0085'],
      ['Nora\u007f', 'U+007F, DEL'],
    ] as const) {
      const res = await h.post(`/invites/${inv.token}/accept`, { csrf, name });
      expect(res.status, name).toBe(400);
      expect(textOf(res.text)).toContain(`The display name contains a control character (${shown}). Remove it and try again.`);
      // eslint-disable-next-line no-control-regex -- looking for control characters
      expect(res.text).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/);
      expect(res.text).toContain('value="Nora');
    }
    await expectUntouched(h, inv);
  });

  it('refuses with a readable 409 page when the seat limit was reached after the invite was sent, and changes nothing', async () => {
    const h = roster();
    const inv = await h.invite();
    await h.domain.orgs.updateSettings(inv.owner, inv.org.id, { seatLimit: 1 });
    const csrf = csrfOf((await h.get(`/invites/${inv.token}`)).text);
    const res = await h.post(`/invites/${inv.token}/accept`, { csrf, name: 'Sam' });
    expect(res.status).toBe(409);
    const text = textOf(res.text);
    expect(text).toContain(`You could not join ${inv.org.name} yet`);
    expect(text).toMatch(/seat limit/i);
    expect(text).toContain('Nothing was changed');
    await expectUntouched(h, inv);
  });
});

describe('declining through the link', () => {
  it('shows a confirmation, then the link shows the declined page and can no longer be accepted', async () => {
    const h = roster();
    const inv = await h.invite({ ownerName: 'Dora Admin' });
    const csrf = csrfOf((await h.get(`/invites/${inv.token}`)).text);
    const res = await h.post(`/invites/${inv.token}/decline`, { csrf });
    expect(res.status).toBe(200);
    expect(textOf(res.text)).toContain(`You declined the invite to join ${inv.org.name}. Dora Admin will be told.`);
    expect((await h.domain.invites.lookupByToken(inv.token)).state).toBe('declined');

    const page = await h.get(`/invites/${inv.token}`);
    expect(page.status).toBe(200);
    expect(textOf(page.text)).toContain('This invite was declined');
    expect(page.text).not.toContain('/accept"');

    const accept = await h.post(`/invites/${inv.token}/accept`, { csrf });
    expect(accept.status).toBe(409);
    expect(textOf(accept.text)).toContain('This invite was declined');
    expect(await h.domain.accounts.findByEmail(inv.email)).toBeUndefined();
    expect(await h.count('memberships', `org_id = '${inv.org.id}'`)).toBe(1);
  });

  it('is refused with 403 without the CSRF value and the invite stays pending', async () => {
    const h = roster();
    const inv = await h.invite();
    const res = await h.post(`/invites/${inv.token}/decline`, { csrf: 'nope' });
    expect(res.status).toBe(403);
    await expectUntouched(h, inv);
  });
});

describe('other states of a link', () => {
  it('an expired invite shows the expired page, cannot be accepted even before any job ran, but can still be declined', async () => {
    const h = roster();
    const inv = await h.invite({ ownerName: 'Erin Owner' });
    const csrf = csrfOf((await h.get(`/invites/${inv.token}`)).text);
    await later(h, 15 * DAY_HOURS, async () => {
      const page = await h.get(`/invites/${inv.token}`);
      expect(page.status).toBe(410);
      const text = textOf(page.text);
      expect(text).toContain('This invite has expired');
      expect(text).toContain('Ask Erin Owner to send you a new invite.');
      expect(page.text).not.toContain('/accept"');
      expect(page.text).toContain(`action="/invites/${inv.token}/decline"`);
      expect(csrfOf(page.text)).toBe(csrf);

      const accept = await h.post(`/invites/${inv.token}/accept`, { csrf, name: 'Late Larry' });
      expect(accept.status).toBe(410);
      expect(textOf(accept.text)).toContain('This invite has expired');
      await expectUntouched(h, inv);

      const decline = await h.post(`/invites/${inv.token}/decline`, { csrf });
      expect(decline.status).toBe(200);
      expect(textOf(decline.text)).toContain('You declined the invite');
      expect((await h.domain.invites.lookupByToken(inv.token)).state).toBe('declined');
    });
  });

  it('a revoked invite shows the withdrawn page and cannot be accepted', async () => {
    const h = roster();
    const inv = await h.invite();
    const csrf = csrfOf((await h.get(`/invites/${inv.token}`)).text);
    await h.domain.invites.revoke(inv.owner, inv.inviteId);
    const page = await h.get(`/invites/${inv.token}`);
    expect(page.status).toBe(410);
    expect(textOf(page.text)).toContain('This invite was withdrawn');
    expect(page.text).not.toContain('/accept"');
    const accept = await h.post(`/invites/${inv.token}/accept`, { csrf });
    expect(accept.status).toBe(410);
    expect(textOf(accept.text)).toContain('This invite was withdrawn');
    expect(await h.domain.accounts.findByEmail(inv.email)).toBeUndefined();
    expect(await h.count('memberships', `org_id = '${inv.org.id}'`)).toBe(1);
  });

  it('a link replaced by a resend shows the not-valid page, and only the new link works', async () => {
    const h = roster();
    const inv = await h.invite();
    const oldCsrf = csrfOf((await h.get(`/invites/${inv.token}`)).text);
    const { token } = await h.domain.invites.resend(inv.owner, inv.inviteId);
    const old = await h.get(`/invites/${inv.token}`);
    expect(old.status).toBe(404);
    expect(textOf(old.text)).toContain("This link isn't valid");
    expect(textOf(old.text)).toMatch(/newer invite may have replaced it/);
    const oldAccept = await h.post(`/invites/${inv.token}/accept`, { csrf: oldCsrf });
    expect(oldAccept.status).toBe(404);
    expect(await h.domain.accounts.findByEmail(inv.email)).toBeUndefined();
    expect((await h.get(`/invites/${token}`)).status).toBe(200);
  });

  it('unknown and malformed links get the not-valid page with 404, never a 500', async () => {
    const h = roster();
    const paths = [
      `/invites/${otherToken()}`,
      '/invites/abc',
      `/invites/${otherToken()}x`,
      `/invites/${'a'.repeat(5000)}`,
      '/invites/%E0%A4%A',
      '/invites/%F0%9F%98%80',
      '/invites/..%2F..%2Fetc%2Fpasswd',
      "/invites/'%20or%201=1--",
      '/invites/',
      `/invites/${otherToken()}/extra/parts`,
    ];
    for (const path of paths) {
      const res = await h.get(path);
      expect(res.status, path).toBe(404);
      expect(textOf(res.text), path).toContain("This link isn't valid");
    }
    for (const path of ['/invites/abc/accept', '/invites/abc/decline', '/invites/%E0%A4%A/accept', `/invites/${'b'.repeat(44)}/decline`]) {
      const res = await h.post(path, { csrf: 'x' });
      expect(res.status, path).toBe(404);
      expect(textOf(res.text), path).toContain("This link isn't valid");
    }
  });

  it('an oversized form body gets a readable 413 page and changes nothing', async () => {
    const h = roster();
    const inv = await h.invite();
    const csrf = csrfOf((await h.get(`/invites/${inv.token}`)).text);
    const res = await h.post(`/invites/${inv.token}/accept`, { csrf, name: 'x'.repeat(20_000) });
    expect(res.status).toBe(413);
    expect(textOf(res.text)).toContain('nothing was changed');
    await expectUntouched(h, inv);
  });
});

describe('safety of the pages', () => {
  it('org and inviter names render as text, never as HTML', async () => {
    const h = roster();
    const orgName = `<script>alert("x")</script> & Co ${randomBytes(2).toString('hex')}`;
    const inv = await h.invite({ orgName, ownerName: '<img src=x onerror=alert(1)>' });
    const page = await h.get(`/invites/${inv.token}`);
    expect(page.status).toBe(200);
    expect(page.text).not.toContain('<script>');
    expect(page.text).not.toContain('<img');
    expect(page.text).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co');
    expect(textOf(page.text)).toContain(`<img src=x onerror=alert(1)> invited you to join ${orgName}`);

    const csrf = csrfOf(page.text);
    const bad = await h.post(`/invites/${inv.token}/accept`, { csrf, name: `"><script>alert(2)</script>${'z'.repeat(80)}` });
    expect(bad.status).toBe(400);
    expect(bad.text).not.toContain('<script>');
    expect(bad.text).toContain('value="&quot;&gt;&lt;script&gt;');

    const joined = await h.post(`/invites/${inv.token}/accept`, { csrf, name: '<b>Bold</b>' });
    expect(joined.status).toBe(200);
    expect(joined.text).not.toContain('<script>');
    expect(textOf(joined.text)).toContain(`You joined ${orgName} as Member.`);
  });

  it('every invite page is sent with no-referrer, no-store, no framing and a script-free CSP', async () => {
    const h = roster();
    const inv = await h.invite();
    const responses = [
      await h.get(`/invites/${inv.token}`),
      await h.get('/invites/not-a-token'),
      await h.post(`/invites/${inv.token}/accept`, { csrf: 'wrong' }),
      await h.post(`/invites/${inv.token}/decline`, { csrf: csrfOf((await h.get(`/invites/${inv.token}`)).text) }),
    ];
    for (const res of responses) {
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("form-action 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toMatch(/script-src|unsafe-inline|unsafe-eval|\*/);
      expect(res.text).not.toMatch(/<script|\son\w+=/i);
      expect(res.headers.get('x-powered-by')).toBeNull();
    }
  });

  it('invite tokens never appear in the log, while accept and decline are logged', async () => {
    const h = roster();
    const accepted = await h.invite();
    const declined = await h.invite();
    const csrfA = csrfOf((await h.get(`/invites/${accepted.token}`)).text);
    const csrfD = csrfOf((await h.get(`/invites/${declined.token}`)).text);
    await h.post(`/invites/${accepted.token}/accept`, { csrf: 'wrong' });
    await h.post(`/invites/${accepted.token}/accept`, { csrf: csrfA, name: 'Logan' });
    await h.post(`/invites/${accepted.token}/accept`, { csrf: csrfA });
    await h.post(`/invites/${declined.token}/decline`, { csrf: csrfD });
    await h.get(`/invites/${otherToken()}`);
    await h.get('/invites/%E0%A4%A');
    const lines = h.logs.join('');
    expect(lines).toContain(accepted.inviteId); // the log does record what happened…
    expect(lines).toContain(declined.inviteId);
    for (const secret of [accepted.token, declined.token, csrfA, csrfD]) expect(lines).not.toContain(secret); // …never the link
  });

  it("links on the page keep PUBLIC_URL's path prefix", async () => {
    const h = roster();
    const inv = await h.invite();
    const router = createInvitePages({
      domain: h.domain,
      log: pino({ level: 'silent' }),
      csrfKey: Buffer.alloc(32, 1),
      publicUrl: 'https://example.com/roster/',
    });
    await serving(router, async (base) => {
      const res = await fetch(`${base}/invites/${inv.token}`);
      const page = await res.text();
      expect(res.status).toBe(200);
      expect(page).toContain(`action="/roster/invites/${inv.token}/accept"`);
      expect(page).toContain(`action="/roster/invites/${inv.token}/decline"`);
    });
  });

  it('a value PostgreSQL refuses as data (22021, wrapped as drizzle wraps it) is a readable 400 page, not a 500', async () => {
    const refused = Object.assign(new Error('Failed query: select …'), {
      cause: Object.assign(new Error('invalid byte sequence for encoding "UTF8": 0x00'), { code: '22021' }),
    });
    const domain = { invites: { lookupByToken: async () => Promise.reject(refused) } } as unknown as Domain;
    await serving(
      createInvitePages({ domain, log: pino({ level: 'silent' }), csrfKey: Buffer.alloc(32, 3), publicUrl: 'https://roster.test' }),
      async (base) => {
        const res = await fetch(`${base}/invites/${otherToken()}`);
        const page = await res.text();
        expect(res.status).toBe(400);
        expect(textOf(page)).toContain('That input is not accepted');
        expect(page).not.toMatch(/Failed query|byte sequence|\n\s+at /);
      },
    );
  });

  it('a failure on our side is a plain 500 page with no details, logged without the link', async () => {
    // A domain over a database that has gone away: every lookup fails like an outage would.
    const gone = await freshDatabase(1);
    await gone.close();
    const domain = createDomain({ db: gone.db, clock: new TestClock(), settings: { membershipMode: 'multi', inviteTokenKey: TEST_INVITE_KEY } });
    const lines: string[] = [];
    const log = pino({ level: 'trace' }, { write: (l: string) => void lines.push(l) });
    const token = otherToken();
    await serving(createInvitePages({ domain, log, csrfKey: Buffer.alloc(32, 2), publicUrl: 'https://roster.test' }), async (base) => {
      const res = await fetch(`${base}/invites/${token}`);
      const page = await res.text();
      expect(res.status).toBe(500);
      expect(textOf(page)).toContain('Something went wrong on our side');
      expect(page).not.toMatch(/\n\s+at |node_modules|pool|Error/);
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    });
    expect(lines.join('')).toContain('invite page failed');
    expect(lines.join('')).not.toContain(token);
  });
});

/** Runs with the router mounted at /invites on a small express app of its own. */
async function serving(router: express.Router, run: (base: string) => Promise<void>) {
  const app = express();
  app.use('/invites', router);
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  try {
    await run(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
}
