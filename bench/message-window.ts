import { LegguardError } from '../src/core/errors.js';

/**
 * The messages one client wrote to the gateway, by the time each was read, over a sliding window (a second for IB's
 * pacing). The wire bench asks it when the next assignment's messages fit in the adapter's pacing budget, so that a
 * sample measures one assignment's path and not the queue the previous samples' messages left in the pacer.
 *
 * @example
 *   const w = new MessageWindow(1000);
 *   w.add(0); w.add(10); w.add(20);
 *   w.roomAt(30, 2, 4); // 1010: the message read at 10 must leave the window before two more fit under 4
 */
export class MessageWindow {
  private readonly times: number[] = [];

  constructor(readonly windowMs: number) {
    if (!(Number.isFinite(windowMs) && windowMs > 0)) throw new LegguardError('INVALID_INPUT', `window must be > 0 ms; got ${windowMs}`);
  }

  /** A message read at `t` (not before the last one added). */
  add(t: number): void {
    const last = this.times.at(-1);
    if (!Number.isFinite(t) || (last !== undefined && t < last)) {
      throw new LegguardError('INVALID_INPUT', `message times must be finite and in order; got ${t} after ${String(last)}`);
    }
    this.times.push(t);
  }

  /** Messages read in the window ending at `now`: those read less than `windowMs` before it (as the pacer counts). */
  countAt(now: number): number {
    this.prune(now);
    return this.times.length;
  }

  /**
   * The earliest instant at or after `now` when the messages read within the window before it leave room for `need`
   * more under `limit`.
   */
  roomAt(now: number, need: number, limit: number): number {
    if (!(Number.isInteger(need) && need >= 0 && Number.isInteger(limit) && need <= limit)) {
      throw new LegguardError('INVALID_INPUT', `need ${need} must be a whole number within the limit ${limit}`);
    }
    this.prune(now);
    const over = this.times.length + need - limit;
    if (over <= 0) return now;
    // The `over` oldest messages must leave the window: the last of them leaves windowMs after it was read.
    return this.times[over - 1]! + this.windowMs;
  }

  private prune(now: number): void {
    let drop = 0;
    while (drop < this.times.length && now - this.times[drop]! >= this.windowMs) drop++;
    if (drop > 0) this.times.splice(0, drop);
  }
}
