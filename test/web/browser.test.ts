import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PUBLIC_URL, useInviteRoster } from './harness.js';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) {
  // The one allowed skip: this machine has no browser to drive.
  console.warn(
    `Skipping the invite page browser test: ${CHROMIUM} is missing. Install it with \`apt-get install -y chromium\` (never \`npx playwright install\`).`,
  );
}

describe.skipIf(!haveChromium)('the invite page in headless Chromium', () => {
  const roster = useInviteRoster();
  let browser: Browser;

  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
  });
  afterAll(async () => {
    await browser?.close();
  });

  /** A phone-sized page with JavaScript off: the invite page must work with plain HTML forms. */
  async function openPage() {
    const context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 390, height: 844 } });
    const page = await context.newPage();
    const cspViolations: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
    });
    return { context, page, cspViolations };
  }

  it('an invitee opens the link, types their name, clicks Accept and joins with the invite role', async () => {
    const h = roster();
    const inv = await h.invite({ role: 'admin', ownerName: 'Olga Owner' });
    // The emailed link is PUBLIC_URL + /invites/<token>; the browser reaches this test server instead.
    const link = `${PUBLIC_URL}/invites/${inv.token}`;
    const { context, page, cspViolations } = await openPage();
    try {
      const res = await page.goto(link.replace(PUBLIC_URL, h.baseUrl));
      expect(res?.status()).toBe(200);
      await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe(`Join ${inv.org.name}`);
      expect(await page.locator('body').innerText()).toContain('Olga Owner invited you');
      // The inline stylesheet is allowed by the CSP: the Accept button is styled, and the page fits a phone.
      const accept = page.getByRole('button', { name: 'Accept invite' });
      expect(await accept.evaluate((el: any) => el.ownerDocument.defaultView.getComputedStyle(el).backgroundColor)).toBe('rgb(18, 100, 163)');
      expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);

      await page.getByLabel('Your name').fill('Ada Browser');
      await accept.click();
      await page.waitForURL(`**/invites/${inv.token}/accept`);

      await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe(`Welcome to ${inv.org.name}`);
      expect(await page.locator('body').innerText()).toContain(`You joined ${inv.org.name} as Admin.`);
      const member = await h.domain.members.find(inv.owner, inv.org.id, { email: inv.email });
      expect(member.role).toBe('admin');
      expect(member.displayName).toBe('Ada Browser');
      expect(cspViolations).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('an invitee clicks Decline and the invite is declined, with no membership', async () => {
    const h = roster();
    const inv = await h.invite();
    const { context, page, cspViolations } = await openPage();
    try {
      await page.goto(`${h.baseUrl}/invites/${inv.token}`);
      await page.getByRole('button', { name: 'Decline invite' }).click();
      await page.waitForURL(`**/invites/${inv.token}/decline`);
      await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Invite declined');
      expect((await h.domain.invites.lookupByToken(inv.token)).state).toBe('declined');
      expect(await h.count('memberships', `org_id = '${inv.org.id}'`)).toBe(1);
      expect(cspViolations).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
