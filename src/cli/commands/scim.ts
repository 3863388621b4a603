import { describeRole } from '../../domain/access.js';
import { type CliCtx, type Command, UsageError, onOff, orgAndActor } from '../context.js';
import { table, when } from '../table.js';

/** roster scim token … | roster scim map … | roster scim unmap … */
export const scim: Command = async (c, [area, ...args]) => {
  if (area === 'token') return token(c, args);
  if (area === 'map' || area === 'unmap') return mapGroup(c, area, args);
  if (area === 'default-role' || area === 'allow-owner') return settings(c, area, args);
  throw new UsageError('Use: roster scim token … | map … | unmap … | default-role <org> <role> | allow-owner <org> on|off');
};

/** roster scim default-role <org> <role> · roster scim allow-owner <org> on|off */
async function settings(c: CliCtx, area: 'default-role' | 'allow-owner', [ref, value]: string[]): Promise<number> {
  const { org, actor } = await orgAndActor(c, ref);
  if (area === 'default-role') {
    if (!value) throw new UsageError(`Give the role people SCIM adds get: roster scim default-role ${org.slug} <role>`);
    const after = await c.domain.scim.updateSettings(actor, org.id, { defaultRole: value });
    c.out.print(`People the IdP adds to ${org.name} in no mapped group now get ${describeRole(after.scimDefaultRole)}.`);
    return 0;
  }
  const allowOwner = onOff(value, `roster scim allow-owner ${org.slug} on|off`);
  await c.domain.scim.updateSettings(actor, org.id, { allowOwner });
  c.out.print(allowOwner ? `A group mapped to owner now makes its members owners of ${org.name}.` : `SCIM no longer makes anyone an owner of ${org.name}.`);
  return 0;
}

async function token(c: CliCtx, [verb, ref, ...nameParts]: string[]): Promise<number> {
  const { org, actor } = await orgAndActor(c, ref);
  const { domain, out } = c;
  const name = nameParts.join(' ');
  switch (verb) {
    case 'create': {
      const { token, view } = await domain.scimTokens.create(actor, org.id, c.flags.name ?? (name || 'default'));
      const verified = (await domain.domains.list(actor, org.id)).filter((d) => d.status === 'verified').map((d) => d.domain);
      out.print(
        verified.length
          ? `Verified domains: ${verified.join(', ')} (SCIM gives access at once to addresses on them; anyone else is asked to accept first).`
          : `No verified domains: everyone SCIM adds will be asked to accept first. Verify yours: roster domain add ${org.slug} <domain>`,
      );
      out.print(`SCIM token "${view.name}" for ${org.name}. Base URL: ${c.publicUrl}/scim/v2 — shown only once:`);
      out.print(token);
      return 0;
    }
    case 'list': {
      const tokens = await domain.scimTokens.list(actor, org.id);
      if (!tokens.length) {
        out.print(`${org.name} has no SCIM tokens. Create one: roster scim token create ${org.slug} --name okta`);
        return 0;
      }
      out.print(
        table(
          ['NAME', 'CREATED', 'LAST USED', 'VALID UNTIL'],
          tokens.map((t) => [t.name, when(t.createdAt), t.lastUsedAt ? when(t.lastUsedAt) : 'never', t.expiresAt ? when(t.expiresAt) : 'until revoked']),
        ),
      );
      return 0;
    }
    case 'rotate': {
      if (!name) throw new UsageError('Name the token: roster scim token rotate <org> <name>');
      const { token, oldValidUntil } = await domain.scimTokens.rotate(actor, org.id, name);
      out.print(`New token for "${name}"; the old one works until ${when(oldValidUntil)}. Shown only once:`);
      out.print(token);
      return 0;
    }
    case 'revoke': {
      if (!name) throw new UsageError('Name the token: roster scim token revoke <org> <name>');
      await domain.scimTokens.revoke(actor, org.id, name);
      out.print(`Revoked "${name}".`);
      return 0;
    }
    default:
      throw new UsageError('Use: roster scim token create|list|rotate|revoke <org> …');
  }
}

/** Members of an IdP group get a role (map), or no longer do (unmap). */
async function mapGroup(c: CliCtx, area: 'map' | 'unmap', [ref, group, role]: string[]): Promise<number> {
  if (!group || (area === 'map' && !role)) throw new UsageError('Use: roster scim map <org> "<group>" <role>  or  roster scim unmap <org> "<group>"');
  const { org, actor } = await orgAndActor(c, ref);
  const r = await c.domain.scim.mapGroup(actor, org.id, group, area === 'map' ? role! : null);
  c.out.print(
    area === 'unmap'
      ? `"${group}" no longer grants a role in ${org.name}.`
      : `Members of "${group}" get the ${role} role in ${org.name}${r.pending ? ' once the IdP pushes that group' : ''}.`,
  );
  return 0;
}
