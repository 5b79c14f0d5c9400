import { performance } from 'node:perf_hooks';
import type { Clock, TimerHandle } from '../../ports/clock.js';
import { EpochMs } from '../../core/quantity.js';

/** The real clock. Timers longer than Node's 24.8-day limit are chained. */
export class SystemClock implements Clock {
  now(): EpochMs {
    return EpochMs.unsafe(Date.now());
  }

  perf(): number {
    return performance.now();
  }

  setTimer(at: EpochMs, fn: () => void): TimerHandle {
    const MAX = 2 ** 31 - 1;
    let handle: NodeJS.Timeout | undefined;
    let cancelled = false;
    const arm = (): void => {
      const wait = Math.max(0, at - Date.now());
      handle = setTimeout(() => {
        if (cancelled) return;
        if (at - Date.now() > 0) arm();
        else fn();
      }, Math.min(wait, MAX));
      handle.unref?.();
    };
    arm();
    return {
      cancel: () => {
        cancelled = true;
        if (handle) clearTimeout(handle);
      },
    };
  }
}
