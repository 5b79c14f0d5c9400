import { LegguardError } from '../core/errors.js';

/** An exponential backoff: the first wait, the factor each further failure multiplies it by, the cap. */
export interface BackoffPolicy {
  readonly initialMs: number;
  readonly factor: number;
  readonly maxMs: number;
}

/**
 * How long to wait after the `failures`-th failed attempt in a row (1-based; below 1 counts as 1):
 * `initialMs * factor^(failures-1)`, never more than `maxMs` (the cap wins even below `initialMs`), in whole ms and
 * at least 1. No jitter: one guard talks to each service (one TWS, one alert channel), so there is no herd to spread
 * out, and tests stay exact. Used by the alert outbox (a failed delivery's next attempt) and, through `Backoff`, by
 * the IB connection (the wait before a reconnect).
 *
 * @example retryDelayMs(1, { initialMs: 5000, factor: 2, maxMs: 900_000 }) // 5000; then 10000, 20000 ... 900000
 */
export function retryDelayMs(failures: number, p: BackoffPolicy): number {
  const n = Number.isFinite(failures) ? Math.max(1, Math.floor(failures)) : 1;
  // A huge failure count makes the power Infinity, which the cap turns back into maxMs.
  return Math.max(1, Math.round(Math.min(p.maxMs, p.initialMs * p.factor ** (n - 1))));
}

/**
 * `retryDelayMs` with the failures counted: each `next()` is one more failed attempt, `reset()` after one that
 * worked starts again from `initialMs`. Refuses a policy that makes no sense for waiting (`0 < initialMs <= maxMs`,
 * `factor >= 1`, all finite) with INVALID_INPUT naming `what`.
 *
 * @example
 *   const b = new Backoff({ initialMs: 1000, factor: 2, maxMs: 30_000 });
 *   b.next(); b.next(); b.next(); // 1000, 2000, 4000
 */
export class Backoff {
  private failures = 0;

  constructor(
    readonly policy: BackoffPolicy,
    what = 'backoff',
  ) {
    const { initialMs, maxMs, factor } = policy;
    if (!(Number.isFinite(initialMs) && Number.isFinite(maxMs) && Number.isFinite(factor) && initialMs > 0 && maxMs >= initialMs && factor >= 1)) {
      throw new LegguardError('INVALID_INPUT', `${what} needs 0 < initialMs <= maxMs and factor >= 1, all finite; got ${initialMs}, ${maxMs}, ${factor}`, {
        initialMs,
        maxMs,
        factor,
      });
    }
  }

  /** The wait before the next attempt; each call counts one failed attempt. */
  next(): number {
    this.failures++;
    return retryDelayMs(this.failures, this.policy);
  }

  reset(): void {
    this.failures = 0;
  }
}
