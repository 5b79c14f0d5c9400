import { performance } from 'node:perf_hooks';
import type { Clock, TimerHandle } from '../../ports/clock.js';
import { EpochMs } from '../../core/quantity.js';

/**
 * A clock that runs from a given instant at `speed` times real time: scenario time for a guard drilling against the
 * sim gateway (`legguard run --clock broker:3600` follows the gateway's scenario clock, an hour a second). Until
 * `sync` is called it reads as real time. Timers fire in real time scaled down by `speed`.
 *
 * @example
 *   const clock = new ScaledClock(3600);
 *   clock.sync(await ib.currentTime()); // now() follows the gateway's scenario time
 */
export class ScaledClock implements Clock {
  private originVirtual = Date.now();
  private originReal = performance.now();

  constructor(readonly speed: number) {
    if (!(Number.isFinite(speed) && speed > 0)) throw new RangeError(`clock speed must be above 0; got ${speed}`);
  }

  /** From now on, `now()` reads `virtualNow` plus the scaled real time since this call. */
  sync(virtualNow: number): void {
    this.originVirtual = virtualNow;
    this.originReal = performance.now();
  }

  /** Syncs to `virtualNow` only when that is ahead of this clock: it catches up, never goes back. */
  syncForward(virtualNow: number): void {
    if (virtualNow > this.now()) this.sync(virtualNow);
  }

  now(): EpochMs {
    return EpochMs.unsafe(Math.floor(this.originVirtual + (performance.now() - this.originReal) * this.speed));
  }

  perf(): number {
    return performance.now();
  }

  setTimer(at: EpochMs, fn: () => void): TimerHandle {
    let handle: NodeJS.Timeout | undefined;
    let cancelled = false;
    const arm = (): void => {
      const wait = Math.max(0, (at - this.now()) / this.speed);
      handle = setTimeout(() => {
        if (cancelled) return;
        // A sync in between can move the target; fire only once virtual time has really reached it.
        if (this.now() < at) arm();
        else fn();
      }, Math.min(wait, 2 ** 31 - 1));
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
