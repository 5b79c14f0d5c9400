import { EpochMs } from '../core/quantity.js';
import type { Clock, TimerHandle } from '../ports/clock.js';

/** One periodic step: every `everyMs`, the first `phaseMs` later than a whole interval. */
export interface Interval {
  readonly everyMs: number;
  readonly phaseMs: number;
  run(): Promise<void>;
}

export interface IntervalHost {
  readonly clock: Clock;
  /** False once the engine stopped: a timer that fires after does nothing. */
  isRunning(): boolean;
  /** Runs `step` on the engine's serial queue. */
  enqueue(step: () => Promise<void>): Promise<void>;
}

/**
 * Arms the engine's periodic steps (reconciliation, rules) on its clock, each through the serial queue; the handles
 * go into `timers` (slot per interval, replaced at each re-arm) for the engine to cancel on stop.
 *
 * A run still waiting in the queue when the next is due absorbs it: when a pass takes longer than its interval (a slow
 * broker, 40 messages a second, or a drill's clock at x7200 where a minute is 8 ms) queued passes would otherwise grow
 * without end, and every broker event and order behind them would wait longer and longer.
 */
export function armIntervals(h: IntervalHost, timers: TimerHandle[], intervals: readonly Interval[]): void {
  for (const iv of intervals) {
    let next = h.clock.now() + iv.everyMs + iv.phaseMs;
    let queued = false;
    const slot = timers.length;
    const arm = (): void => {
      const at = EpochMs.unsafe(next);
      next += iv.everyMs;
      timers[slot] = h.clock.setTimer(at, () => {
        if (!h.isRunning()) return;
        if (!queued) {
          queued = true;
          void h.enqueue(async () => {
            queued = false;
            await iv.run();
          });
        }
        arm();
      });
    };
    arm();
  }
}
