import type { App } from '@slack/bolt';
import type { SlackDeps } from '../context.js';

type UninstallBody = { team_id?: string; enterprise_id?: string; is_enterprise_install?: boolean; authorizations?: { is_enterprise_install?: boolean }[] };

/**
 * app_uninstalled, and tokens_revoked for the bot: the installation goes (audited), so that workspace
 * (or Grid org) is not served until it installs Roster again.
 */
export function registerUninstall(app: App, deps: SlackDeps) {
  const remove = async (body: UninstallBody, reason: 'app_uninstalled' | 'tokens_revoked') => {
    const isEnterpriseInstall = body.is_enterprise_install ?? body.authorizations?.[0]?.is_enterprise_install ?? false;
    let gone = await deps.domain.slackInstallations.remove({ teamId: body.team_id, enterpriseId: body.enterprise_id, isEnterpriseInstall }, reason);
    // An org-wide install whose event did not say so: the Grid's installation is the one that went.
    if (!gone && !isEnterpriseInstall && body.enterprise_id)
      gone = await deps.domain.slackInstallations.remove({ enterpriseId: body.enterprise_id, isEnterpriseInstall: true }, reason);
    if (gone) deps.log.info({ team: body.team_id, enterprise: body.enterprise_id, reason }, 'Slack installation removed');
    else deps.log.warn({ team: body.team_id, enterprise: body.enterprise_id, reason }, 'Slack says Roster was uninstalled, but no installation matched');
  };
  app.event('app_uninstalled', async ({ body }) => remove(body as UninstallBody, 'app_uninstalled'));
  app.event('tokens_revoked', async ({ event, body }) => {
    // Only the bot's tokens matter: Roster keeps no user tokens.
    if ((event as { tokens?: { bot?: string[] } }).tokens?.bot?.length) await remove(body as UninstallBody, 'tokens_revoked');
  });
}
