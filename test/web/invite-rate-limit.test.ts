import { describe, expect, it } from 'vitest';
import { useInviteRoster } from './harness.js';

// Floods of invite-page requests from one address are held back (per process), with a plain page.

const harness = useInviteRoster({ INVITE_PAGE_RATE_LIMIT: '3', TRUST_PROXY: 'loopback' });

describe('invite page rate limit', () => {
  it('an address past its budget gets a 429 page with Retry-After and no stack; another address is served', async () => {
    const h = harness();
    const invite = await h.invite();
    const flood = { 'x-forwarded-for': '198.51.100.7' };
    for (let i = 0; i < 3; i++) expect((await h.get(`/invites/${invite.token}`, flood)).status).toBe(200);
    const refused = await h.get(`/invites/${invite.token}`, flood);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(refused.headers.get('content-type')).toMatch(/text\/html/);
    expect(refused.text).toContain('Too many requests');
    expect(refused.text).not.toMatch(/at \w+ \(|node_modules|\/src\//);
    // Accepting is refused too (a POST counts the same), and nothing changed.
    expect((await h.post(`/invites/${invite.token}`, { action: 'accept' }, flood)).status).toBe(429);
    expect(await h.count('invites', `id = '${invite.inviteId}' and status = 'pending'`)).toBe(1);
    expect((await h.get(`/invites/${invite.token}`, { 'x-forwarded-for': '198.51.100.8' })).status).toBe(200);
  });
});
