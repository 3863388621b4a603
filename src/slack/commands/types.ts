import type { RespondFn } from '@slack/bolt';
import type { SlackPerson } from '../actor.js';
import type { Block } from '../blocks/kit.js';
import { infoModal } from '../blocks/modals.js';
import type { SlackDeps, WebClient } from '../context.js';

/** Everything a `/org <sub>` handler gets, after ack() and identity resolution. */
export type CommandCtx = {
  deps: SlackDeps;
  me: SlackPerson;
  client: WebClient;
  respond: RespondFn;
  triggerId: string;
  args: string[];
  rest: string;
  /**
   * A "Loading…" modal opened with the trigger_id before any lookup (commands that show a form): the
   * form, or whatever the command says instead, goes into it with views.update.
   */
  loadingViewId?: string | undefined;
};

export type SubcommandHandler = (c: CommandCtx) => Promise<void>;

export async function say(c: CommandCtx, text: string, blocks?: unknown[]) {
  // A form was expected and a loading modal is open: the answer replaces it (a refusal shown before asking).
  if (c.loadingViewId) {
    // The person may have closed the loading modal meanwhile: then the answer comes as a reply.
    const shown = await c.client.views.update({ view_id: c.loadingViewId, view: infoModal('Roster', text, blocks as Block[] | undefined) as never }).then(
      () => true,
      () => false,
    );
    if (shown) return;
  }
  await c.respond({ response_type: 'ephemeral', text, ...(blocks ? { blocks: blocks as never[] } : {}) });
}

export function openModal(c: CommandCtx, view: Record<string, unknown>) {
  // A form into the loading modal; if the person closed it meanwhile, there is nobody to show it to.
  if (c.loadingViewId)
    return c.client.views
      .update({ view_id: c.loadingViewId, view: view as never })
      .catch((err) => c.deps.log.debug({ err }, 'form not shown: its modal was closed'));
  return c.client.views.open({ trigger_id: c.triggerId, view: view as never });
}
