import type { BlockAction, RespondFn } from '@slack/bolt';
import type { SlackPerson } from '../actor.js';
import type { SlackDeps, WebClient } from '../context.js';
import { infoModal } from '../blocks/modals.js';
import { publishHome } from '../home.js';

/** Everything a button or menu handler gets, after ack() and identity resolution. */
export type ActionCtx = {
  deps: SlackDeps;
  body: BlockAction;
  action: BlockAction['actions'][number];
  me: SlackPerson;
  client: WebClient;
  respond: RespondFn;
  /** The click came from App Home (re-render it) rather than from a message (reply there). */
  fromHome: boolean;
  /** A "Loading…" modal opened with the trigger_id before any lookup (a click that shows a form): filled with views.update. */
  loadingViewId?: string | undefined;
};

export type ActionHandler = (a: ActionCtx) => Promise<void>;

export function openModal(a: Pick<ActionCtx, 'body' | 'client' | 'loadingViewId'>, view: Record<string, unknown>) {
  if (a.loadingViewId) return a.client.views.update({ view_id: a.loadingViewId, view: view as never });
  return a.client.views.open({ trigger_id: a.body.trigger_id, view: view as never });
}

/** Errors and notes go where the click came from: an ephemeral reply in a conversation, a modal over App Home. */
export async function tell(a: Pick<ActionCtx, 'deps' | 'body' | 'client' | 'respond' | 'loadingViewId'>, text: string) {
  try {
    if (a.loadingViewId) {
      await a.client.views.update({ view_id: a.loadingViewId, view: infoModal('Roster', text) as never });
    } else if (a.body.container?.type === 'message' && a.body.response_url) {
      await a.respond({ response_type: 'ephemeral', replace_original: false, text });
    } else if (a.body.view && a.body.view.type === 'modal') {
      await a.client.views.push({ trigger_id: a.body.trigger_id, view: infoModal('Roster', text) as never });
    } else {
      await openModal(a, infoModal('Roster', text));
    }
  } catch (err) {
    a.deps.log.error({ err }, 'could not tell the user');
  }
}

/** After a change: App Home is re-rendered; in a message the person gets a short confirmation. */
export async function done(a: ActionCtx, text: string) {
  if (a.fromHome) await publishHome(a.deps, a.client, a.me);
  else await a.respond({ response_type: 'ephemeral', replace_original: false, text });
}
