import type { ViewOutput } from '@slack/bolt';
import type { SlackPerson } from '../actor.js';
import type { SlackDeps, WebClient } from '../context.js';
import type { Values } from './form.js';

export type ViewAck = (response?: Record<string, unknown>) => Promise<void>;

/** Everything a modal submission handler gets, after identity resolution and before ack(). */
export type ViewCtx = {
  deps: SlackDeps;
  values: Values;
  view: ViewOutput;
  me: SlackPerson;
  ack: ViewAck;
  client: WebClient;
};

export type ViewHandler = (v: ViewCtx) => Promise<void>;
