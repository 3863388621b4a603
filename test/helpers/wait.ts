/**
 * The one polling helper of the tests (and the benchmarks): wait for a condition, never for a guessed
 * amount of time. A check that throws ends the wait at once (a server that exited, say).
 */
export type WaitOptions = {
  /** Give up after this long (default 10 s). */
  timeoutMs?: number;
  /** Pause between checks (default 20 ms). */
  intervalMs?: number;
  /** Added to the timeout message: what was seen instead (calls, output, messages). */
  describe?: () => string;
  /** Replaces the pause between checks, e.g. to be woken early by the event itself. */
  pause?: () => Promise<void>;
};

/** Resolves with the first truthy value check() returns (sync or async); fails after the timeout. */
export async function waitFor<T>(
  check: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  what: string,
  opts: WaitOptions = {},
): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const intervalMs = opts.intervalMs ?? 20;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) {
      const seen = opts.describe?.();
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}.${seen ? `\n${seen}` : ''}`);
    }
    await (opts.pause ? opts.pause() : new Promise((r) => setTimeout(r, intervalMs)));
  }
}

/** GET /healthz on 127.0.0.1:port: its status, or 0 when nothing answers within 5 s. */
export async function healthStatus(port: number): Promise<number> {
  try {
    const r = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(5_000) });
    await r.text();
    return r.status;
  } catch {
    return 0;
  }
}
