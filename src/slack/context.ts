import type { App } from '@slack/bolt';
import type { Domain } from '../domain/index.js';
import type { Clock } from '../domain/context.js';
import type { Logger } from '../logger.js';

/** What every Slack listener needs: the domain to call, and how to build links. */
export type SlackDeps = {
  domain: Domain;
  clock: Clock;
  log: Logger;
  publicUrl: string;
  /** Asks the notification worker to deliver what was just queued (DMs, emails) right away. */
  kickOutbox: () => void;
};

export type WebClient = App['client'];
