/**
 * What a PostgreSQL (or pg driver) error means, decoded in one place. Errors arrive wrapped
 * (drizzle's DrizzleQueryError has the driver's error as `cause`), so each check walks the causes.
 */

type PgLike = { code?: string; message?: string; constraint?: string; cause?: unknown };

function* causes(err: unknown): Generator<PgLike> {
  for (let e = err as PgLike | undefined, depth = 0; e && depth < 4; e = e.cause as PgLike | undefined, depth++) yield e;
}

/**
 * PostgreSQL unreachable or shutting down (not the caller's fault, and temporary): adapters answer
 * 503 / "try again shortly" instead of a generic failure.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  for (const e of causes(err)) {
    if (e.code && ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', '57P01', '57P02', '57P03', '08000', '08001', '08003', '08006'].includes(e.code)) return true;
    if (
      e.message &&
      /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(e.message)
    )
      return true;
  }
  return false;
}

/**
 * PostgreSQL refused a value as data: a character it cannot store (22021, 22P05: a NUL, an unpaired
 * surrogate in JSON), text that is no valid value of its type (22P02), a number out of range (22003),
 * a date it cannot read or hold (22007, 22008).
 * Validation refuses such input first; this is the last line of defence, so adapters answer it as the
 * caller's mistake (400 / "not accepted") instead of a failure of ours.
 */
export function isInvalidDataError(err: unknown): boolean {
  for (const e of causes(err)) if (e.code && ['22021', '22P02', '22P05', '22003', '22007', '22008'].includes(e.code)) return true;
  return false;
}

/** A unique constraint (by name, or any) was violated: 23505. */
export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  for (const e of causes(err)) if (e.code === '23505') return constraint === undefined || e.constraint === constraint;
  return false;
}
