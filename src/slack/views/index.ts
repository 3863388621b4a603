import type { App, ViewOutput } from '@slack/bolt';
import { parseRole } from '../../domain/access.js';
import { type DomainError, isDomainError } from '../../domain/errors.js';
import { slackPerson, targetAccount } from '../actor.js';
import type { SlackDeps } from '../context.js';
import { ids } from '../ids.js';
import { esc } from '../blocks/kit.js';
import { infoModal, inviteResultModal } from '../blocks/modals.js';
import { publishHome } from '../home.js';
import { announceJoinDecision } from '../join-decisions.js';
import { errorText } from '../reply.js';

type Values = ViewOutput['state']['values'];

const text = (v: Values, block: string, action: string) => v[block]?.[action]?.value?.trim() ?? '';
const selected = (v: Values, block: string, action: string) => v[block]?.[action]?.selected_option?.value ?? '';
const meta = (view: ViewOutput): Record<string, string> => {
  try {
    return JSON.parse(view.private_metadata || '{}');
  } catch {
    return {};
  }
};

type ViewAck = (response?: Record<string, unknown>) => Promise<void>;

/**
 * Modal submissions. The domain call runs before ack() here, so a refusal shows on the form field it
 * concerns (Slack allows 3 seconds; these calls take milliseconds). Slow follow-ups run after ack().
 */
export function registerViews(app: App, deps: SlackDeps) {
  const { domain } = deps;

  function handle(callbackId: string, errorBlock: string, run: (a: {
    values: Values;
    view: ViewOutput;
    me: Awaited<ReturnType<typeof slackPerson>>;
    ack: ViewAck;
    client: App['client'];
  }) => Promise<void>) {
    app.view(callbackId, async ({ ack, body, view, client }) => {
      const respondAck = ack as unknown as ViewAck;
      let acked = false;
      const once: ViewAck = async (r) => {
        acked = true;
        await respondAck(r);
      };
      try {
        const me = await slackPerson(domain, client, body.team?.id ?? body.user.team_id ?? '', body.user.id);
        await run({ values: view.state.values, view, me, ack: once, client });
      } catch (err) {
        const message = errorText(err, deps.log);
        if (!acked) {
          await once(
            isDomainError(err) && errorBlock
              ? { response_action: 'errors', errors: { [errorBlockFor(err, errorBlock, view.state.values)]: (err as DomainError).message.slice(0, 150) } }
              : { response_action: 'update', view: infoModal('Roster', message) },
          );
        } else {
          await client.chat.postMessage({ channel: body.user.id, text: message }).catch(() => {});
        }
      }
    });
  }

  handle(ids.views.createOrg, ids.blocks.orgName, async ({ values, me, ack, client }) => {
    const org = await domain.orgs.create(me.actor, {
      name: text(values, ids.blocks.orgName, ids.inputs.orgName),
      slug: text(values, ids.blocks.orgSlug, ids.inputs.orgSlug) || undefined,
    });
    await ack();
    await client.chat.postMessage({ channel: me.userId, text: `:tada: Created *${esc(org.name)}* (\`${org.slug}\`). It is now your active organization.` });
    await publishHome(deps, client, me);
  });

  handle(ids.views.switchOrg, ids.blocks.orgSelect, async ({ values, me, ack, client }) => {
    await domain.orgs.switchActive(me.actor, selected(values, ids.blocks.orgSelect, ids.inputs.orgSelect));
    await ack();
    await publishHome(deps, client, me);
  });

  handle(ids.views.invite, ids.blocks.emails, async ({ values, view, me, ack, client }) => {
    const orgId = meta(view).orgId ?? '';
    const org = await domain.orgs.get(me.actor, orgId);
    const results = await domain.invites.create(me.actor, orgId, {
      emails: text(values, ids.blocks.emails, ids.inputs.emails),
      role: parseRole(selected(values, ids.blocks.role, ids.inputs.role) || 'member'),
      billingEmails: (values[ids.blocks.billing]?.[ids.inputs.billing]?.selected_options ?? []).length > 0,
    });
    await ack({ response_action: 'update', view: inviteResultModal(org, results) });
    deps.kickOutbox();
    await publishHome(deps, client, me);
  });

  handle(ids.views.changeRole, ids.blocks.role, async ({ values, view, me, ack, client }) => {
    const m = meta(view);
    const accountId =
      m.accountId ??
      (await targetAccount(domain, client, me.teamId, { slackUserId: values[ids.blocks.member]?.[ids.inputs.member]?.selected_user ?? '' })).id;
    await domain.members.changeRole(me.actor, m.orgId ?? '', accountId, selected(values, ids.blocks.role, ids.inputs.role));
    await ack();
    await publishHome(deps, client, me);
  });

  // Leaving may be refused (primary owner, last owner, sole member): the modal then explains why.
  handle(ids.views.leave, '', async ({ view, me, ack, client }) => {
    const orgId = meta(view).orgId ?? '';
    const org = await domain.orgs.get(me.actor, orgId);
    await domain.members.leave(me.actor, orgId);
    await ack({ response_action: 'update', view: infoModal('Left organization', `You left *${esc(org.name)}*.`) });
    await publishHome(deps, client, me);
  });

  handle(ids.views.rename, ids.blocks.orgName, async ({ values, view, me, ack, client }) => {
    await domain.orgs.rename(me.actor, meta(view).orgId ?? '', text(values, ids.blocks.orgName, ids.inputs.orgName));
    await ack();
    await publishHome(deps, client, me);
  });

  handle(ids.views.deleteOrg, ids.blocks.confirmName, async ({ values, view, me, ack, client }) => {
    const orgId = meta(view).orgId ?? '';
    const org = await domain.orgs.get(me.actor, orgId);
    await domain.orgs.delete(me.actor, orgId, text(values, ids.blocks.confirmName, ids.inputs.confirmName));
    await ack({ response_action: 'update', view: infoModal('Deleted', `*${esc(org.name)}* was deleted. Its audit log is kept.`) });
    await publishHome(deps, client, me);
  });

  handle(ids.views.joinDeny, ids.blocks.reason, async ({ values, view, me, ack, client }) => {
    const requestId = meta(view).requestId ?? '';
    const decided = await domain.joinRequests.deny(me.actor, requestId, text(values, ids.blocks.reason, ids.inputs.reason) || undefined);
    await ack();
    await announceJoinDecision(deps, client, me, decided.id);
  });
}

/** Field errors go where the person can fix them. */
function errorBlockFor(err: DomainError, fallback: string, values: Values): string {
  if (err.code === 'slug_taken') return ids.blocks.orgSlug;
  // About the person picked in the form (change role by Slack user), not about the role chosen.
  if ((err.code === 'member_not_found' || err.code === 'primary_owner_protected') && values[ids.blocks.member]) return ids.blocks.member;
  if (err.code === 'invalid_input' && /URL name/.test(err.message)) return ids.blocks.orgSlug;
  return fallback;
}
