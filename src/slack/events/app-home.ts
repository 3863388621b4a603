import type { App } from '@slack/bolt';
import { emailTrustOf, identityKeyOf, slackEmail, slackPerson } from '../actor.js';
import type { SlackDeps } from '../context.js';
import { publishHome } from '../home.js';
import { isDomainError } from '../../domain/errors.js';
import { esc, header, section } from '../blocks/kit.js';

export function registerEvents(app: App, deps: SlackDeps) {
  app.event('app_home_opened', async ({ event, body, client, context }) => {
    if (event.tab !== 'home') return;
    const teamId = identityKeyOf(body as { team_id?: string; enterprise_id?: string });
    try {
      const me = await slackPerson(deps.domain, client, teamId, event.user, (body as { team_id?: string }).team_id, emailTrustOf(deps, context, teamId));
      // Asked afresh: an email Slack stopped vouching for (changed, unconfirmed, now a guest) enrolls nobody.
      const vouched = me.account.email ? await slackEmail(client, event.user, me.servedBy) : undefined;
      await publishHome(deps, client, me, { vouchedEmail: vouched, hash: (event as { view?: { hash?: string } }).view?.hash });
    } catch (err) {
      // Someone who must confirm their email first sees why App Home is empty, and what to do.
      if (isDomainError(err, 'slack_email_unconfirmed')) {
        await client.views
          .publish({ user_id: event.user, view: { type: 'home', blocks: [header('Confirm your email address'), section(esc(err.message))] } as never })
          .catch((e) => deps.log.error({ err: e }, 'could not publish App Home'));
        return;
      }
      deps.log.error({ err }, 'could not publish App Home');
    }
  });
}
