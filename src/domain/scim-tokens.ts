import { randomBytes } from 'node:crypto';
import { and, asc, eq, gt, isNull, or, sql } from 'drizzle-orm';
import { scimTokens, type ScimTokenRow } from '../db/schema.js';
import { authorize } from './access.js';
import { emit } from './events.js';
import { type Actor, type Deps, isUniqueViolation } from './context.js';
import { fail } from './errors.js';
import { lockOrgFor, requireMembership } from './standing.js';
import { createTokenCache } from './token-cache.js';
import { hashToken, sameSecret } from './tokens.js';
import { assertText, nameSchema, parseInput } from './validation.js';

/** How long a rotated token keeps working, so the IdP can be switched to the new one. */
const ROTATION_OVERLAP_HOURS = 24;
/** last_used_at is written at most this often per token: not one write per SCIM request. */
const LAST_USED_RESOLUTION_MS = 60_000;

const tokenNameSchema = nameSchema('token name', 60);

type ScimTokenView = Pick<ScimTokenRow, 'id' | 'name' | 'createdAt' | 'lastUsedAt' | 'expiresAt'>;
type ScimPrincipal = { tokenId: string; orgId: string; name: string };

/** Bearer tokens for an org's IdP: shown once, stored hashed, owners only. */
export function createScimTokenService(deps: Deps) {
  const { db, clock } = deps;
  const cache = deps.tokenCache ?? createTokenCache();
  // Every SCIM request starts here: built once, planned once per connection.
  const tokenByHash = db
    .select()
    .from(scimTokens)
    .where(eq(scimTokens.tokenHash, sql.placeholder('hash')))
    .prepare('roster_scim_token_by_hash');

  function newToken(): string {
    return `rst_${randomBytes(32).toString('base64url')}`;
  }

  async function create(actor: Actor, orgId: string, name = 'default'): Promise<{ token: string; view: ScimTokenView }> {
    const n = parseInput(tokenNameSchema, name);
    try {
      return await db.transaction(async (tx) => {
        await lockOrgFor(tx, actor, orgId, 'scim:manage');
        const token = newToken();
        const now = clock.now();
        const [row] = await tx
          .insert(scimTokens)
          .values({ orgId, name: n, tokenHash: hashToken(token), createdById: actor.type === 'account' ? actor.accountId : null, createdAt: now })
          .returning();
        await emit(tx, actor, { orgId, action: 'scim_token.created', targetType: 'scim_token', targetId: row!.id, after: { name: n } }, now);
        return { token, view: viewOf(row!) };
      });
    } catch (err) {
      if (isUniqueViolation(err, 'scim_tokens_active_name_uq')) fail('scim_token_name_taken');
      throw err;
    }
  }

  /** Tokens that still work: active ones, and rotated ones inside their overlap window. */
  async function list(actor: Actor, orgId: string): Promise<ScimTokenView[]> {
    authorize(await requireMembership(db, actor, orgId), 'scim:manage', 'read');
    const rows = await db
      .select()
      .from(scimTokens)
      .where(and(eq(scimTokens.orgId, orgId), isNull(scimTokens.revokedAt), or(isNull(scimTokens.expiresAt), gt(scimTokens.expiresAt, clock.now()))))
      .orderBy(asc(scimTokens.createdAt));
    return rows.map(viewOf);
  }

  async function findActive(tx: Parameters<Parameters<typeof db.transaction>[0]>[0], orgId: string, name: string): Promise<ScimTokenRow> {
    assertText(name, 'The token name');
    const [row] = await tx
      .select()
      .from(scimTokens)
      .where(
        and(eq(scimTokens.orgId, orgId), sql`lower(${scimTokens.name}) = lower(${name.trim()})`, isNull(scimTokens.revokedAt), isNull(scimTokens.expiresAt)),
      )
      .for('update');
    if (!row) fail('scim_token_not_found', `No active SCIM token is named "${name.trim().slice(0, 60)}".`);
    return row;
  }

  /** Revoked at once: the IdP's next request gets 401. Rotated copies of the same name go too. */
  async function revoke(actor: Actor, orgId: string, name: string): Promise<void> {
    await db.transaction(async (tx) => {
      await lockOrgFor(tx, actor, orgId, 'scim:manage');
      const row = await findActive(tx, orgId, name);
      const now = clock.now();
      await tx
        .update(scimTokens)
        .set({ revokedAt: now })
        .where(and(eq(scimTokens.orgId, orgId), sql`lower(${scimTokens.name}) = lower(${row.name})`, isNull(scimTokens.revokedAt)));
      await emit(tx, actor, { orgId, action: 'scim_token.revoked', targetType: 'scim_token', targetId: row.id, before: { name: row.name } }, now);
    });
    cache.forget(); // this process at once; the others when the change's notification reaches them
  }

  /** A new token under the same name; the old one keeps working for ROTATION_OVERLAP_HOURS. */
  async function rotate(actor: Actor, orgId: string, name: string): Promise<{ token: string; view: ScimTokenView; oldValidUntil: Date }> {
    const rotated = await db.transaction(async (tx) => {
      await lockOrgFor(tx, actor, orgId, 'scim:manage');
      const old = await findActive(tx, orgId, name);
      const now = clock.now();
      const oldValidUntil = new Date(now.getTime() + ROTATION_OVERLAP_HOURS * 3_600_000);
      await tx.update(scimTokens).set({ expiresAt: oldValidUntil }).where(eq(scimTokens.id, old.id));
      const token = newToken();
      const [row] = await tx
        .insert(scimTokens)
        .values({ orgId, name: old.name, tokenHash: hashToken(token), createdById: actor.type === 'account' ? actor.accountId : null, createdAt: now })
        .returning();
      await emit(
        tx,
        actor,
        {
          orgId,
          action: 'scim_token.rotated',
          targetType: 'scim_token',
          targetId: row!.id,
          before: { id: old.id, validUntil: oldValidUntil },
          after: { name: old.name },
        },
        now,
      );
      return { token, view: viewOf(row!), oldValidUntil };
    });
    cache.forget(); // the old token's new expiry
    return rotated;
  }

  /**
   * The org and token behind a bearer token, or undefined. Looked up by hash (unique index), then
   * compared in constant time; expired and revoked tokens don't authenticate.
   */
  async function authenticate(token: string): Promise<ScimPrincipal | undefined> {
    if (!/^rst_[A-Za-z0-9_-]{43}$/.test(token)) return undefined;
    const hash = hashToken(token);
    const now = clock.now();
    let row = cache.get(hash);
    if (!row) {
      const mark = cache.mark();
      const [found] = await tokenByHash.execute({ hash });
      if (!found || !sameSecret(found.tokenHash, hash) || found.revokedAt) return undefined;
      // The cached entry itself, so the last-used time set below is kept on it.
      row = cache.set(hash, { tokenId: found.id, orgId: found.orgId, name: found.name, expiresAt: found.expiresAt, lastUsedAt: found.lastUsedAt }, mark);
    }
    if (row.expiresAt && row.expiresAt <= now) return undefined;
    if (!row.lastUsedAt || now.getTime() - row.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
      row.lastUsedAt = now;
      await db.update(scimTokens).set({ lastUsedAt: now }).where(eq(scimTokens.id, row.tokenId));
    }
    return { tokenId: row.tokenId, orgId: row.orgId, name: row.name };
  }

  return { create, list, revoke, rotate, authenticate };
}

function viewOf(r: ScimTokenRow): ScimTokenView {
  return { id: r.id, name: r.name, createdAt: r.createdAt, lastUsedAt: r.lastUsedAt, expiresAt: r.expiresAt };
}
