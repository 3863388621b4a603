import type { App, ViewOutput } from '@slack/bolt';
import { parseRole, roleLabels } from '../../domain/access.js';
import { type DomainError, isDomainError } from '../../domain/errors.js';
import type { InviteExpiryChoice } from '../../domain/orgs.js';
import { slackPerson, targetMember } from '../actor.js';
import type { SlackDeps } from '../context.js';
import { ids } from '../ids.js';
import { esc } from '../blocks/kit.js';
import { infoModal, inviteResultModal, settingsSavedModal } from '../blocks/modals.js';
import { publishHome } from '../home.js';
import { announceJoinDecision } from '../join-decisions.js';
import { parseReminderHours, parseSeatLimit } from '../parse.js';
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
          // Field errors are plain text (no escaping); the info modal is mrkdwn (errorText escaped it).
          const field = isDomainError(err) && errorBlock ? fieldError(err, errorBlock, view.state.values) : undefined;
          await once(
            field
              ? { response_action: 'errors', errors: { [field.block]: field.message.slice(0, 150) } }
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
    const orgId = m.orgId ?? '';
    const accountId =
      m.accountId ??
      (await targetMember(domain, client, me, orgId, { slackUserId: values[ids.blocks.member]?.[ids.inputs.member]?.selected_user ?? '' })).accountId;
    await domain.members.changeRole(me.actor, orgId, accountId, selected(values, ids.blocks.role, ids.inputs.role));
    await ack();
    deps.kickOutbox();
    await publishHome(deps, client, me);
  });

  // The confirmation opened by "Remove from org" in a member menu; closing it instead changes nothing.
  handle(ids.views.removeMember, '', async ({ view, me, ack, client }) => {
    const { orgId = '', accountId = '' } = meta(view);
    const org = await domain.orgs.get(me.actor, orgId);
    const member = await domain.members.find(me.actor, orgId, { accountId });
    await domain.members.remove(me.actor, orgId, accountId);
    await ack({ response_action: 'update', view: infoModal('Member removed', `Removed *${esc(member.displayName)}* from *${esc(org.name)}*. Their access ended now.`) });
    deps.kickOutbox();
    await publishHome(deps, client, me);
  });

  handle(ids.views.inviteChange, ids.blocks.role, async ({ values, view, me, ack, client }) => {
    const role = selected(values, ids.blocks.role, ids.inputs.role);
    const billingEmails = (values[ids.blocks.billing]?.[ids.inputs.billing]?.selected_options ?? []).length > 0;
    const after = await domain.invites.update(me.actor, meta(view).inviteId ?? '', { ...(role ? { role } : {}), billingEmails });
    await ack({
      response_action: 'update',
      view: infoModal('Invite updated', `The invite to *${esc(after.email)}* is now for ${roleLabels[after.role]}, ${after.billingEmails ? 'with' : 'without'} billing emails.`),
    });
    await publishHome(deps, client, me);
  });

  handle(ids.views.settings, ids.blocks.inviteExpiry, async ({ values, view, me, ack }) => {
    const reminderHours = parseReminderHours(text(values, ids.blocks.reminders, ids.inputs.reminders));
    const seatLimit = parseSeatLimit(text(values, ids.blocks.seatLimit, ids.inputs.seatLimit));
    const errors: Record<string, string> = {};
    if (reminderHours === undefined) errors[ids.blocks.reminders] = 'Write whole hours before expiry separated by commas, e.g. 72, 24. Leave it empty for no reminders.';
    if (seatLimit === undefined) errors[ids.blocks.seatLimit] = 'Write a whole number, or leave it empty for no seat limit.';
    if (reminderHours === undefined || seatLimit === undefined) {
      await ack({ response_action: 'errors', errors });
      return;
    }
    const after = await domain.orgs.updateSettings(me.actor, meta(view).orgId ?? '', {
      // The select offers only the domain's choices; anything else is refused there.
      inviteExpiry: selected(values, ids.blocks.inviteExpiry, ids.inputs.inviteExpiry) as InviteExpiryChoice,
      reminderHours,
      seatLimit,
    });
    await ack({ response_action: 'update', view: settingsSavedModal(after) });
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

/** The domain names a settings field in its message ("seatLimit: …", "reminderHours.0: …"). */
const settingsFields: Record<string, string> = {
  inviteExpiry: ids.blocks.inviteExpiry,
  reminderHours: ids.blocks.reminders,
  seatLimit: ids.blocks.seatLimit,
};

/** Field errors go where the person can fix them. */
function fieldError(err: DomainError, fallback: string, values: Values): { block: string; message: string } {
  const settings = /^(inviteExpiry|reminderHours|seatLimit)(?:\.\d+)?: ([\s\S]*)$/.exec(err.message);
  if (settings) return { block: settingsFields[settings[1]!]!, message: settings[2]! };
  return { block: errorBlockFor(err, fallback, values), message: err.message };
}

function errorBlockFor(err: DomainError, fallback: string, values: Values): string {
  if (err.code === 'slug_taken') return ids.blocks.orgSlug;
  // About the person picked in the form (change role by Slack user), not about the role chosen.
  if ((err.code === 'member_not_found' || err.code === 'primary_owner_protected') && values[ids.blocks.member]) return ids.blocks.member;
  if (err.code === 'invalid_input' && /URL name/.test(err.message)) return ids.blocks.orgSlug;
  return fallback;
}
