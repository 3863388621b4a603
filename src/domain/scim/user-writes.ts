import { eq, getTableColumns } from 'drizzle-orm';
import { builtOnce, slot, slotsFor } from '../../db/built-once.js';
import { scimUsers, type OrgRow, type ScimUserRow } from '../../db/schema.js';
import { emit } from '../events.js';
import type { Actor, Deps, Tx } from '../context.js';
import { parseInput } from '../validation.js';
import { assertCleanText, auditUser, emailOf, scimOrgId, userSchema, userTextKeys } from './input.js';
import { accountFor, admit, sameJson } from './provision.js';
import { findUser, groupsOfUser, lockOrgForScim } from './queries.js';
import { setStatus } from './roles.js';
import type { ScimUserInput, ScimUserView } from './types.js';
import { columnsOf, idpNameOf, uniqueness } from './user-columns.js';

/** What a write makes of the user as it is: the whole user it becomes (PUT), or a PATCH applied to it. */
export type NextUser = (current: ScimUserView) => Promise<ScimUserInput> | ScimUserInput;
type Waiting = { actor: Actor; next: NextUser; resolve: (v: ScimUserView) => void; reject: (e: unknown) => void };

/** Most writes to one user taken into one transaction. */
const MAX_BATCH = 50;

/**
 * PUT and PATCH of SCIM users. Writes to one user from this process queue, first come first served (the
 * row lock still orders them across processes): an IdP retrying a PATCH on ten connections waits here,
 * not as ten transactions waking each other on the row lock. What has queued meanwhile is written in
 * one transaction, each write applied to what the one before wrote, each with its own audit event; a
 * write the adapter or a rule refuses before it touches the database is refused alone, and if the
 * database refuses one, each is written alone again (so one IdP mistake never fails another's write).
 */
export function createUserWrites(deps: Deps) {
  const { db, clock } = deps;
  const queues = new Map<string, Waiting[]>();

  function write(actor: Actor, id: string, next: NextUser): Promise<ScimUserView> {
    return new Promise((resolve, reject) => {
      let orgId: string;
      try {
        orgId = scimOrgId(actor);
      } catch (err) {
        return reject(err);
      }
      const key = `${orgId}:${id}`;
      const queue = queues.get(key);
      if (queue) return void queue.push({ actor, next, resolve, reject });
      const fresh = [{ actor, next, resolve, reject }];
      queues.set(key, fresh);
      void drain(key, orgId, id, fresh);
    });
  }

  async function drain(key: string, orgId: string, id: string, queue: Waiting[]) {
    while (queue.length) {
      const batch = queue.splice(0, MAX_BATCH);
      if (batch.length === 1) await alone(orgId, id, batch[0]!);
      else await together(orgId, id, batch);
    }
    queues.delete(key);
  }

  async function alone(orgId: string, id: string, w: Waiting) {
    let decided: Decided | undefined;
    try {
      const view = await db.transaction(async (tx) => {
        // The org's lock and the user's row lock travel together (in this order: every SCIM write locks the org first).
        const [org, before] = await Promise.all([lockOrgForScim(tx, orgId), findUser(tx, orgId, id, true)]);
        decided = await decide(w.next, before);
        return commit(tx, w.actor, org, before, decided);
      });
      w.resolve(view);
    } catch (err) {
      try {
        uniqueness(err, decided?.input.userName, decided?.email);
      } catch (e) {
        w.reject(e);
      }
    }
  }

  async function together(orgId: string, id: string, batch: Waiting[]) {
    let outcomes: ({ view: ScimUserView } | { err: unknown })[];
    try {
      outcomes = await db.transaction(async (tx) => {
        const [org, first] = await Promise.all([lockOrgForScim(tx, orgId), findUser(tx, orgId, id, true)]);
        let before: ScimUserRow = first;
        const out: ({ view: ScimUserView } | { err: unknown })[] = [];
        for (const w of batch) {
          let decided: Decided;
          try {
            decided = await decide(w.next, before);
          } catch (err) {
            out.push({ err });
            continue;
          }
          const view = await commit(tx, w.actor, org, before, decided);
          const { groups: _, ...row } = view;
          before = row;
          out.push({ view });
        }
        return out;
      });
    } catch {
      for (const w of batch) await alone(orgId, id, w);
      return;
    }
    for (const [i, o] of outcomes.entries()) {
      if ('view' in o) batch[i]!.resolve(o.view);
      else batch[i]!.reject(o.err);
    }
  }

  type Decided = Awaited<ReturnType<typeof decide>>;

  /** The write decided, before anything is written: the user it makes, checked. */
  async function decide(next: NextUser, before: ScimUserRow) {
    const input = parseInput(userSchema, await next({ ...before, groups: [] }));
    const columns = columnsOf(input);
    const resource = input.resource ?? {};
    const changedColumns = (Object.keys(columns) as (keyof typeof columns)[]).filter((k) => k !== 'resource' && columns[k] !== before[k]);
    const changedAttributes = Object.fromEntries(Object.entries(resource).filter(([k, v]) => !sameJson(v, before.resource[k])));
    // The character rule holds for what changes only: a value stored before it never blocks a PATCH.
    assertCleanText(
      { ...input, resource: changedAttributes },
      userTextKeys.filter((k) => k === 'resource' || changedColumns.includes(k as never)),
    );
    const email = emailOf(input) ?? before.email ?? undefined;
    const unchanged = !changedColumns.length && email === (before.email ?? undefined) && sameJson(resource, before.resource);
    return { input, columns, email, unchanged };
  }

  /** Writes what was decided: the row, the membership it links or suspends, the audit event. Nothing changed writes nothing. */
  async function commit(tx: Tx, actor: Actor, org: OrgRow, before: ScimUserRow, d: Decided): Promise<ScimUserView> {
    const now = clock.now();
    const linking = !before.accountId && d.email ? await accountFor(tx, actor, org.id, d.email, idpNameOf(d.input), now) : undefined;
    if (d.unchanged && !linking) {
      const [{ groups }] = (await groupsById(tx, { id: before.id })) as [{ groups: ScimUserView['groups'] }];
      return { ...before, groups };
    }
    const updated = updateUser(tx, { ...d.columns, email: d.email ?? null, accountId: linking?.account.id ?? before.accountId, updatedAt: now, id: before.id });
    const { active } = d.columns;
    // A suspension or restoring needs nothing the update answers: its statements follow the update in the same trip.
    const status =
      !linking && before.accountId && before.active !== active ? setStatus(tx, actor, org, before.accountId, active ? 'active' : 'suspended', now) : undefined;
    const [[after]] = await Promise.all([updated, status]);
    if (linking) await admit(tx, deps, actor, org, linking, after!.active, now);
    const { groups: _, ...afterRow } = after!;
    await emit(
      tx,
      actor,
      { orgId: org.id, action: 'scim.user_updated', targetType: 'scim_user', targetId: before.id, before: auditUser(before), after: auditUser(afterRow) },
      now,
    );
    return after!;
  }

  return { write };
}

/** A user's groups alone (a write that changes nothing answers the user as it is). */
const groupsById = builtOnce('SCIM user groups', (tx) =>
  tx
    .select({ groups: groupsOfUser })
    .from(scimUsers)
    .where(eq(scimUsers.id, slot('id'))),
);

/** Every column a SCIM write decides (columnsOf's, the email, the account), with the user's groups. */
const updateUser = builtOnce('SCIM user update', (tx) =>
  tx
    .update(scimUsers)
    .set(slotsFor(scimUsers, ['userName', 'externalId', 'givenName', 'familyName', 'displayName', 'active', 'resource', 'email', 'accountId', 'updatedAt']))
    .where(eq(scimUsers.id, slot('id')))
    .returning({ ...getTableColumns(scimUsers), groups: groupsOfUser }),
);
