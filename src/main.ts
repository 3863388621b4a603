import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { ConfigError, loadConfig, type Config } from './config.js';
import { openDatabase } from './db/open.js';
import { createDomain } from './domain/index.js';
import { systemClock } from './domain/context.js';
import { createLogger } from './logger.js';
import { appSecret, deriveKey } from './secrets.js';
import { version } from './version.js';
import { createWebApp } from './web/server.js';

/** Wiring: the only module that knows every part. Returns a handle to stop it all. */
export async function start(config: Config) {
  const log = createLogger(config.logLevel);
  const database = await openDatabase(config, log);
  log.info({ database: database.description }, 'database ready');

  const domain = createDomain({
    db: database.db,
    clock: systemClock,
    settings: { membershipMode: config.membershipMode, inviteTokenKey: deriveKey(appSecret(config), 'invite-token') },
  });

  const slackEnabled = Boolean(config.slack.signingSecret && config.slack.botToken);
  if (!slackEnabled) {
    log.info('Slack is off: set SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN to turn it on (see README).');
  }

  const app = createWebApp({ pool: database.pool, version, slackEnabled });
  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(config.port, config.host, () => resolve(s));
    s.once('error', reject);
  });
  const port = (server.address() as AddressInfo).port;
  log.info({ port, url: config.publicUrl }, `Roster ${version} listening on port ${port}`);

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections?.();
      await database.shutdown();
      log.info('stopped');
    })());

  return { port, domain, stop, log };
}

async function main() {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
  const roster = await start(config);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      roster.log.info({ signal }, 'shutting down');
      roster.stop().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((err) => {
    console.error(`Roster could not start: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
