import { type Command, UsageError, orgAndActor } from '../context.js';
import { systemActor } from '../../domain/context.js';
import { table, when } from '../table.js';

/**
 * roster api-key create|list|rotate|revoke <org> [<name>] [--name N] [--scope read|write]
 * roster api-key create|list|rotate|revoke --operator [<name>]
 * A new key is printed alone on the last line (scripts take `tail -1`).
 */
export const apiKey: Command = async (c, [verb, ...rest]) => {
  const operator = c.flags.operator;
  const [ref, ...nameParts] = operator ? [undefined, ...rest] : rest;
  const { ownerId, actor, label } = operator
    ? { ownerId: null, actor: systemActor('cli'), label: 'operator' }
    : await orgAndActor(c, ref).then(({ org, actor }) => ({ ownerId: org.id, actor, label: org.name }));
  const name = c.flags.name ?? (nameParts.join(' ') || undefined);
  const { domain, out } = c;
  switch (verb) {
    case 'create': {
      const { key, view } = await domain.apiKeys.create(actor, ownerId, { name: name ?? 'default', scope: c.flags.scope ?? 'write' });
      out.print(
        `${view.operator ? 'Operator' : `${label}`} API key "${view.name}" (scope ${view.scope}${view.operator ? ', every org' : ''}). Base URL: ${c.publicUrl}/api/v1 — shown only once:`,
      );
      out.print(key);
      return 0;
    }
    case 'list': {
      const keys = await domain.apiKeys.list(actor, ownerId);
      if (!keys.length) {
        out.print(
          operator
            ? 'No operator API keys. Create one: roster api-key create --operator'
            : `${label} has no API keys. Create one: roster api-key create ${ref} --name backend`,
        );
        return 0;
      }
      out.print(
        table(
          ['NAME', 'SCOPE', 'CREATED', 'LAST USED', 'VALID UNTIL'],
          keys.map((k) => [k.name, k.scope, when(k.createdAt), k.lastUsedAt ? when(k.lastUsedAt) : 'never', k.expiresAt ? when(k.expiresAt) : 'until revoked']),
        ),
      );
      return 0;
    }
    case 'rotate': {
      if (!name) throw new UsageError(`Name the key: roster api-key rotate ${operator ? '--operator' : '<org>'} <name>`);
      const { key, oldValidUntil } = await domain.apiKeys.rotate(actor, ownerId, name);
      out.print(`New key for "${name}"; the old one works until ${when(oldValidUntil)}. Shown only once:`);
      out.print(key);
      return 0;
    }
    case 'revoke': {
      if (!name) throw new UsageError(`Name the key: roster api-key revoke ${operator ? '--operator' : '<org>'} <name>`);
      await domain.apiKeys.revoke(actor, ownerId, name);
      out.print(`Revoked "${name}".`);
      return 0;
    }
    default:
      throw new UsageError('Use: roster api-key create|list|rotate|revoke <org> … (or --operator)');
  }
};
