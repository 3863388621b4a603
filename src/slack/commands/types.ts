import type { RespondFn } from '@slack/bolt';
import type { SlackPerson } from '../actor.js';
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
};

export type SubcommandHandler = (c: CommandCtx) => Promise<void>;

export function say(c: CommandCtx, text: string, blocks?: unknown[]) {
  return c.respond({ response_type: 'ephemeral', text, ...(blocks ? { blocks: blocks as never[] } : {}) });
}

export function openModal(c: CommandCtx, view: Record<string, unknown>) {
  return c.client.views.open({ trigger_id: c.triggerId, view: view as never });
}
