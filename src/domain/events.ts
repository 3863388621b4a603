import { sql, type SQL } from 'drizzle-orm';
import { accounts, auditEvents, notifications } from '../db/schema.js';
import { eq } from 'drizzle-orm';
import type { Role } from './roles/catalogue.js';
import type { Actor, Db, Executor, Tx } from './context.js';
import { channelsFor, type Notification, type NotificationKind } from './notifications.js';
import { writeWithNext } from '../db/pipeline.js';

/**
 * The domain's events: every change a domain function makes emits one (or several) here, inside the
 * transaction that makes it. An event is recorded as an audit row, numbered in its org's sequence, so
 * the audit log is the event log a feed or webhooks can deliver in order.
 */

type Shape<Target extends EventTarget, Before = Payload | undefined, After = Payload | undefined> = { target: Target; before: Before; after: After };
type Payload = Record<string, unknown>;
type MemberRef = { accountId: string; role: Role };
/** An invite as its events show it. */
type InviteView = { email: string; role: Role; billingEmails: boolean; status: string; expiresAt: Date | null; inviteeName?: string };
type JoinDecision = { status: string; role: Role | null; reason: string | null };
/** A SCIM user as its events show it. */
type ScimUserView = { userName: string; externalId: string | null; email: string | null; active: boolean };
/** A verified-domain claim as its events show it. */
type DomainView = { domain: string; status: string };
type Enrollment = { enrollment: string; role: Role };
/** A Slack installation as its events show it: a workspace's, or a Grid's org-wide one. */
type InstallationView = { enterpriseId: string | null; teamId: string | null; isEnterpriseInstall: boolean };
/** A webhook endpoint as its events show it. */
type WebhookView = { url: string; events: string[]; enabled: boolean };

/** Every event type, with what it is about and what its before and after hold. */
export interface EventTypes {
  'account.created': Shape<'account'>;
  /** A Slack user of a workspace not trusted for emails was sent a link to confirm their address. */
  'account.slack_link_requested': Shape<'account', undefined, { slack: string; team: string; email: string }>;
  /** They opened it: their Slack user is linked to the account of that address. */
  'account.slack_linked': Shape<'account', undefined, { slack: string; team: string; email: string }>;
  'account.renamed': Shape<'account'>;
  'account.active_org_changed': Shape<'account'>;
  'org.created': Shape<'org', undefined, { name: string; slug: string }>;
  'org.renamed': Shape<'org', { name: string }, { name: string }>;
  'org.settings_changed': Shape<'org'>;
  'org.deleted': Shape<'org', { name: string; slug: string; members: number }, undefined>;
  'org.primary_owner_transferred': Shape<'org', { primaryOwnerId: string }, { primaryOwnerId: string }>;
  /**
   * After member.pending: consented (the person accepted the membership their org's IdP made for them), or
   * domainVerified (the org then verified the domain of their address, so its IdP speaks for them).
   */
  'member.added': Shape<'membership', undefined, MemberRef & { source: string; billingEmails?: boolean; consented?: true; domainVerified?: string }>;
  /** An IdP added someone outside the org's verified domains: no access until they accept. */
  'member.pending': Shape<'membership', undefined, MemberRef & { source: string; email: string }>;
  'member.declined': Shape<'membership', MemberRef, undefined>;
  'member.role_changed': Shape<'membership', MemberRef | undefined, (MemberRef & { via?: string }) | undefined>;
  'member.removed': Shape<'membership', MemberRef & { email?: string | null; source?: string }, undefined>;
  'member.left': Shape<'membership', MemberRef & { email?: string | null }, undefined>;
  'member.billing_emails_changed': Shape<'membership', { billingEmails: boolean }, { billingEmails: boolean }>;
  'member.suspended': Shape<'membership'>;
  'member.restored': Shape<'membership'>;
  'invite.created': Shape<'invite', undefined, InviteView>;
  'invite.resent': Shape<'invite', InviteView, InviteView>;
  'invite.updated': Shape<'invite', InviteView, InviteView>;
  'invite.revoked': Shape<'invite', InviteView, InviteView | undefined>;
  /** acceptedBy: 'link' (the invite link was used) or 'account' (a signed-in person with the invited email). */
  'invite.accepted': Shape<'invite', InviteView, InviteView & { acceptedBy: 'link' | 'account' }>;
  'invite.declined': Shape<'invite', InviteView, InviteView>;
  'invite.expired': Shape<'invite', { status: 'pending'; expiresAt: Date | null }, undefined>;
  'join_request.created': Shape<'join_request', undefined, { accountId: string; message: string | null }>;
  'join_request.approved': Shape<'join_request', { status: 'pending' }, JoinDecision>;
  'join_request.denied': Shape<'join_request', { status: 'pending' }, JoinDecision>;
  'scim_token.created': Shape<'scim_token', undefined, { name: string }>;
  'api_key.created': Shape<'api_key', undefined, { name: string; scope: string; operator: boolean }>;
  'api_key.revoked': Shape<'api_key', { name: string }, undefined>;
  'api_key.rotated': Shape<'api_key', { id: string; validUntil: Date }, { name: string }>;
  'scim_token.revoked': Shape<'scim_token', { name: string }, undefined>;
  'scim_token.rotated': Shape<'scim_token'>;
  'scim.user_provisioned': Shape<'scim_user', undefined, ScimUserView>;
  'scim.user_updated': Shape<'scim_user', ScimUserView, ScimUserView>;
  'scim.user_deprovisioned': Shape<'scim_user', ScimUserView, undefined>;
  'scim.group_created': Shape<'scim_group'>;
  'scim.group_updated': Shape<'scim_group'>;
  'scim.group_deleted': Shape<'scim_group', { displayName: string; role: Role | null }, undefined>;
  'scim.group_mapped': Shape<'org', undefined, { group: string; role: Role | null; pending: boolean }>;
  'scim.settings_changed': Shape<'org'>;
  'slack.installed': Shape<'slack_installation', undefined, InstallationView & { installer: string | null; reinstall: boolean }>;
  /** reason: app_uninstalled, tokens_revoked, or the error Slack answered the installation's token with (invalid_auth, …). */
  'slack.uninstalled': Shape<'slack_installation', InstallationView, { reason: string }>;
  'domain.added': Shape<'domain', undefined, DomainView & { record: string }>;
  'domain.verified': Shape<'domain', DomainView, DomainView>;
  'domain.verification_failed': Shape<'domain', DomainView, DomainView & { reason: string }>;
  'domain.removed': Shape<'domain', DomainView, undefined>;
  'domain.enrollment_changed': Shape<'domain', Enrollment & { domain: string }, Enrollment & { domain: string }>;
  'webhook.created': Shape<'webhook', undefined, WebhookView>;
  'webhook.updated': Shape<'webhook', WebhookView, WebhookView>;
  'webhook.deleted': Shape<'webhook', WebhookView, undefined>;
  'webhook.secret_rotated': Shape<'webhook', { previousValidUntil: Date }, undefined>;
  /** reason: why deliveries stopped (its retries ran out, or it answered 410 Gone). */
  'webhook.disabled': Shape<'webhook', undefined, { url: string; reason: string }>;
  'webhook.enabled': Shape<'webhook'>;
  'webhook.replayed': Shape<'webhook', undefined, { since: Date; queued: number }>;
}

export type EventType = keyof EventTypes;

export type EventTarget =
  | 'account'
  | 'org'
  | 'membership'
  | 'invite'
  | 'join_request'
  | 'scim_token'
  | 'api_key'
  | 'scim_user'
  | 'scim_group'
  | 'domain'
  | 'slack_installation'
  | 'webhook';

/**
 * The notifications an event may bring to the outbox, by event type; the domain function that emits it
 * decides whom to tell (SCIM's changes, for one, tell nobody). Events not listed bring none.
 */
export interface EventNotifications {
  'account.slack_link_requested': 'account.slack_link';
  'member.pending': 'member.consent_requested';
  'member.role_changed': 'member.role_changed';
  'member.removed': 'member.removed';
  'invite.created': 'invite.sent';
  'invite.resent': 'invite.sent';
  'invite.accepted': 'invite.accepted';
  'invite.declined': 'invite.declined';
  'join_request.created': 'join_request.created';
  'join_request.approved': 'join_request.decided';
  'join_request.denied': 'join_request.decided';
  'webhook.disabled': 'webhook.disabled';
}

/** A notification an event brings: when and for which org come from the event. */
export type Notice<K extends NotificationKind = NotificationKind> = Omit<Notification, 'at' | 'orgId' | 'kind'> & { kind: K };

/** One event: its type, its org (null for an account's own changes), what it is about, before and after. */
export type DomainEvent = {
  [T in EventType]: {
    orgId: string | null;
    action: T;
    targetType: EventTypes[T]['target'];
    targetId: string | null;
    /** Whom to tell, and what: written to the outbox with the event. */
    notify?: T extends keyof EventNotifications ? Notice<EventNotifications[T]>[] : never;
  } & (undefined extends EventTypes[T]['before'] ? { before?: EventTypes[T]['before'] } : { before: EventTypes[T]['before'] }) &
    (undefined extends EventTypes[T]['after'] ? { after?: EventTypes[T]['after'] } : { after: EventTypes[T]['after'] });
}[EventType];

type EventRow = typeof auditEvents.$inferInsert;

/**
 * Events emitted inside a transaction opened through withEvents wait here and are written in one
 * statement just before that transaction commits (a SCIM create emits three: one round trip).
 */
const pendingEvents = new WeakMap<object, EventRow[]>();

/**
 * The database handle the domain uses: its transactions write their events in one batch at the end
 * (a SCIM create emits three), and `committed` hears the actions of each that committed. Everything
 * else passes straight through.
 */
export function withEvents(db: Db, committed?: (actions: readonly string[]) => void): Db {
  const transaction: Db['transaction'] = async (run, config) => {
    let actions: string[] = [];
    const result = await db.transaction(async (tx) => {
      const events: EventRow[] = [];
      pendingEvents.set(tx, events);
      try {
        const out = await run(tx);
        if (events.length) await write(tx, events);
        actions = events.map((e) => e.action);
        return out;
      } finally {
        pendingEvents.delete(tx);
      }
    }, config);
    // After commit: this process's caches learn of its own changes at once (others hear a NOTIFY).
    if (actions.length) committed?.(actions);
    return result;
  };
  return new Proxy(db, { get: (target, prop, receiver) => (prop === 'transaction' ? transaction : Reflect.get(target, prop, receiver)) });
}

/**
 * Runs `run` in a savepoint of `tx` (a nested transaction): if it throws, only its own writes are undone
 * and `tx` goes on. Its events join the batch of `tx` when it succeeds (one insert at commit, and the
 * commit hook hears them), and vanish with it when it fails.
 */
export async function inSavepoint<T>(tx: Tx, run: (sp: Tx) => Promise<T>): Promise<T> {
  const outer = pendingEvents.get(tx);
  const inner: EventRow[] = [];
  const out = await tx.transaction(async (sp) => {
    if (!outer) return run(sp);
    pendingEvents.set(sp, inner);
    try {
      return await run(sp);
    } finally {
      pendingEvents.delete(sp);
    }
  });
  outer?.push(...inner);
  return out;
}

/**
 * Emits one event: its audit row (numbered after commit) and the notifications it brings, in the
 * transaction that makes the change. The only writer of audit rows and outbox notifications.
 */
export async function emit(tx: Executor, actor: Actor, event: DomainEvent, at: Date): Promise<void> {
  if (event.notify?.length) await writeNotifications(tx, ...event.notify.map((n): Notification => ({ ...n, at, orgId: event.orgId })));
  const who = await describeActor(tx, actor);
  const row: EventRow = {
    at,
    orgId: event.orgId,
    actorType: actor.type,
    actorId: who.id,
    actorLabel: who.label,
    via: viaOf(actor),
    action: event.action,
    targetType: event.targetType,
    targetId: event.targetId,
    before: event.before ?? null,
    after: event.after ?? null,
  };
  const batch = pendingEvents.get(tx);
  if (!batch) return write(tx, [row]);
  batch.push(row);
}

/**
 * Inserts the events, all in one statement (the events travel as one JSON parameter and keep their
 * order), sent with the transaction's COMMIT. They are numbered in their orgs' sequences after commit (event-numbers.ts), so
 * writing them locks nothing org-wide.
 */
async function write(tx: Executor, rows: EventRow[]): Promise<void> {
  const events = rows.map((r) => ({
    at: r.at,
    org_id: r.orgId,
    actor_type: r.actorType,
    actor_id: r.actorId,
    actor_label: r.actorLabel,
    via: r.via,
    action: r.action,
    target_type: r.targetType,
    target_id: r.targetId,
    before: r.before,
    after: r.after,
  }));
  // Nothing reads this statement's answer: in a transaction it goes out with the COMMIT (or the next statement).
  await writeWithNext(
    tx,
    sql`
    insert into audit_events (at, org_id, actor_type, actor_id, actor_label, via, action, target_type, target_id, before, after)
    select ev.at, ev.org_id, ev.actor_type, ev.actor_id, ev.actor_label, ev.via, ev.action, ev.target_type, ev.target_id, ev.before, ev.after
    from jsonb_populate_recordset(null::audit_events, ${JSON.stringify(events)}::jsonb) with ordinality as ev
    order by ev.ordinality`,
  );
}

/**
 * The set-based form of emit, for a sweep that changes many rows in one statement: a common table
 * expression to append after the sweep's own, recording one event per row of the CTE named `from`
 * (columns org_id, target_id text, before jsonb). Numbered after commit, like every event.
 */
export function emitFromRows(from: string, actor: Extract<Actor, { type: 'system' }>, action: EventType, targetType: EventTarget, at: Date): SQL {
  const who = systemActorLabel(actor);
  return sql`
    events_recorded as (
      insert into audit_events (at, org_id, actor_type, actor_id, actor_label, via, action, target_type, target_id, before)
      select ${at}, e.org_id, 'system', ${actor.job}, ${who}, ${viaOf(actor)}, ${action}, ${targetType}, e.target_id, e.before
      from ${sql.identifier(from)} e order by e.target_id
    )`;
}

/**
 * The set-based way to queue notifications that come with no change to record (invite reminders): a
 * common table expression queuing one notification of `kind` per row of the CTE named `from`
 * (columns org_id, recipient_email, payload jsonb, dedupe_key) on each of the kind's channels.
 */
export function notifyFromRows(from: string, kind: NotificationKind, at: Date): SQL {
  return sql`
    notices_queued as (
      insert into notifications (kind, org_id, recipient_email, channel, payload, dedupe_key, created_at, next_attempt_at)
      select ${kind}, n.org_id, n.recipient_email, ch, n.payload, n.dedupe_key, ${at}, ${at}
      -- sql.param: one array parameter (a bare JS array would be spread into a row and fail the cast).
      from ${sql.identifier(from)} n cross join unnest(${sql.param(channelsFor[kind])}::text[]) ch
      on conflict (dedupe_key, channel) do nothing
    )`;
}

/** Writes an event's notifications to the outbox, once per channel however often the change is retried. */
async function writeNotifications(tx: Executor, ...items: Notification[]): Promise<void> {
  const rows = items.flatMap((n) =>
    channelsFor[n.kind].map((channel) => ({
      kind: n.kind,
      orgId: n.orgId,
      recipientAccountId: n.recipientAccountId ?? null,
      recipientEmail: n.recipientEmail ?? null,
      channel,
      payload: n.payload,
      dedupeKey: n.dedupeKey,
      createdAt: n.at,
      nextAttemptAt: n.at,
    })),
  );
  if (!rows.length) return;
  // The outbox row goes out with the transaction's next statement; ON CONFLICT means it cannot be refused.
  await writeWithNext(
    tx,
    tx
      .insert(notifications)
      .values(rows)
      .onConflictDoNothing({ target: [notifications.dedupeKey, notifications.channel] }),
  );
}

function viaOf(actor: Actor): string {
  if (actor.type === 'account') return actor.via;
  if (actor.type === 'scim' || actor.type === 'api') return actor.type;
  return actor.job === 'cli' ? 'cli' : 'job';
}

function systemActorLabel(actor: Extract<Actor, { type: 'system' }>): string {
  return actor.job === 'cli' ? 'Operator (roster CLI)' : `Roster job ${actor.job}`;
}

async function describeActor(tx: Executor, actor: Actor): Promise<{ id: string; label: string }> {
  switch (actor.type) {
    case 'account': {
      const [a] = await tx.select({ name: accounts.displayName, email: accounts.email }).from(accounts).where(eq(accounts.id, actor.accountId));
      return { id: actor.accountId, label: a ? (a.email ? `${a.name} <${a.email}>` : a.name) : 'unknown account' };
    }
    case 'scim':
      return { id: actor.tokenId, label: `SCIM token ${actor.label}` };
    case 'api':
      return { id: actor.keyId, label: `API key ${actor.label}` };
    case 'system':
      return { id: actor.job, label: systemActorLabel(actor) };
  }
}
