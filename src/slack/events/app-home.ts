import type { App } from '@slack/bolt';
import { identityKeyOf, slackEmail, slackPerson } from '../actor.js';
import type { SlackDeps } from '../context.js';
import { publishHome } from '../home.js';

export function registerEvents(app: App, deps: SlackDeps) {
  app.event('app_home_opened', async ({ event, body, client }) => {
    if (event.tab !== 'home') return;
    const teamId = identityKeyOf(body as { team_id?: string; enterprise_id?: string });
    try {
      const me = await slackPerson(deps.domain, client, teamId, event.user, (body as { team_id?: string }).team_id);
      // Asked afresh: an email Slack stopped vouching for (changed, unconfirmed, now a guest) enrolls nobody.
      const vouched = me.account.email ? await slackEmail(client, event.user, teamId) : undefined;
      await publishHome(deps, client, me, { vouchedEmail: vouched, hash: (event as { view?: { hash?: string } }).view?.hash });
    } catch (err) {
      deps.log.error({ err }, 'could not publish App Home');
    }
  });
}
