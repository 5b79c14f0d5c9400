export interface BackoffPolicy {
  readonly initialMs: number;
  readonly factor: number;
  readonly maxMs: number;
}

/**
 * How long to wait after the `failures`-th failed attempt (1-based): `initialMs * factor^(failures-1)`, never more
 * than `maxMs`. No jitter: one guard talks to each service, so there is no herd to spread out, and tests stay exact.
 *
 * @example retryDelayMs(1, { initialMs: 5000, factor: 2, maxMs: 900_000 }) // 5000; then 10000, 20000 ... 900000
 */
export function retryDelayMs(failures: number, p: BackoffPolicy): number {
  const n = Math.max(1, Math.floor(failures));
  // A huge attempt count makes the power Infinity, which the cap turns back into maxMs.
  return Math.max(1, Math.round(Math.min(p.maxMs, p.initialMs * p.factor ** (n - 1))));
}
