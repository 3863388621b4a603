import express, { type Express, type Router } from 'express';
import type pg from 'pg';
import { ping } from '../db/client.js';

export type WebDeps = {
  pool: pg.Pool;
  version: string;
  /** Slack's HTTP receiver (/slack/events); it reads the raw body itself to check signatures. */
  slackRouter?: Router | undefined;
  slackMode: 'http' | 'socket' | 'off';
  /** /scim/v2 for identity providers. */
  scimRouter?: Router | undefined;
  /** /invites/<token>: the invite page. */
  inviteRouter?: Router | undefined;
};

/** One express app for every HTTP surface. */
export function createWebApp(deps: WebDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  // Mounted before any body parser: a parsed body would break Slack's signature check.
  if (deps.slackRouter) app.use(deps.slackRouter);
  if (deps.scimRouter) app.use('/scim/v2', deps.scimRouter);
  if (deps.inviteRouter) app.use('/invites', deps.inviteRouter);
  app.get('/healthz', async (_req, res) => {
    const dbUp = await ping(deps.pool);
    res.status(dbUp ? 200 : 503).json({
      status: dbUp ? 'ok' : 'degraded',
      database: dbUp ? 'up' : 'down',
      slack: deps.slackMode === 'off' ? 'off' : 'on',
      version: deps.version,
    });
  });
  return app;
}
