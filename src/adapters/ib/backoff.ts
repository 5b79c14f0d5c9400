import { LegguardError } from '../../core/errors.js';

export interface BackoffOptions {
  /** The first wait after a lost connection. Default 1 s. */
  readonly initialMs?: number;
  /** Never wait longer than this. Default 30 s: TWS's nightly restart takes a minute or two. */
  readonly maxMs?: number;
  /** Each failed attempt multiplies the wait by this. Default 2. */
  readonly factor?: number;
}

/**
 * Reconnect waits: 1 s, 2 s, 4 s ... up to the cap, back to the start after a connection that worked. No jitter:
 * one guard reconnects to one TWS, there is no herd to spread.
 */
export class Backoff {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly factor: number;
  private attempt = 0;

  constructor(opts: BackoffOptions = {}) {
    this.initialMs = opts.initialMs ?? 1000;
    this.maxMs = opts.maxMs ?? 30_000;
    this.factor = opts.factor ?? 2;
    if (!(this.initialMs > 0 && this.maxMs >= this.initialMs && this.factor >= 1)) {
      throw new LegguardError(
        'INVALID_INPUT',
        `reconnect backoff needs 0 < initialMs <= maxMs and factor >= 1; got ${this.initialMs}, ${this.maxMs}, ${this.factor}`,
      );
    }
  }

  /** The wait before the next attempt; each call counts one failed attempt. */
  next(): number {
    const wait = Math.min(this.maxMs, this.initialMs * this.factor ** this.attempt);
    this.attempt++;
    return wait;
  }

  reset(): void {
    this.attempt = 0;
  }
}
