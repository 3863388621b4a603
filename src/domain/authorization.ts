import { and, asc, eq, sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import { accounts, memberships, orgs, slackIdentities, type MembershipRow } from '../db/schema.js';
import type { FoundMembership } from './access-cache.js';
import { fail } from './errors.js';
import { authorize, can, type Role } from './access.js';
import type { Actor, Deps } from './context.js';
import { permissionWords, type Permission } from './roles/permissions.js';
import { requireMembership } from './standing.js';
import { emailSchema, parseInput, safeString } from './validation.js';

/**
 * "May this person do this in this org?" — the one question a host product asks on every request. The
 * answer comes from the same roles and permissions every other surface uses (access.ts), for a person
 * named by email, account id, or Slack user.
 */

const permissions = Object.keys(permissionWords) as [Permission, ...Permission[]];
export const permissionSchema = z.enum(permissions, { error: `The permission is one of: ${permissions.join(', ')}.` });

const slackUserSchema = z.object({ team: safeString().trim().min(1).max(40), user: safeString().trim().min(1).max(40) }).strict();
export const subjectSchema = z.union(
  [
    z.object({ email: emailSchema }).strict(),
    z.object({ id: z.uuid({ error: 'The account id is a UUID.' }) }).strict(),
    z.object({ slack: slackUserSchema }).strict(),
  ],
  { error: 'Name the person by {"email": …}, {"id": …} or {"slack": {"team": …, "user": …}}.' },
);
export type Subject = z.infer<typeof subjectSchema>;

export type AccessReason = 'allowed' | 'not_a_member' | 'pending' | 'suspended' | 'missing_permission';
export type AccessAnswer = { allowed: boolean; role: Role | null; status: MembershipRow['status'] | null; reason: AccessReason };

/** One entry per org and person as named (emails compared as the database compares them: lowercased). */
function cacheKey(orgId: string, subject: Subject): string {
  if ('email' in subject) return `${orgId} e ${subject.email.toLowerCase()}`;
  if ('id' in subject) return `${orgId} i ${subject.id.toLowerCase()}`;
  return `${orgId} s ${subject.slack.team} ${subject.slack.user}`;
}

export function createAuthorization(deps: Deps) {
  const { db } = deps;
  const membershipWhere = (who: SQL) =>
    db
      .select({ role: memberships.role, status: memberships.status })
      .from(memberships)
      .innerJoin(accounts, eq(accounts.id, memberships.accountId))
      .where(and(eq(memberships.orgId, sql.placeholder('orgId')), who))
      .limit(1);
  const byEmail = membershipWhere(sql`lower(${accounts.email}) = lower(${sql.placeholder('email')})`).prepare('roster_authorize_by_email');
  const byId = membershipWhere(eq(accounts.id, sql.placeholder('id'))).prepare('roster_authorize_by_id');

  function accountOf(subject: Subject): SQL {
    if ('email' in subject) return sql`lower(${accounts.email}) = lower(${subject.email})`;
    if ('id' in subject) return eq(accounts.id, subject.id);
    return sql`${accounts.id} in (select ${slackIdentities.accountId} from ${slackIdentities} where ${slackIdentities.teamId} = ${subject.slack.team} and ${slackIdentities.userId} = ${subject.slack.user})`;
  }

  /** The person's membership in the org, from the database; a found one is kept (access-cache.ts). */
  async function lookUp(orgId: string, subject: Subject, key: string): Promise<FoundMembership | undefined> {
    const mark = deps.accessCache?.mark() ?? 0;
    // The common forms as prepared statements: planned once per connection, built once per process.
    const [m] =
      'email' in subject
        ? await byEmail.execute({ orgId, email: subject.email })
        : 'id' in subject
          ? await byId.execute({ orgId, id: subject.id })
          : await db
              .select({ role: memberships.role, status: memberships.status })
              .from(memberships)
              .innerJoin(accounts, eq(accounts.id, memberships.accountId))
              .where(and(eq(memberships.orgId, orgId), accountOf(subject)))
              .limit(1);
    return m && deps.accessCache ? deps.accessCache.set(key, m, mark) : m;
  }

  async function check(actor: Actor, orgId: string, input: { subject: unknown; permission: unknown }): Promise<AccessAnswer> {
    const subject = parseInput(subjectSchema, input.subject);
    const permission = parseInput(permissionSchema, input.permission);
    authorize(await requireMembership(db, actor, orgId), 'member:view', 'read');
    const key = cacheKey(orgId, subject);
    const m = deps.accessCache?.get(key) ?? (await lookUp(orgId, subject, key));
    if (!m) return { allowed: false, role: null, status: null, reason: 'not_a_member' };
    if (m.status !== 'active') return { allowed: false, role: m.role, status: m.status, reason: m.status };
    const allowed = can(m.role, permission);
    return { allowed, role: m.role, status: m.status, reason: allowed ? 'allowed' : 'missing_permission' };
  }

  /** Every org a person belongs to, with role and status: the operator's question (an operator API key, the CLI). */
  async function orgsOf(actor: Actor, input: { subject: unknown }) {
    const subject = parseInput(subjectSchema, input.subject);
    if (!(actor.type === 'system' || (actor.type === 'api' && actor.orgId === null)))
      fail('forbidden', "Only an operator API key (roster api-key create --operator) can list a person's organizations across orgs.");
    return db
      .select({ orgId: orgs.id, name: orgs.name, slug: orgs.slug, role: memberships.role, status: memberships.status, joinedAt: memberships.joinedAt })
      .from(memberships)
      .innerJoin(accounts, eq(accounts.id, memberships.accountId))
      .innerJoin(orgs, eq(orgs.id, memberships.orgId))
      .where(accountOf(subject))
      .orderBy(asc(orgs.name));
  }

  return { check, orgsOf };
}
