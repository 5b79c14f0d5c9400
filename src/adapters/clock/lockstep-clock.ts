import { VirtualClock } from './virtual-clock.js';

/**
 * The guard's clock in a lockstep drill (`legguard run --clock lockstep` against `legguard sim-gateway --lockstep`):
 * it moves only when the gateway says what time it is, so scenario time never runs ahead of what the guard has
 * handled, however slow the machine. Between time messages it stands still; its timers run, in time order, when a
 * time message passes them (`follow`) or when they fall due at the present instant (`runDue`).
 *
 * @example
 *   const clock = new LockstepClock(Date.now());
 *   ib.onServerTime((t) => clock.follow(t)); // every CURRENT_TIME the gateway sends
 *   clock.nextAt(); // what the guard waits for next: the gateway may not step past it
 */
export class LockstepClock extends VirtualClock {
  private synced = false;

  /**
   * Moves to the broker's time `t`, running every timer due by then in order. Never moves back, except at the first
   * time heard: before it the clock reads the time it was made with (the wall clock), which may be after the
   * scenario's. Returns true when time moved or a timer ran.
   */
  follow(t: number): boolean {
    if (!this.synced) {
      this.synced = true;
      this.t = t;
    }
    let moved = false;
    while (this.step(t)) moved = true;
    if (t > this.t) {
      this.t = t;
      moved = true;
    }
    return moved;
  }

  /** Runs the timers due at the present instant (set for now or earlier since the last step); true if any ran. */
  runDue(): boolean {
    let ran = false;
    while (this.step(this.t)) ran = true;
    return ran;
  }

  /** True while a timer is due at the present instant and has not run. */
  get hasDue(): boolean {
    const next = this.nextAt();
    return next !== null && next <= this.t;
  }

  /** Whether the first time was heard from the broker. */
  get isSynced(): boolean {
    return this.synced;
  }
}
