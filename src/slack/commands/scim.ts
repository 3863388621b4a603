import { capitalized } from '../../shared/text.js';
import { describeRole, describeStoredRole, exampleRole, whoMay } from '../../domain/access.js';
import { fail } from '../../domain/errors.js';
import { esc, slackDate } from '../blocks/kit.js';
import { type CommandCtx, say } from './types.js';

const usage = [
  '*SCIM* lets your identity provider (Okta, Entra ID) add and remove members. ' + `${capitalized(whoMay('scim:manage'))} only.`,
  '`/org scim` tokens, group mappings and settings',
  '`/org scim create [name]` a new token (shown once) · `/org scim rotate <name>` replace it (the old one works 24 h more) · `/org scim revoke <name>`',
  '`/org scim map "<group>" <role>` members of that IdP group get the role · `/org scim unmap "<group>"`',
  '`/org scim default-role <role>` role for people in no mapped group · `/org scim allow-owner on|off`',
].join('\n');

/** Quoted group names may contain spaces: `map "Engineering Leads" admin`. */
function splitQuoted(rest: string): string[] {
  return [...rest.matchAll(/"([^"]*)"|“([^”]*)”|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3] ?? '');
}

export async function scim(c: CommandCtx) {
  const { org } = await c.deps.domain.orgs.active(c.me.actor);
  const [sub = '', ...args] = splitQuoted(c.rest);
  const { scimTokens, scim: provisioning } = c.deps.domain;
  const endpoint = `${c.deps.publicUrl}/scim/v2`;
  switch (sub.toLowerCase()) {
    case '':
    case 'list': {
      const [tokens, maps, domains] = await Promise.all([
        scimTokens.list(c.me.actor, org.id),
        provisioning.mappings(c.me.actor, org.id),
        c.deps.domain.domains.list(c.me.actor, org.id),
      ]);
      const verified = domains.filter((d) => d.status === 'verified').map((d) => d.domain);
      const current = await c.deps.domain.orgs.get(c.me.actor, org.id);
      const lines = [
        `*SCIM for ${esc(org.name)}* · base URL \`${endpoint}\``,
        tokens.length
          ? tokens
              .map(
                (t) =>
                  `• *${esc(t.name)}* · created ${slackDate(t.createdAt)} · last used ${slackDate(t.lastUsedAt, 'never')}${t.expiresAt ? ` · rotated, works until ${slackDate(t.expiresAt)}` : ''}`,
              )
              .join('\n')
          : 'No tokens yet. Create one with `/org scim create okta`.',
        maps.length
          ? `*Group mappings*\n${maps.map((m) => `• "${esc(m.group)}" → ${describeRole(m.role)}${m.pending ? ' (waiting for the IdP to push this group)' : ` · ${m.members} member${m.members === 1 ? '' : 's'}`}`).join('\n')}`
          : 'No group mappings: everyone SCIM adds gets the default role.',
        `Default role: ${describeRole(current.scimDefaultRole)} · SCIM may grant owner: ${current.scimAllowOwner ? 'yes' : 'no'}`,
        verified.length
          ? `*Verified domains:* ${verified.map(esc).join(', ')}. SCIM gives access at once to addresses on them; anyone else is asked to accept first.`
          : ':warning: *No verified domains*: everyone SCIM adds will be asked to accept before they get access. Verify yours first with `/org domains add <domain>`.',
        '',
        usage,
      ];
      await say(c, lines.join('\n'));
      return;
    }
    case 'create': {
      const { token, view } = await scimTokens.create(c.me.actor, org.id, args.join(' ') || 'default');
      await say(
        c,
        `:key: SCIM token *${esc(view.name)}* for *${esc(org.name)}*. Copy it now: it is shown only once.\n\`${token}\`\nBase URL: \`${endpoint}\` · authentication: HTTP header \`Authorization: Bearer <token>\`.`,
      );
      return;
    }
    case 'rotate': {
      if (!args.length) fail('invalid_input', 'Say which token: `/org scim rotate <name>`.');
      const { token, view, oldValidUntil } = await scimTokens.rotate(c.me.actor, org.id, args.join(' '));
      await say(
        c,
        `:key: New token for *${esc(view.name)}* (shown only once):\n\`${token}\`\nThe old token keeps working until ${slackDate(oldValidUntil)}, so you can update your identity provider.`,
      );
      return;
    }
    case 'revoke': {
      if (!args.length) fail('invalid_input', 'Say which token: `/org scim revoke <name>`.');
      await scimTokens.revoke(c.me.actor, org.id, args.join(' '));
      await say(c, `Revoked the SCIM token *${esc(args.join(' '))}*. Requests with it are refused from now on.`);
      return;
    }
    case 'map': {
      const [group, role] = args;
      if (!group || !role) fail('invalid_input', `Use \`/org scim map "<group name>" <role>\`, e.g. \`/org scim map "Engineering" ${exampleRole}\`.`);
      const r = await provisioning.mapGroup(c.me.actor, org.id, group, role);
      await say(
        c,
        `Members of "${esc(group)}" get the ${describeStoredRole(role.toLowerCase())} role${r.pending ? ' once your identity provider pushes that group' : ''}.`,
      );
      return;
    }
    case 'unmap': {
      if (!args[0]) fail('invalid_input', 'Use `/org scim unmap "<group name>"`.');
      await provisioning.mapGroup(c.me.actor, org.id, args[0], null);
      await say(c, `"${esc(args[0])}" no longer grants a role. Its members keep the role they would have without it.`);
      return;
    }
    case 'default-role': {
      if (!args[0]) fail('invalid_input', 'Use `/org scim default-role <role>`.');
      const after = await provisioning.updateSettings(c.me.actor, org.id, { defaultRole: args[0] });
      await say(c, `People SCIM adds (outside mapped groups) now join as ${describeRole(after.scimDefaultRole)}.`);
      return;
    }
    case 'allow-owner': {
      const v = args[0]?.toLowerCase();
      if (v !== 'on' && v !== 'off') fail('invalid_input', 'Use `/org scim allow-owner on` or `/org scim allow-owner off`.');
      await provisioning.updateSettings(c.me.actor, org.id, { allowOwner: v === 'on' });
      await say(c, v === 'on' ? 'SCIM group mappings may now grant the owner role.' : 'SCIM can no longer grant the owner role.');
      return;
    }
    default:
      await say(c, `I don't know \`/org scim ${esc(sub.slice(0, 30))}\`.\n${usage}`);
  }
}
