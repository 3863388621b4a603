import { capitalized } from '../../shared/text.js';
import { pointInTime, pointInTimeHelp } from '../../shared/when.js';
import { whoMay } from '../../domain/access.js';
import { fail } from '../../domain/errors.js';
import { shortIdOf, type WebhookEndpointView } from '../../domain/webhooks/index.js';
import { esc, slackDate } from '../blocks/kit.js';
import { type CommandCtx, say } from './types.js';

const usage = [
  `*Webhooks* POST your organization's events (member.role_changed, invite.accepted, …) to your product, signed per Standard Webhooks. ${capitalized(whoMay('api:manage'))} only.`,
  '`/org webhooks` the endpoints · `/org webhooks add <url> [event types]` a new one (its signing secret is shown once; no types: every event)',
  '`/org webhooks rotate <id>` a new secret (the old one signs 24 h more) · `/org webhooks disable|enable|remove <id>`',
  '`/org webhooks replay <id> <since>` send failed and missed events again, e.g. `replay 1a2b3c4d 24h` · `/org webhooks deliveries <id>` what was sent',
].join('\n');

const eventsOf = (e: WebhookEndpointView) => (e.events.length ? e.events.map((t) => `\`${t}\``).join(' ') : 'every event');

/** `/org webhooks …`: the active org's webhook endpoints. The domain checks the rights (api:manage). */
export async function webhooks(c: CommandCtx) {
  const { org } = await c.deps.domain.orgs.active(c.me.actor);
  const [sub = '', ...args] = c.args;
  const hooks = c.deps.domain.webhooks;
  const verb = sub.toLowerCase();
  if (verb === '' || verb === 'list') {
    const list = await hooks.list(c.me.actor, org.id);
    const lines = list.length
      ? list.map(
          (e) =>
            `• \`${shortIdOf(e.id)}\` ${esc(e.url)} · ${eventsOf(e)} · ${e.enabled ? 'enabled' : `:no_entry: disabled (${esc(e.disabledReason ?? 'by hand')})`}${e.pending ? ` · ${e.pending} waiting` : ''}`,
        )
      : ['No webhook endpoints yet. Add one with `/org webhooks add https://app.example.com/roster-webhooks`.'];
    await say(c, [`*Webhooks of ${esc(org.name)}*`, ...lines, '', usage].join('\n'));
    return;
  }
  if (verb === 'add') {
    const [url, ...types] = args;
    if (!url) fail('invalid_input', 'Give its URL: `/org webhooks add https://app.example.com/roster-webhooks [event types]`.');
    const events = types.flatMap((t) => t.split(',')).filter(Boolean);
    const { endpoint, secret } = await hooks.create(c.me.actor, org.id, { url, events });
    await say(
      c,
      `:satellite_antenna: Webhook \`${shortIdOf(endpoint.id)}\` of *${esc(org.name)}* sends ${eventsOf(endpoint)} to ${esc(endpoint.url)}.\nIts signing secret — copy it now, it is shown only once:\n\`${secret}\`\nVerify the \`webhook-signature\` header with it (Standard Webhooks): ${c.deps.publicUrl}/api/docs`,
    );
    return;
  }
  const known = ['rotate', 'disable', 'enable', 'remove', 'delete', 'replay', 'deliveries'];
  if (!known.includes(verb)) {
    await say(c, usage);
    return;
  }
  const [ref, ...more] = args;
  if (!ref) fail('invalid_input', `Say which endpoint: \`/org webhooks ${verb} <id>\` (\`/org webhooks\` lists their ids).`);
  const endpoint = await hooks.find(c.me.actor, org.id, ref);
  const name = `\`${shortIdOf(endpoint.id)}\` (${esc(endpoint.url)})`;
  switch (verb) {
    case 'rotate': {
      const { secret, previousValidUntil } = await hooks.rotateSecret(c.me.actor, org.id, endpoint.id);
      await say(
        c,
        `:key: New signing secret for webhook ${name} (shown only once):\n\`${secret}\`\nThe old one also signs until ${slackDate(previousValidUntil)}.`,
      );
      return;
    }
    case 'disable':
    case 'enable':
      await hooks.update(c.me.actor, org.id, endpoint.id, { enabled: verb === 'enable' });
      await say(
        c,
        verb === 'enable'
          ? `Enabled webhook ${name}: its waiting events go now. To send failed ones again: \`/org webhooks replay ${shortIdOf(endpoint.id)} 3d\`.`
          : `Disabled webhook ${name}. Its events wait until you enable it again.`,
      );
      return;
    case 'remove':
    case 'delete':
      await hooks.remove(c.me.actor, org.id, endpoint.id);
      await say(c, `Removed webhook ${name} and its queued deliveries.`);
      return;
    case 'replay': {
      const since = more.length === 1 ? pointInTime(more[0]!, new Date()) : undefined;
      if (!since) fail('invalid_input', `Say since when, as ${pointInTimeHelp}: \`/org webhooks replay ${shortIdOf(endpoint.id)} 24h\`.`);
      const { queued } = await hooks.replay(c.me.actor, org.id, endpoint.id, since);
      await say(
        c,
        `Queued ${queued} event${queued === 1 ? '' : 's'} for webhook ${name} again (since ${slackDate(since)}), in order and with their original webhook-id.`,
      );
      return;
    }
    default: {
      const list = await hooks.deliveries(c.me.actor, org.id, endpoint.id, 15);
      const lines = list.length
        ? list.map(
            (d) =>
              `• #${d.sequence} · ${d.status}${d.attempts ? ` after ${d.attempts} attempt${d.attempts === 1 ? '' : 's'}` : ''}${d.lastStatus ? ` · answered ${d.lastStatus}` : ''}${d.lastError ? ` · ${esc(d.lastError.slice(0, 120))}` : ''}${d.nextAttemptAt ? ` · next try ${slackDate(d.nextAttemptAt)}` : ''}`,
          )
        : ['Nothing sent yet.'];
      await say(c, [`*Latest deliveries to webhook ${name}*`, ...lines].join('\n'));
    }
  }
}
