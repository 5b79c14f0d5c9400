import type { EpochMs } from '../core/quantity.js';

export interface TimerHandle {
  cancel(): void;
}

/**
 * Time, injected everywhere (Nautilus' `TestClock` idea). Nothing outside an adapter reads `Date.now()`.
 * A virtual clock drives replays and tests: timers run, in time order, when the clock is advanced past them.
 */
export interface Clock {
  /** Wall or virtual time, epoch milliseconds. */
  now(): EpochMs;
  /**
   * Monotonic real milliseconds (performance.now), even under a virtual clock: latency figures (broker event to
   * orders sent) are real time, whatever time the scenario says it is.
   */
  perf(): number;
  /** Runs `fn` once when the clock reaches `at` (at once, on a later turn, when `at` is already past). */
  setTimer(at: EpochMs, fn: () => void): TimerHandle;
}
