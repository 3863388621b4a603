import { and, asc, eq, getTableColumns, like, or, sql } from 'drizzle-orm';
import { z } from 'zod';
import { accounts, memberships, notifications, orgs, type MembershipRow, type OrgRow } from '../db/schema.js';
import { authorize, ownerRole, type Role } from './access.js';
import { emit } from './events.js';
import { type Actor, type Deps, type Executor, isUniqueViolation } from './context.js';
import { fail } from './errors.js';
import { addMembership, assertMayJoinAnotherOrg } from './membership-rules/index.js';
import { requireMembership, requireOrg } from './standing.js';
import { nameSchema, parseInput } from './validation.js';

const orgNameSchema = nameSchema('organization name', 80);

const SLUG_MAX = 40;
const slugPattern = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;
const slugSchema = z
  .string({ message: 'Give a URL name.' })
  .transform((s) => s.trim().toLowerCase())
  .refine((s) => s.length >= 2 && s.length <= SLUG_MAX, {
    message: `The URL name must be 2 to ${SLUG_MAX} characters.`,
  })
  .refine((s) => slugPattern.test(s), {
    message: 'The URL name may use lowercase letters, digits and dashes, and must start and end with a letter or digit.',
  });

/** Invite expiry choices (HCTI 14 days, Elastic 72 hours, Runpod "until used or revoked"). */
export const inviteExpiryChoices = { '72h': 72, '7d': 168, '14d': 336, '30d': 720, never: null } as const;
export type InviteExpiryChoice = keyof typeof inviteExpiryChoices;

function expiryChoiceOf(hours: number | null): InviteExpiryChoice {
  const found = (Object.keys(inviteExpiryChoices) as InviteExpiryChoice[]).find((k) => inviteExpiryChoices[k] === hours);
  return found ?? '14d';
}

const settingsSchema = z
  .object({
    inviteExpiry: z
      .enum(Object.keys(inviteExpiryChoices) as [InviteExpiryChoice, ...InviteExpiryChoice[]], {
        message: 'Invite expiry must be one of 72h, 7d, 14d, 30d or never.',
      })
      .optional(),
    reminderHours: z
      .array(z.number().int().min(1, 'Reminders are given in whole hours before expiry (at least 1).').max(720))
      .max(5, 'At most 5 reminders.')
      .optional(),
    seatLimit: z.number().int().min(1, 'The seat limit must be at least 1.').max(1_000_000).nullable().optional(),
  })
  .strict();
export type OrgSettingsInput = z.input<typeof settingsSchema>;

export function slugify(name: string): string {
  const base = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, SLUG_MAX - 4)
    .replace(/-+$/g, '');
  return base.length >= 2 ? base : `org-${base || 'new'}`.replace(/-+$/, '');
}

export type MyOrg = { org: OrgRow; role: Role; status: MembershipRow['status']; active: boolean };

/** The org commands act on: the active one; with none set (or it was deleted), the only usable one. */
export function currentOrgOf(mine: MyOrg[]): MyOrg | undefined {
  const active = mine.find((m) => m.active);
  if (active) return active;
  const usable = mine.filter((m) => m.status === 'active');
  return usable.length === 1 ? { ...usable[0]!, active: true } : undefined;
}

export function createOrgService(deps: Deps) {
  const { db, clock, settings } = deps;

  /** A free slug derived from the name ("Acme Inc" → acme-inc, then acme-inc-2 …). ActiveState's suggested URL. */
  async function suggestSlug(name: string, ex: Executor = db): Promise<string> {
    const base = slugify(parseInput(orgNameSchema, name));
    const taken = new Set(
      (
        await ex
          .select({ slug: orgs.slug })
          .from(orgs)
          .where(or(eq(orgs.slug, base), like(orgs.slug, `${base}-%`)))
      ).map((r) => r.slug),
    );
    if (!taken.has(base)) return base;
    for (let i = 2; ; i++) if (!taken.has(`${base}-${i}`)) return `${base}-${i}`;
  }

  async function create(actor: Actor, input: { name: string; slug?: string | undefined }): Promise<OrgRow> {
    if (actor.type !== 'account') fail('forbidden', 'Only a person can create an organization.');
    const name = parseInput(orgNameSchema, input.name);
    const wanted = input.slug !== undefined && input.slug.trim() !== '' ? parseInput(slugSchema, input.slug, 'slug') : undefined;
    // A suggested slug can be taken by someone creating the same name at the same moment: suggest again.
    for (let attempt = 1; ; attempt++) {
      try {
        return await db.transaction(async (tx) => {
          const now = clock.now();
          await assertMayJoinAnotherOrg(tx, settings, actor.accountId);
          const slug = wanted ?? (await suggestSlug(name, tx));
          const [org] = await tx.insert(orgs).values({ name, slug, primaryOwnerId: actor.accountId, createdAt: now, updatedAt: now }).returning();
          await emit(tx, actor, { orgId: org!.id, action: 'org.created', targetType: 'org', targetId: org!.id, after: { name, slug } }, now);
          // Its creator is its first owner (and its primary owner), and lands in it.
          await addMembership(
            tx,
            actor,
            { org: org!, accountId: actor.accountId, role: ownerRole, billingEmails: true, source: 'creator', makeActive: true },
            now,
          );
          return org!;
        });
      } catch (err) {
        if (isUniqueViolation(err, 'orgs_slug_uq')) {
          if (wanted === undefined && attempt < 5) continue;
          fail('slug_taken', `The URL name "${wanted ?? slugify(name)}" is already taken. Choose another.`, { field: 'slug' });
        }
        throw err;
      }
    }
  }

  /** Org by slug or id, for people who are allowed to see it. */
  async function get(actor: Actor, orgId: string): Promise<OrgRow> {
    authorize(await requireMembership(db, actor, orgId), 'org:view', 'read');
    return requireOrg(db, orgId);
  }

  /** Finds an org by its slug (public information: people use it to ask to join). */
  async function findBySlug(slug: string): Promise<OrgRow> {
    const s = slug.trim().toLowerCase();
    if (!slugPattern.test(s) || s.length > SLUG_MAX) fail('org_not_found', `No organization has the URL name "${slug.trim().slice(0, 60)}".`);
    const [org] = await db.select().from(orgs).where(eq(orgs.slug, s));
    if (!org) fail('org_not_found', `No organization has the URL name "${s}".`);
    return org;
  }

  async function rename(actor: Actor, orgId: string, newName: string): Promise<OrgRow> {
    const name = parseInput(orgNameSchema, newName);
    return db.transaction(async (tx) => {
      authorize(await requireMembership(tx, actor, orgId), 'org:update');
      const before = await requireOrg(tx, orgId, { lock: true });
      const now = clock.now();
      const [after] = await tx.update(orgs).set({ name, updatedAt: now }).where(eq(orgs.id, orgId)).returning();
      await emit(tx, actor, { orgId, action: 'org.renamed', targetType: 'org', targetId: orgId, before: { name: before.name }, after: { name } }, now);
      return after!;
    });
  }

  async function updateSettings(actor: Actor, orgId: string, input: OrgSettingsInput): Promise<OrgRow> {
    const s = parseInput(settingsSchema, input);
    return db.transaction(async (tx) => {
      authorize(await requireMembership(tx, actor, orgId), 'org:update');
      const before = await requireOrg(tx, orgId, { lock: true });
      const patch: Partial<typeof orgs.$inferInsert> = {};
      if (s.inviteExpiry !== undefined) patch.inviteExpiryHours = inviteExpiryChoices[s.inviteExpiry];
      if (s.reminderHours !== undefined) patch.reminderHours = [...new Set(s.reminderHours)].sort((a, b) => b - a);
      if (s.seatLimit !== undefined) patch.seatLimit = s.seatLimit;
      if (!Object.keys(patch).length) return before;
      const now = clock.now();
      const [after] = await tx
        .update(orgs)
        .set({ ...patch, updatedAt: now })
        .where(eq(orgs.id, orgId))
        .returning();
      await emit(
        tx,
        actor,
        {
          orgId,
          action: 'org.settings_changed',
          targetType: 'org',
          targetId: orgId,
          before: settingsView(before),
          after: settingsView(after!),
        },
        now,
      );
      return after!;
    });
  }

  /**
   * Deletes the org, its memberships, invites and join requests. The typed name must match (ActiveState,
   * Depot). The audit log of the org is kept.
   */
  async function remove(actor: Actor, orgId: string, confirmName: string): Promise<void> {
    await db.transaction(async (tx) => {
      authorize(await requireMembership(tx, actor, orgId), 'org:delete');
      const org = await requireOrg(tx, orgId, { lock: true });
      if ((confirmName ?? '').replace(/\s+/g, ' ').trim() !== org.name) fail('confirmation_mismatch');
      const [{ members } = { members: 0 }] = await tx
        .select({ members: sql<number>`count(*)::int` })
        .from(memberships)
        .where(eq(memberships.orgId, orgId));
      // Its webhook endpoints go with it: locked first, in id order, the order the numbering step takes
      // them in (event-numbers.ts), so the two never wait on each other in a circle.
      await tx.execute(sql`select id from webhook_endpoints where org_id = ${orgId} order by id for update`);
      await tx.delete(orgs).where(eq(orgs.id, orgId));
      // Undelivered messages about a deleted org (invite links, join requests) would point at nothing.
      await tx.delete(notifications).where(and(eq(notifications.orgId, orgId), eq(notifications.status, 'pending')));
      await emit(
        tx,
        actor,
        {
          orgId,
          action: 'org.deleted',
          targetType: 'org',
          targetId: orgId,
          before: { name: org.name, slug: org.slug, members },
        },
        clock.now(),
      );
    });
    deps.tokenCache?.forget(); // its SCIM tokens went with it
  }

  /** The orgs I belong to, with my role, the active one marked. */
  async function listMine(actor: Actor): Promise<MyOrg[]> {
    if (actor.type !== 'account') return [];
    const [me] = await db.select({ activeOrgId: accounts.activeOrgId }).from(accounts).where(eq(accounts.id, actor.accountId));
    const rows = await db
      .select({ org: orgs, role: memberships.role, status: memberships.status })
      .from(memberships)
      .innerJoin(orgs, eq(orgs.id, memberships.orgId))
      .where(eq(memberships.accountId, actor.accountId))
      .orderBy(asc(orgs.name));
    return rows.map((r) => ({ ...r, active: r.org.id === me?.activeOrgId }));
  }

  /** Sets the org that commands act on by default (Depot/HCTI "switch organization"). */
  async function switchActive(actor: Actor, slugOrId: string): Promise<OrgRow> {
    if (actor.type !== 'account') fail('forbidden', 'Only a person has an active organization.');
    const ref = slugOrId.trim();
    const mine = await listMine(actor);
    const hit = mine.find((m) => m.org.slug === ref.toLowerCase() || m.org.id === ref);
    if (!hit) {
      fail('not_a_member', `You're not a member of an organization called "${ref.slice(0, 60)}".`, { hint: 'list_orgs' });
    }
    if (hit.status === 'pending') fail('membership_pending');
    if (hit.status !== 'active') fail('forbidden', 'Your membership in that organization is suspended.');
    if (hit.active) return hit.org;
    await db.transaction(async (tx) => {
      const now = clock.now();
      await tx.update(accounts).set({ activeOrgId: hit.org.id, updatedAt: now }).where(eq(accounts.id, actor.accountId));
      await emit(
        tx,
        actor,
        { orgId: hit.org.id, action: 'account.active_org_changed', targetType: 'account', targetId: actor.accountId, after: { orgId: hit.org.id } },
        now,
      );
    });
    return hit.org;
  }

  /** The org commands act on, and my standing in it. */
  async function active(actor: Actor): Promise<MyOrg> {
    const mine = await listMine(actor);
    const current = currentOrgOf(mine);
    if (current) return current;
    if (mine.some((m) => m.status === 'active')) fail('no_active_org', 'Choose an organization first.', { hint: 'switch_org' });
    fail('no_active_org');
  }

  /** Every org with its member count: the operator's view (CLI), not reachable from Slack or SCIM. */
  async function listAll(): Promise<(OrgRow & { members: number })[]> {
    return db
      .select({ ...getTableColumns(orgs), members: sql<number>`(select count(*)::int from memberships m where m.org_id = "orgs"."id")` })
      .from(orgs)
      .orderBy(asc(orgs.name));
  }

  /** An org by slug or id (operator tools address orgs either way). */
  async function resolve(ref: string): Promise<OrgRow> {
    const r = ref.trim();
    if (/^[0-9a-f-]{36}$/i.test(r)) {
      const [org] = await db.select().from(orgs).where(eq(orgs.id, r));
      if (org) return org;
    }
    return findBySlug(r);
  }

  return { create, get, findBySlug, resolve, listAll, suggestSlug, rename, updateSettings, delete: remove, listMine, switchActive, active };
}

export function settingsView(org: OrgRow) {
  return {
    inviteExpiry: expiryChoiceOf(org.inviteExpiryHours),
    reminderHours: org.reminderHours,
    seatLimit: org.seatLimit,
  };
}
