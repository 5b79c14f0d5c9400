import { performance } from 'node:perf_hooks';
import type { Clock, TimerHandle } from '../../ports/clock.js';
import { EpochMs } from '../../core/quantity.js';
import { LegguardError } from '../../core/errors.js';

interface Timer {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

/**
 * A clock that moves only when told, for replays and tests. Timers run in (time, creation) order; a timer set for a
 * time already past runs at the next `step`. `perf()` stays real, so latency figures measured under a replay are
 * real milliseconds.
 *
 * @example
 *   const clock = new VirtualClock(Date.parse('2026-01-28T07:30:00Z'));
 *   clock.setTimer(EpochMs.unsafe(clock.now() + 1000), () => console.log('one second later'));
 *   await clock.advanceTo(clock.now() + 5000, () => engine.idle());
 */
export class VirtualClock implements Clock {
  protected t: number;
  private seq = 0;
  private heap: Timer[] = [];

  constructor(start: number) {
    this.t = start;
  }

  now(): EpochMs {
    return EpochMs.unsafe(this.t);
  }

  perf(): number {
    return performance.now();
  }

  setTimer(at: EpochMs, fn: () => void): TimerHandle {
    const timer: Timer = { at: Math.max(at, this.t), seq: this.seq++, fn, cancelled: false };
    this.push(timer);
    return {
      cancel: () => {
        timer.cancelled = true;
      },
    };
  }

  /** Moves time forward without running timers. */
  set(t: number): void {
    if (t < this.t) {
      throw new LegguardError('INVARIANT_BROKEN', `virtual clock cannot go back from ${new Date(this.t).toISOString()} to ${new Date(t).toISOString()}`);
    }
    this.t = t;
  }

  /** When the next live timer is due, or null. */
  nextAt(): EpochMs | null {
    this.dropCancelled();
    const top = this.heap[0];
    return top ? EpochMs.unsafe(top.at) : null;
  }

  /** Runs the earliest timer due at or before `limit`, moving time to it. False when none is due. */
  step(limit: number): boolean {
    this.dropCancelled();
    const top = this.heap[0];
    if (!top || top.at > limit) return false;
    this.pop();
    if (top.at > this.t) this.t = top.at;
    top.fn();
    return true;
  }

  /** Runs every timer due up to `t` in order, awaiting `settle` after each, then sets the time to `t`. */
  async advanceTo(t: number, settle: () => Promise<void> = () => Promise.resolve()): Promise<void> {
    await settle();
    while (this.step(t)) await settle();
    if (t > this.t) this.t = t;
  }

  pendingTimers(): number {
    return this.heap.filter((x) => !x.cancelled).length;
  }

  private dropCancelled(): void {
    while (this.heap[0]?.cancelled) this.pop();
  }

  private less(a: Timer, b: Timer): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  private push(x: Timer): void {
    const h = this.heap;
    h.push(x);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  private pop(): Timer | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
        if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}
