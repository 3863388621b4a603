import express, { type Router } from 'express';
import type { Domain } from '../domain/index.js';
import type { Logger } from '../logger.js';

export type InvitePageDeps = { domain: Domain; log: Logger; csrfKey: Buffer; publicUrl: string };

/** GET/POST /invites/:token — the page an invitee reaches from the email link. (Being built.) */
export function createInvitePages(_deps: InvitePageDeps): Router {
  const router = express.Router();
  return router;
}
