import { randomBytes } from 'node:crypto';
import { and, asc, eq, gt, isNull, or, sql, type SQL } from 'drizzle-orm';
import { apiKeys, type ApiKeyRow } from '../db/schema.js';
import { authorize } from './access.js';
import { type Actor, type Deps, type Executor, isUniqueViolation } from './context.js';
import { fail } from './errors.js';
import { emit } from './events.js';
import { lockOrgFor, requireMembership } from './standing.js';
import { createTokenCache } from './token-cache.js';
import { hashToken, sameSecret } from './tokens.js';
import { assertText, nameSchema, parseInput } from './validation.js';
import { z } from 'zod';

/**
 * Keys for the host product's API: an org's (it sees that org only, with an owner's rights, or only reads
 * with scope read), or an operator's (the product's backend, every org; made from the CLI only). Shown
 * once, stored as sha256, compared in constant time, last use kept (at most once a minute).
 */

const ROTATION_OVERLAP_HOURS = 24;
const LAST_USED_RESOLUTION_MS = 60_000;
const KEY_SHAPE = /^rk_[A-Za-z0-9_-]{43}$/;

const keyNameSchema = nameSchema('key name', 60);
export const apiKeyScopeSchema = z.enum(['read', 'write'], { error: 'The scope is read or write.' });
export type ApiKeyScope = z.infer<typeof apiKeyScopeSchema>;

export type ApiKeyView = { id: string; name: string; scope: ApiKeyScope; operator: boolean; createdAt: Date; lastUsedAt: Date | null; expiresAt: Date | null };

/** Who a key's requests act as. */
export type ApiPrincipal = Extract<Actor, { type: 'api' }>;

/** Which keys: an org's, or (null) the operator's. */
type Owner = string | null;

export function createApiKeyService(deps: Deps) {
  const { db, clock } = deps;
  const cache = createTokenCache<{ keyId: string; orgId: string | null; scope: string; name: string; expiresAt: Date | null; lastUsedAt: Date | null }>(
    deps.scimTokenChanges,
  );
  const keyByHash = db
    .select()
    .from(apiKeys)
    .where(eq(apiKeys.keyHash, sql.placeholder('hash')))
    .prepare('roster_api_key_by_hash');

  const ownedBy = (owner: Owner): SQL => (owner === null ? eq(apiKeys.operator, true) : eq(apiKeys.orgId, owner));

  /** Org keys: an owner's (api:manage) in the org. Operator keys: the operator only (the CLI). */
  async function lockFor(tx: Executor, actor: Actor, owner: Owner) {
    if (owner !== null) return void (await lockOrgFor(tx, actor, owner, 'api:manage'));
    if (actor.type !== 'system') fail('forbidden', 'Only the operator (the roster CLI) can manage operator API keys.');
    // One operator-key change at a time (names stay unique under rotation).
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext('roster_operator_api_keys'))`);
  }

  async function insertKey(tx: Executor, actor: Actor, owner: Owner, name: string, scope: ApiKeyScope) {
    const key = `rk_${randomBytes(32).toString('base64url')}`;
    const [row] = await tx
      .insert(apiKeys)
      .values({
        orgId: owner,
        operator: owner === null,
        name,
        scope,
        keyHash: hashToken(key),
        createdById: actor.type === 'account' ? actor.accountId : null,
        createdAt: clock.now(),
      })
      .returning();
    return { key, row: row! };
  }

  async function create(actor: Actor, owner: Owner, input: { name?: string; scope?: string }): Promise<{ key: string; view: ApiKeyView }> {
    const name = parseInput(keyNameSchema, input.name ?? 'default');
    const scope = parseInput(apiKeyScopeSchema, input.scope ?? 'write');
    try {
      return await db.transaction(async (tx) => {
        await lockFor(tx, actor, owner);
        const { key, row } = await insertKey(tx, actor, owner, name, scope);
        await emit(
          tx,
          actor,
          { orgId: owner, action: 'api_key.created', targetType: 'api_key', targetId: row.id, after: { name, scope, operator: owner === null } },
          clock.now(),
        );
        return { key, view: viewOf(row) };
      });
    } catch (err) {
      if (isUniqueViolation(err, 'api_keys_active_name_uq')) fail('api_key_name_taken');
      throw err;
    }
  }

  async function list(actor: Actor, owner: Owner): Promise<ApiKeyView[]> {
    if (owner !== null) authorize(await requireMembership(db, actor, owner), 'api:manage', 'read');
    else if (actor.type !== 'system') fail('forbidden', 'Only the operator (the roster CLI) can see operator API keys.');
    const rows = await db
      .select()
      .from(apiKeys)
      .where(and(ownedBy(owner), isNull(apiKeys.revokedAt), or(isNull(apiKeys.expiresAt), gt(apiKeys.expiresAt, clock.now()))))
      .orderBy(asc(apiKeys.createdAt));
    return rows.map(viewOf);
  }

  async function findActive(tx: Executor, owner: Owner, name: string): Promise<ApiKeyRow> {
    assertText(name, 'The key name');
    const [row] = await tx
      .select()
      .from(apiKeys)
      .where(and(ownedBy(owner), sql`lower(${apiKeys.name}) = lower(${name.trim()})`, isNull(apiKeys.revokedAt), isNull(apiKeys.expiresAt)))
      .for('update');
    if (!row) fail('api_key_not_found', `No active API key is named "${name.trim().slice(0, 60)}".`);
    return row;
  }

  /** Revoked at once (with a rotated predecessor of the same name): the next request with it gets 401. */
  async function revoke(actor: Actor, owner: Owner, name: string): Promise<void> {
    await db.transaction(async (tx) => {
      await lockFor(tx, actor, owner);
      const row = await findActive(tx, owner, name);
      const now = clock.now();
      await tx
        .update(apiKeys)
        .set({ revokedAt: now })
        .where(and(ownedBy(owner), sql`lower(${apiKeys.name}) = lower(${row.name})`, isNull(apiKeys.revokedAt)));
      await emit(tx, actor, { orgId: owner, action: 'api_key.revoked', targetType: 'api_key', targetId: row.id, before: { name: row.name } }, now);
    });
    cache.forget();
  }

  /** A new key under the same name and scope; the old one keeps working for 24 hours. */
  async function rotate(actor: Actor, owner: Owner, name: string): Promise<{ key: string; view: ApiKeyView; oldValidUntil: Date }> {
    const rotated = await db.transaction(async (tx) => {
      await lockFor(tx, actor, owner);
      const old = await findActive(tx, owner, name);
      const now = clock.now();
      const oldValidUntil = new Date(now.getTime() + ROTATION_OVERLAP_HOURS * 3_600_000);
      await tx.update(apiKeys).set({ expiresAt: oldValidUntil }).where(eq(apiKeys.id, old.id));
      const { key, row } = await insertKey(tx, actor, owner, old.name, parseInput(apiKeyScopeSchema, old.scope));
      await emit(
        tx,
        actor,
        {
          orgId: owner,
          action: 'api_key.rotated',
          targetType: 'api_key',
          targetId: row.id,
          before: { id: old.id, validUntil: oldValidUntil },
          after: { name: old.name },
        },
        now,
      );
      return { key, view: viewOf(row), oldValidUntil };
    });
    cache.forget();
    return rotated;
  }

  /** The actor a bearer key stands for, or undefined: looked up by hash, compared in constant time; expired and revoked keys fail. */
  async function authenticate(key: string): Promise<ApiPrincipal | undefined> {
    if (!KEY_SHAPE.test(key)) return undefined;
    const hash = hashToken(key);
    const now = clock.now();
    let entry = cache.get(hash);
    if (!entry) {
      const mark = cache.mark();
      const [found] = await keyByHash.execute({ hash });
      if (!found || !sameSecret(found.keyHash, hash) || found.revokedAt) return undefined;
      entry = cache.set(
        hash,
        { keyId: found.id, orgId: found.orgId, scope: found.scope, name: found.name, expiresAt: found.expiresAt, lastUsedAt: found.lastUsedAt },
        mark,
      );
    }
    if (entry.expiresAt && entry.expiresAt <= now) return undefined;
    if (!entry.lastUsedAt || now.getTime() - entry.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
      entry.lastUsedAt = now;
      await db.update(apiKeys).set({ lastUsedAt: now }).where(eq(apiKeys.id, entry.keyId));
    }
    return { type: 'api', keyId: entry.keyId, orgId: entry.orgId, readOnly: entry.scope !== 'write', label: entry.name };
  }

  return { create, list, revoke, rotate, authenticate };
}

function viewOf(r: ApiKeyRow): ApiKeyView {
  return {
    id: r.id,
    name: r.name,
    scope: r.scope === 'read' ? 'read' : 'write',
    operator: r.operator,
    createdAt: r.createdAt,
    lastUsedAt: r.lastUsedAt,
    expiresAt: r.expiresAt,
  };
}
