import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { connect, type Database } from '../../src/db/client.js';

let cloneLock: Promise<unknown> = Promise.resolve();

/** A fresh database cloned from the migrated template: real PostgreSQL, isolated per call. */
export async function freshDatabase(poolSize = 10): Promise<Database & { url: string; name: string }> {
  const adminUrl = inject('pgAdminUrl');
  const name = `t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    // Cloning needs the template free of other sessions; retry briefly if another worker is cloning.
    const run = cloneLock.then(() => cloneWithRetry(admin, name));
    cloneLock = run.catch(() => {});
    await run;
  } finally {
    await admin.end();
  }
  const url = adminUrl.replace(/\/[^/]*$/, `/${name}`);
  const database = connect(url, poolSize);
  return { ...database, url, name };
}

async function cloneWithRetry(admin: pg.Client, name: string): Promise<void> {
  const tpl = inject('pgTemplateDb');
  for (let attempt = 0; ; attempt++) {
    try {
      await admin.query(`create database ${name} template ${tpl} strategy file_copy`);
      return;
    } catch (err) {
      if (attempt > 50 || !/being accessed by other users/.test(String((err as Error).message))) throw err;
      await new Promise((r) => setTimeout(r, 50 + Math.random() * 100));
    }
  }
}

