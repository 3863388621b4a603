import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres } from '../../src/db/embedded.js';
import { connect } from '../../src/db/client.js';
import { runMigrations } from '../../src/db/migrate.js';

export const TEMPLATE_DB = 'roster_template';

declare module 'vitest' {
  export interface ProvidedContext {
    pgAdminUrl: string;
    pgTemplateDb: string;
  }
}

/**
 * One PostgreSQL for the whole run, with a migrated template database; each test file clones it
 * (CREATE DATABASE … TEMPLATE, tens of milliseconds).
 */
export default async function setup(project: TestProject) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'roster-test-pg-'));
  const logs: string[] = [];
  const server = await startEmbeddedPostgres({ dataDir: dir, fast: true, onLog: (l) => logs.push(l) }).catch((err) => {
    throw new Error(`Test PostgreSQL did not start: ${err.message}\n${logs.slice(-20).join('\n')}`);
  });
  try {
    const admin = new pg.Client({ connectionString: server.url() });
    await admin.connect();
    await admin.query(`create database ${TEMPLATE_DB}`);
    const tpl = connect(server.url(TEMPLATE_DB), 2);
    try {
      await runMigrations(tpl.pool);
    } finally {
      await tpl.close();
      await admin.end();
    }
  } catch (err) {
    // A broken migration must not leave a postmaster and its folder behind.
    await server.stop();
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  project.provide('pgAdminUrl', server.url());
  project.provide('pgTemplateDb', TEMPLATE_DB);
  return async () => {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  };
}
