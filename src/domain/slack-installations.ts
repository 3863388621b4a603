import { and, eq, sql } from 'drizzle-orm';
import { slackInstallations, type SlackInstallationRow } from '../db/schema.js';
import { type Actor, type Deps, type Executor, systemActor } from './context.js';
import { emit } from './events.js';
import { seal, unseal } from './sealed.js';

/** Which installation: a workspace's, or an Enterprise Grid org's org-wide one. */
export type InstallationKey = { enterpriseId?: string | undefined; teamId?: string | undefined; isEnterpriseInstall?: boolean | undefined };

/**
 * Where Roster is installed in Slack (distribution mode), and with which tokens: stored sealed, found by
 * workspace or Grid org. A workspace of a Grid org with an org-wide install uses that one. The
 * installation itself is Slack's object (from the OAuth flow), kept whole.
 */
/** How long a cached installation is trusted at most with no notification (a backstop, not the mechanism). */
const TTL_MS = 60_000;
const MAX_ENTRIES = 20_000;

/** What a sealed installation is bound to: the row's own keys. */
function boundTo(r: { enterpriseId: string | null; teamId: string | null; isEnterpriseInstall: boolean }): string {
  return `slack-installation:${r.isEnterpriseInstall ? 'enterprise' : 'team'}:${r.enterpriseId ?? ''}:${r.teamId ?? ''}`;
}

export function createSlackInstallationService(deps: Deps) {
  const { db, clock } = deps;
  // Installations by key, kept between requests (a Slack request in distribution mode costs no query):
  // served only while the change notifications are heard; every change, in any process, empties it.
  const changes = deps.slackInstallationChanges;
  const cache = new Map<string, { value: unknown; at: number }>();
  let generation = 0;
  const forget = () => {
    generation++;
    cache.clear();
  };
  changes?.onChange(forget);
  const cacheKey = (k: InstallationKey) => `${k.isEnterpriseInstall ? 'E' : 'T'}:${k.enterpriseId ?? ''}:${k.teamId ?? ''}`;
  const key = () => {
    if (!deps.settings.installationKey) throw new Error('Slack installations need the installation key (APP_SECRET).');
    return deps.settings.installationKey;
  };

  const where = (k: InstallationKey) =>
    k.isEnterpriseInstall
      ? and(eq(slackInstallations.isEnterpriseInstall, true), eq(slackInstallations.enterpriseId, k.enterpriseId ?? ''))
      : and(eq(slackInstallations.isEnterpriseInstall, false), eq(slackInstallations.teamId, k.teamId ?? ''));

  /** The audit event of an installation that went (uninstalled, revoked, refused by Slack). */
  async function uninstalled(tx: Executor, row: SlackInstallationRow, reason: string) {
    await emit(
      tx,
      systemActor('slack-install'),
      {
        orgId: null,
        action: 'slack.uninstalled',
        targetType: 'slack_installation',
        targetId: row.id,
        before: { enterpriseId: row.enterpriseId, teamId: row.teamId, isEnterpriseInstall: row.isEnterpriseInstall },
        after: { reason },
      },
      clock.now(),
    );
  }

  /** Saves an installation (a reinstall replaces it, with its new token and scopes), audited. */
  async function save(k: InstallationKey, installation: unknown, installer?: string): Promise<void> {
    const actor: Actor = systemActor('slack-install');
    await db.transaction(async (tx) => {
      const now = clock.now();
      const values = {
        enterpriseId: k.enterpriseId ?? null,
        teamId: k.isEnterpriseInstall ? null : (k.teamId ?? null),
        isEnterpriseInstall: !!k.isEnterpriseInstall,
      };
      const sealed = seal(key(), JSON.stringify(installation), boundTo(values));
      const [existing] = await tx.select({ id: slackInstallations.id }).from(slackInstallations).where(where(k)).for('update');
      const [row] = existing
        ? await tx.update(slackInstallations).set({ sealed, updatedAt: now }).where(eq(slackInstallations.id, existing.id)).returning()
        : await tx
            .insert(slackInstallations)
            .values({ ...values, sealed, createdAt: now, updatedAt: now })
            .returning();
      await emit(
        tx,
        actor,
        {
          orgId: null,
          action: 'slack.installed',
          targetType: 'slack_installation',
          targetId: row!.id,
          after: { ...values, installer: installer ?? null, reinstall: !!existing },
        },
        now,
      );
    });
  }

  /**
   * Changes an installation in place (a refreshed token): its row is locked while `change` runs, so
   * processes wanting the same change wait and are handed the result (`change` answers undefined when the
   * installation it is shown needs nothing). Not an install: not audited as one. Other processes' caches
   * are emptied by the row's change notification.
   */
  async function update(
    k: InstallationKey,
    change: (current: unknown) => Promise<unknown | undefined>,
    opts: { nowait?: boolean } = {},
  ): Promise<unknown | undefined> {
    let result: unknown;
    try {
      result = await db.transaction(async (tx) => {
        const q = tx.select().from(slackInstallations).where(where(k));
        const [row] = opts.nowait ? await q.for('update', { noWait: true }) : await q.for('update');
        if (!row) return undefined;
        const current: unknown = JSON.parse(unseal(key(), row.sealed, boundTo(row)));
        const next = await change(current);
        if (next === undefined) return current;
        await tx
          .update(slackInstallations)
          .set({ sealed: seal(key(), JSON.stringify(next), boundTo(row)), updatedAt: clock.now() })
          .where(eq(slackInstallations.id, row.id));
        return next;
      });
    } catch (err) {
      // nowait: another process holds the row (it is making this very change): the caller goes on without it.
      if (opts.nowait && (err as { cause?: { code?: string } }).cause?.code === '55P03') return undefined;
      throw err;
    }
    forget();
    if (result === undefined) throw new Error('That Slack installation is gone.');
    return result;
  }

  /**
   * Removes an installation only if `still(installation)` holds under its row lock (its token is the one
   * Slack refused, not a newer one from a reinstall meanwhile), audited with the reason.
   */
  async function removeIf(k: InstallationKey, still: (installation: unknown) => boolean, reason: string): Promise<boolean> {
    const removed = await db.transaction(async (tx) => {
      const [row] = await tx.select().from(slackInstallations).where(where(k)).for('update');
      if (!row || !still(JSON.parse(unseal(key(), row.sealed, boundTo(row))))) return false;
      await tx.delete(slackInstallations).where(eq(slackInstallations.id, row.id));
      await uninstalled(tx, row, reason);
      return true;
    });
    forget();
    return removed;
  }

  /** The installation serving a workspace: its own, else its Grid org's org-wide one. undefined: not installed. */
  async function find(k: InstallationKey): Promise<unknown | undefined> {
    const live = !!changes?.live();
    const ck = cacheKey(k);
    const hit = live ? cache.get(ck) : undefined;
    if (hit && Date.now() - hit.at <= TTL_MS) return hit.value;
    const mark = generation;
    const value = await lookup(k);
    // Stored only if nothing changed during the lookup (a change would have emptied the cache after it).
    if (live && mark === generation) {
      if (cache.size >= MAX_ENTRIES) cache.clear();
      cache.set(ck, { value, at: Date.now() });
    }
    return value;
  }

  /**
   * A workspace: its own installation, else its Grid org's org-wide one. A Grid org with no workspace
   * named (a person known by their Grid identity): the org-wide installation, else one of its workspaces'.
   */
  async function lookup(k: InstallationKey): Promise<unknown | undefined> {
    const inGrid = sql`${slackInstallations.enterpriseId} = ${k.enterpriseId ?? ''}`;
    const rows = await db
      .select()
      .from(slackInstallations)
      .where(k.isEnterpriseInstall ? where(k) : k.teamId ? sql`(${where(k)}) or (${slackInstallations.isEnterpriseInstall} and ${inGrid})` : sql`${inGrid}`)
      .orderBy(slackInstallations.createdAt)
      .limit(20);
    const row = (k.teamId ? rows.find((r) => !r.isEnterpriseInstall) : rows.find((r) => r.isEnterpriseInstall)) ?? rows[0];
    return row ? JSON.parse(unseal(key(), row.sealed, boundTo(row))) : undefined;
  }

  /** Uninstalled, or its tokens revoked: the installation goes, audited; that workspace is served no more. */
  async function remove(k: InstallationKey, reason: 'app_uninstalled' | 'tokens_revoked' | string): Promise<boolean> {
    const removed = await db.transaction(async (tx) => {
      const gone = await tx.delete(slackInstallations).where(where(k)).returning();
      for (const row of gone) {
        await uninstalled(tx, row, reason);
      }
      return gone.length > 0;
    });
    forget();
    return removed;
  }

  return { save, find, update, remove, removeIf };
}

export type SlackInstallationService = ReturnType<typeof createSlackInstallationService>;
