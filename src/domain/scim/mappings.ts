import { capitalized } from '../../shared/text.js';
import { and, asc, eq, sql } from 'drizzle-orm';
import { orgs, scimGroupMembers, scimGroups, scimPendingMappings, type OrgRow } from '../../db/schema.js';
import { authorize, describeRole, oneWhoMay, ownerRole, parseRole, type Role } from '../access.js';
import { emit } from '../events.js';
import type { Actor, Deps } from '../context.js';
import { fail } from '../errors.js';
import { lockOrgFor, requireMembership, requireOrg } from '../standing.js';
import { assertText } from '../validation.js';
import { syncRole } from './roles.js';

/** What owners configure for SCIM (from Slack or the CLI): group → role mappings and the SCIM settings. */
export function createScimMappings(deps: Deps) {
  const { db, clock } = deps;

  /**
   * Maps a group, by its name as the IdP shows it, to a role (null removes the mapping). The mapping is
   * stored on the group (its stable id), so renaming the group in the IdP keeps it; for a group the IdP
   * has not pushed yet, it waits under the name and moves onto the group when it arrives.
   */
  async function mapGroup(actor: Actor, orgId: string, groupName: string, roleName: string | null): Promise<{ pending: boolean; groups: number }> {
    const role = roleName === null ? null : parseRole(roleName);
    const name = assertText(groupName, 'The group name').trim();
    if (!name || name.length > 256) fail('invalid_input', 'Give the group name as your identity provider shows it (1–256 characters).');
    return db.transaction(async (tx) => {
      const { org } = await lockOrgFor(tx, actor, orgId, 'scim:manage');
      if (role === ownerRole && !org.scimAllowOwner) {
        fail(
          'forbidden',
          `SCIM may not grant the ${describeRole(ownerRole).toLowerCase()} role in this organization. ${capitalized(oneWhoMay('scim:manage'))} can allow it first.`,
          { hint: 'scim_allow_owner' },
        );
      }
      const now = clock.now();
      const groups = await tx
        .select()
        .from(scimGroups)
        .where(and(eq(scimGroups.orgId, orgId), sql`lower(${scimGroups.displayName}) = lower(${name})`))
        .for('update');
      await tx.delete(scimPendingMappings).where(and(eq(scimPendingMappings.orgId, orgId), sql`lower(${scimPendingMappings.displayName}) = lower(${name})`));
      if (!groups.length && role) await tx.insert(scimPendingMappings).values({ orgId, displayName: name, role, createdAt: now });
      for (const g of groups) {
        await tx.update(scimGroups).set({ role, updatedAt: now }).where(eq(scimGroups.id, g.id));
        const memberIds = (await tx.select({ id: scimGroupMembers.scimUserId }).from(scimGroupMembers).where(eq(scimGroupMembers.groupId, g.id))).map(
          (r) => r.id,
        );
        const fresh = await requireOrg(tx, orgId);
        for (const id of memberIds) await syncRole(tx, actor, fresh, id, now);
      }
      await emit(
        tx,
        actor,
        { orgId, action: 'scim.group_mapped', targetType: 'org', targetId: orgId, after: { group: name, role, pending: !groups.length } },
        now,
      );
      return { pending: !groups.length, groups: groups.length };
    });
  }

  async function mappings(actor: Actor, orgId: string): Promise<{ group: string; role: Role; pending: boolean; members: number }[]> {
    authorize(await requireMembership(db, actor, orgId), 'scim:manage', 'read');
    const live = await db
      .select({
        group: scimGroups.displayName,
        role: scimGroups.role,
        members: sql<number>`(select count(*)::int from scim_group_members m where m.group_id = "scim_groups"."id")`,
      })
      .from(scimGroups)
      .where(and(eq(scimGroups.orgId, orgId), sql`${scimGroups.role} is not null`))
      .orderBy(asc(scimGroups.displayName));
    const pending = await db.select().from(scimPendingMappings).where(eq(scimPendingMappings.orgId, orgId));
    return [
      ...live.map((l) => ({ group: l.group, role: l.role!, pending: false, members: l.members })),
      ...pending.map((p) => ({ group: p.displayName, role: p.role, pending: true, members: 0 })),
    ];
  }

  async function updateSettings(actor: Actor, orgId: string, s: { defaultRole?: string; allowOwner?: boolean }): Promise<OrgRow> {
    const defaultRole = s.defaultRole !== undefined ? parseRole(s.defaultRole) : undefined;
    return db.transaction(async (tx) => {
      const { org } = await lockOrgFor(tx, actor, orgId, 'scim:manage');
      const allowOwner = s.allowOwner ?? org.scimAllowOwner;
      // The default that would apply, not only a new one: turning owner off must not leave owner as the default.
      if ((defaultRole ?? org.scimDefaultRole) === ownerRole && !allowOwner) {
        fail('invalid_input', 'The default SCIM role cannot be owner unless SCIM may grant owner. Change the default SCIM role first.', {
          hint: 'scim_default_role',
        });
      }
      const now = clock.now();
      const [after] = await tx
        .update(orgs)
        .set({ scimDefaultRole: defaultRole ?? org.scimDefaultRole, scimAllowOwner: allowOwner, updatedAt: now })
        .where(eq(orgs.id, orgId))
        .returning();
      if (org.scimAllowOwner && !allowOwner) {
        // SCIM may no longer grant owner: take back the owner role its groups granted (never below the base role).
        const granted = await tx
          .selectDistinct({ id: scimGroupMembers.scimUserId })
          .from(scimGroupMembers)
          .innerJoin(scimGroups, eq(scimGroups.id, scimGroupMembers.groupId))
          .where(and(eq(scimGroups.orgId, orgId), eq(scimGroups.role, ownerRole)));
        for (const { id } of granted) await syncRole(tx, actor, after!, id, now);
      }
      await emit(
        tx,
        actor,
        {
          orgId,
          action: 'scim.settings_changed',
          targetType: 'org',
          targetId: orgId,
          before: { defaultRole: org.scimDefaultRole, allowOwner: org.scimAllowOwner },
          after: { defaultRole: after!.scimDefaultRole, allowOwner: after!.scimAllowOwner },
        },
        now,
      );
      return after!;
    });
  }

  return { mapGroup, mappings, updateSettings };
}
