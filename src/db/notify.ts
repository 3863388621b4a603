import pg from 'pg';

/**
 * A channel of PostgreSQL notifications, heard on one dedicated connection (not one of the pool's).
 * `live` is true only while that connection is up and listening: a cache that relies on it must not
 * serve while it is false (a notification may have been missed). Reconnects on its own.
 */
export type Invalidation = {
  live: () => boolean;
  /** Called on every notification, and whenever the connection is lost or (re)established. */
  onChange: (listener: () => void) => void;
  close: () => Promise<void>;
};

const RETRY_MS = 1_000;

export function listenTo(pool: pg.Pool, channel: string, opts: { retryMs?: number } = {}): Invalidation {
  const retryMs = opts.retryMs ?? RETRY_MS;
  if (!/^[a-z_][a-z0-9_]*$/.test(channel)) throw new Error(`not a channel name: ${channel}`);
  const listeners = new Set<() => void>();
  const changed = () => listeners.forEach((l) => l());
  let client: pg.Client | undefined;
  let live = false;
  let closed = false;
  let retry: NodeJS.Timeout | undefined;

  const lost = (c: pg.Client) => {
    if (client !== c) return;
    client = undefined;
    live = false;
    changed();
    c.end().catch(() => {});
    if (!closed) retry = setTimeout(connect, retryMs).unref();
  };

  async function connect() {
    if (closed) return;
    // The pool's own settings (connection string, credentials): the same server and database.
    const c = new pg.Client((pool as unknown as { options: pg.ClientConfig }).options);
    c.on('error', () => lost(c));
    c.on('end', () => lost(c));
    c.on('notification', (n) => n.channel === channel && changed());
    client = c;
    try {
      await c.connect();
      await c.query(`listen ${channel}`);
      if (closed || client !== c) return void c.end().catch(() => {});
      changed();
      live = true;
    } catch {
      lost(c);
    }
  }
  void connect();

  return {
    live: () => live,
    onChange: (l) => void listeners.add(l),
    close: async () => {
      closed = true;
      live = false;
      clearTimeout(retry);
      const c = client;
      client = undefined;
      await c?.end().catch(() => {});
    },
  };
}
