import { describe, expect, it } from 'vitest';
import { TEAM, countRows, isLoadingModal, uniq, useSlackRoster } from '../helpers/slack.js';

// A slash command's trigger_id expires 3 s after Slack sends it. A command that shows a form opens a
// "Loading…" modal with it before any lookup, so a slow first-time users.info cannot make the form fail.

const harness = useSlackRoster();

describe('the loading modal', () => {
  it('is opened before a slow first-time users.info answers, and the create form then replaces it', async () => {
    const h = harness();
    // Someone Roster has never seen: their first command must ask Slack who they are.
    const nina = h.slack.addUser('Nina', `nina.${uniq()}@acme.test`);
    let usersInfoAnsweredAt: number | undefined;
    h.slack.intercept = async (method, args) => {
      if (method !== 'users.info' || args.user !== nina.id) return undefined;
      await new Promise((r) => setTimeout(r, 1500));
      usersInfoAnsweredAt = Date.now();
      return undefined;
    };
    try {
      const orgsBefore = await countRows(h, 'orgs', 'true');
      const mark = h.slack.calls.length;
      const { status, responseId } = await h.commandNoWait(nina, 'create');
      expect(status).toBe(200);

      const opened = await h.slack.waitForCall('views.open', mark, (c) => c.args.trigger_id === `trig-${responseId}`);
      expect(isLoadingModal(opened.args.view)).toBe(true);
      const updated = await h.slack.waitForCall('views.update', mark, (c) => c.args.view_id === opened.reply?.view?.id);

      // The lookup did happen, after the modal was open, and answered only later.
      const lookup = h.slack.of('users.info', mark).find((c) => c.args.user === nina.id);
      expect(lookup).toBeDefined();
      expect(h.slack.calls.indexOf(opened)).toBeLessThan(h.slack.calls.indexOf(lookup!));
      expect(usersInfoAnsweredAt).toBeDefined();
      expect(opened.at).toBeLessThan(usersInfoAnsweredAt!);

      // The form arrives in the loading modal, and nothing went to the response_url.
      expect(updated.args.view.callback_id).toBe('org_create_modal');
      expect(updated.args.view.blocks.map((b: any) => b.block_id)).toEqual(['org_name', 'org_slug']);
      expect(h.slack.of('views.open', mark).filter((c) => c.args.trigger_id === `trig-${responseId}`)).toHaveLength(1);
      expect(h.slack.responses.find((r) => r.id === responseId)).toBeUndefined();
      // Nina now has an account, from what users.info said; showing the form created no org.
      expect((await h.domain.accounts.bySlack(TEAM, nina.id))?.email).toBe(nina.email);
      expect(await countRows(h, 'orgs', 'true')).toBe(orgsBefore);
    } finally {
      h.slack.intercept = undefined;
    }
  });
});
