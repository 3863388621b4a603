import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { start, type StartOptions } from '../../src/main.js';
import type { Domain } from '../../src/domain/index.js';
import { freshDatabase } from './db.js';
import { TestClock } from './domain.js';

export const TEST_PUBLIC_URL = 'https://roster.test';
export const TEST_APP_SECRET = 's'.repeat(40);

/**
 * The settings of a Roster started inside a test: loopback on a free port, silent, and development email
 * written as .eml files outside the project folder. `env` adds to them or overrides them.
 */
export function testConfig(env: Record<string, string> = {}) {
  return loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    PUBLIC_URL: TEST_PUBLIC_URL,
    APP_SECRET: TEST_APP_SECRET,
    OUTBOX_DIR: path.join(os.tmpdir(), `roster-test-outbox-${process.pid}`),
    ...env,
  });
}

export type TestDatabase = Awaited<ReturnType<typeof freshDatabase>>;

export type BootedRoster = {
  baseUrl: string;
  domain: Domain;
  db: TestDatabase;
  clock: TestClock;
  /**
   * Another Roster process (in this test process) on the same database and clock, with the same
   * settings plus `env`; stopped with the first. Returns its base URL.
   */
  another: (env?: Record<string, string>) => Promise<string>;
};

/**
 * Roster's real server (main.ts `start`) in this test process, on a fresh database and a TestClock:
 * started in beforeAll, stopped in afterAll. `build` turns it into the harness a test file uses.
 */
export function useRoster<H>(
  opts: {
    env?: Record<string, string> | (() => Record<string, string>);
    start?: Omit<StartOptions, 'database' | 'clock'>;
    before?: () => Promise<void>;
    after?: () => Promise<void>;
  },
  build: (roster: BootedRoster) => H,
): () => H {
  let h: H | undefined;
  const stops: (() => Promise<void>)[] = [];
  beforeAll(async () => {
    await opts.before?.();
    const db = await freshDatabase();
    stops.push(() => db.close());
    const clock = new TestClock(new Date());
    const env = typeof opts.env === 'function' ? opts.env() : (opts.env ?? {});
    const boot = async (extra: Record<string, string> = {}) => {
      const roster = await start(testConfig({ ...env, ...extra }), { ...opts.start, database: db, clock });
      stops.push(() => roster.stop());
      return roster;
    };
    const roster = await boot();
    h = build({
      baseUrl: `http://127.0.0.1:${roster.port}`,
      domain: roster.domain,
      db,
      clock,
      another: async (extra) => `http://127.0.0.1:${(await boot(extra)).port}`,
    });
  });
  afterAll(async () => {
    // Last started, first stopped; the database closes after every process on it.
    for (const stop of stops.splice(0).reverse()) await stop();
    await opts.after?.();
  });
  return () => {
    if (!h) throw new Error('harness not ready');
    return h;
  };
}
