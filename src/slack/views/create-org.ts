import { esc } from '../blocks/kit.js';
import { publishHome } from '../home.js';
import { ids } from '../ids.js';
import { text } from './form.js';
import type { ViewCtx } from './types.js';

export async function createOrg({ deps, values, me, ack, client }: ViewCtx) {
  const org = await deps.domain.orgs.create(me.actor, {
    name: text(values, ids.blocks.orgName, ids.inputs.orgName),
    slug: text(values, ids.blocks.orgSlug, ids.inputs.orgSlug) || undefined,
  });
  await ack();
  await client.chat.postMessage({ channel: me.userId, text: `:tada: Created *${esc(org.name)}* (\`${org.slug}\`). It is now your active organization.` });
  await publishHome(deps, client, me);
}
