import express, { type Express } from 'express';
import type pg from 'pg';
import { ping } from '../db/client.js';

export type WebDeps = { pool: pg.Pool; version: string; slackEnabled: boolean };

/** One express app for every HTTP surface. Health comes first; other surfaces mount on it. */
export function createWebApp(deps: WebDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.get('/healthz', async (_req, res) => {
    const dbUp = await ping(deps.pool);
    res.status(dbUp ? 200 : 503).json({
      status: dbUp ? 'ok' : 'degraded',
      database: dbUp ? 'up' : 'down',
      slack: deps.slackEnabled ? 'on' : 'off',
      version: deps.version,
    });
  });
  return app;
}
