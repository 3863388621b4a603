import { targetMember } from '../actor.js';
import { publishHome } from '../home.js';
import { ids } from '../ids.js';
import { selected, selectedUser } from './form.js';
import { memberMetadata } from './metadata.js';
import type { ViewCtx } from './types.js';

/** Opened from a member's menu (the member is in the metadata) or by `/org role` (a user picker). */
export async function changeRole({ deps, values, view, me, ack, client }: ViewCtx) {
  const { orgId, accountId: given } = memberMetadata(view);
  const accountId =
    given ?? (await targetMember(deps.domain, client, me, orgId, { slackUserId: selectedUser(values, ids.blocks.member, ids.inputs.member) })).accountId;
  await deps.domain.members.changeRole(me.actor, orgId, accountId, selected(values, ids.blocks.role, ids.inputs.role));
  await ack();
  deps.kickOutbox();
  await publishHome(deps, client, me);
}
