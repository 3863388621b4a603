import { describe, expect, it } from 'vitest';
import { useWorld } from '../helpers/domain.js';

const world = useWorld();

describe('organizations', () => {
  it('the creator becomes owner and primary owner, with the org active', async () => {
    const w = world();
    const { org, owner } = await w.org('Smoke');
    expect(org.primaryOwnerId).toBe(owner.account.id);
    const mine = await w.domain.orgs.listMine(owner.actor);
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ role: 'owner', active: true });
  });
});
