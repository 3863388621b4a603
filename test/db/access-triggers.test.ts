import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useWorld } from '../helpers/domain.js';

/**
 * Migrations 0019/0024: every process caching "may this person do this?" hears on roster_access when
 * a cached answer may have changed, and only then (a NOTIFY serializes committing transactions).
 */
const world = useWorld();
let listener: pg.Client;
let heard = 0;

beforeAll(async () => {
  listener = new pg.Client((world().db.pool as unknown as { options: pg.ClientConfig }).options);
  await listener.connect();
  listener.on('notification', (n) => n.channel === 'roster_access' && heard++);
  await listener.query('listen roster_access');
});
afterAll(() => listener.end());

/** Whether running `statement` (by SQL, as an operator could) told the listening processes. */
async function notifies(statement: string, values: unknown[]): Promise<boolean> {
  await listener.query('select 1'); // whatever the setup sent has arrived
  const before = heard;
  await world().db.pool.query(statement, values);
  // A round trip on the listening connection: a notification sent at that commit has arrived by then.
  await listener.query('select 1');
  return heard > before;
}

describe('access change notifications', () => {
  it('a membership notifies when its role or status changes, not when only its billing flag does', async () => {
    const { org, owner } = await world().org();
    const where = [org.id, owner.account.id];
    expect(await notifies(`update memberships set billing_emails = not billing_emails where org_id = $1 and account_id = $2`, where)).toBe(false);
    expect(await notifies(`update memberships set status = 'suspended' where org_id = $1 and account_id = $2`, where)).toBe(true);
    expect(await notifies(`update memberships set status = 'active' where org_id = $1 and account_id = $2`, where)).toBe(true);
  });

  it("an account notifies when its email changes, not when its name or active org does, nor for the email's case", async () => {
    const { account } = await world().person();
    expect(await notifies(`update accounts set display_name = 'Renamed' where id = $1`, [account.id])).toBe(false);
    expect(await notifies(`update accounts set active_org_id = null where id = $1`, [account.id])).toBe(false);
    expect(await notifies(`update accounts set email = upper(email) where id = $1`, [account.id])).toBe(false);
    expect(await notifies(`update accounts set email = 'moved.' || email where id = $1`, [account.id])).toBe(true);
  });

  it('a Slack identity notifies when it moves to another account', async () => {
    const a = await world().person();
    const b = await world().person();
    await world().db.pool.query(`insert into slack_identities (team_id, user_id, account_id) values ('T1', $1, $2)`, [`U${a.account.id}`, a.account.id]);
    expect(await notifies(`update slack_identities set created_at = now() where user_id = $1`, [`U${a.account.id}`])).toBe(false);
    expect(await notifies(`update slack_identities set account_id = $2 where user_id = $1`, [`U${a.account.id}`, b.account.id])).toBe(true);
  });
});
