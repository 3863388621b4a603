import { describe, expect, it } from 'vitest';
import { useWorld } from '../helpers/domain.js';

/** A form can say "you can't leave" before asking to confirm: the same rules as leaving, nothing kept. */
const world = useWorld();

describe('checking whether someone may leave', () => {
  it('refuses the primary owner and a sole member with the rule that would refuse leaving, and changes nothing', async () => {
    const w = world();
    const { org, owner } = await w.org();
    await expect(w.domain.members.assertMayLeave(owner.actor, org.id)).rejects.toMatchObject({ code: 'sole_member' });
    const admin = await w.member(org, owner.actor, 'admin');
    await expect(w.domain.members.assertMayLeave(owner.actor, org.id)).rejects.toMatchObject({ code: 'primary_owner_protected' });
    const before = await w.count('audit_events', `org_id = '${org.id}'`);
    await w.domain.members.assertMayLeave(admin.actor, org.id);
    // The check left the admin in place, and recorded nothing.
    expect((await w.domain.members.list(owner.actor, org.id)).map((m) => m.accountId)).toContain(admin.account.id);
    expect(await w.count('audit_events', `org_id = '${org.id}'`)).toBe(before);
    expect(await w.count('past_memberships', `org_id = '${org.id}'`)).toBe(0);
  });
});
