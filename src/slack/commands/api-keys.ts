import { capitalized } from '../../shared/text.js';
import { whoMay } from '../../domain/access.js';
import { fail } from '../../domain/errors.js';
import { esc, slackDate } from '../blocks/kit.js';
import { type CommandCtx, say } from './types.js';

const usage = [
  `*API keys* let your product ask Roster who may do what (the API at \`/api/v1\`). ${capitalized(whoMay('api:manage'))} only.`,
  '`/org api-keys` the keys · `/org api-keys create [name] [read|write]` a new key (shown once; write: an owner’s rights in this org, read: reads only)',
  '`/org api-keys rotate <name>` replace it (the old one works 24 h more) · `/org api-keys revoke <name>`',
].join('\n');

/** `/org api-keys …`: the active org's API keys. The domain checks the rights (api:manage). */
export async function apiKeys(c: CommandCtx) {
  const { org } = await c.deps.domain.orgs.active(c.me.actor);
  const [sub = '', ...args] = c.args;
  const keys = c.deps.domain.apiKeys;
  const base = `${c.deps.publicUrl}/api/v1`;
  switch (sub.toLowerCase()) {
    case '':
    case 'list': {
      const list = await keys.list(c.me.actor, org.id);
      const lines = list.length
        ? list.map(
            (k) =>
              `• *${esc(k.name)}* · ${k.scope} · created ${slackDate(k.createdAt)} · last used ${slackDate(k.lastUsedAt, 'never')}${k.expiresAt ? ` · rotated, works until ${slackDate(k.expiresAt)}` : ''}`,
          )
        : ['No API keys yet. Create one with `/org api-keys create backend`.'];
      await say(c, [`*API keys of ${esc(org.name)}* · base URL \`${base}\``, ...lines, '', usage].join('\n'));
      return;
    }
    case 'create': {
      const last = args.at(-1)?.toLowerCase();
      const scope = last === 'read' || last === 'write' ? last : undefined;
      const name = (scope ? args.slice(0, -1) : args).join(' ') || 'default';
      const { key, view } = await keys.create(c.me.actor, org.id, { name, ...(scope ? { scope } : {}) });
      await say(
        c,
        `:key: API key *${esc(view.name)}* (${view.scope}) for *${esc(org.name)}*. Copy it now: it is shown only once.\n\`${key}\`\nBase URL: \`${base}\` · header \`Authorization: Bearer <key>\` · reference: ${c.deps.publicUrl}/api/docs`,
      );
      return;
    }
    case 'rotate': {
      if (!args.length) fail('invalid_input', 'Say which key: `/org api-keys rotate <name>`.');
      const { key, view, oldValidUntil } = await keys.rotate(c.me.actor, org.id, args.join(' '));
      await say(c, `:key: New key for *${esc(view.name)}* (shown only once):\n\`${key}\`\nThe old key keeps working until ${slackDate(oldValidUntil)}.`);
      return;
    }
    case 'revoke': {
      if (!args.length) fail('invalid_input', 'Say which key: `/org api-keys revoke <name>`.');
      await keys.revoke(c.me.actor, org.id, args.join(' '));
      await say(c, `Revoked the API key *${esc(args.join(' '))}*. Requests with it are refused from now on.`);
      return;
    }
    default:
      await say(c, usage);
  }
}
