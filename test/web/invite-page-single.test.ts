import { describe, expect, it } from 'vitest';
import { csrfOf, textOf, useInviteRoster } from './harness.js';

// MEMBERSHIP_MODE=single (Elastic): a person belongs to at most one org at a time.
const roster = useInviteRoster({ MEMBERSHIP_MODE: 'single' });

describe('the invite page with one organization per person', () => {
  it('refuses to accept a second org with a readable 409 page saying to leave first, and changes nothing', async () => {
    const h = roster();
    const first = await h.invite();
    const csrfFirst = csrfOf((await h.get(`/invites/${first.token}`)).text);
    expect((await h.post(`/invites/${first.token}/accept`, { csrf: csrfFirst })).status).toBe(200);

    // The same person is invited to a second org.
    const second = await h.invite();
    const [r] = await h.domain.invites.create(second.owner, second.org.id, { emails: first.email, role: 'admin' });
    if (!r?.ok) throw new Error(`invite failed: ${r?.message}`);
    const csrf = csrfOf((await h.get(`/invites/${r.token}`)).text);
    const res = await h.post(`/invites/${r.token}/accept`, { csrf });
    expect(res.status).toBe(409);
    const text = textOf(res.text);
    expect(text).toContain(`You could not join ${second.org.name} yet`);
    expect(text).toMatch(/Leave it before joining another one/);
    expect(text).toContain('Nothing was changed');
    expect(res.text).toContain(`href="/invites/${r.token}"`);

    expect((await h.domain.invites.lookupByToken(r.token)).state).toBe('pending');
    expect(await h.count('memberships', `org_id = '${second.org.id}'`)).toBe(1);
    expect(await h.count('audit_events', `target_id = '${r.invite.id}' and action = 'invite.accepted'`)).toBe(0);
    // Declining it is still possible.
    expect((await h.post(`/invites/${r.token}/decline`, { csrf })).status).toBe(200);
    expect((await h.domain.invites.lookupByToken(r.token)).state).toBe('declined');
  });
});
