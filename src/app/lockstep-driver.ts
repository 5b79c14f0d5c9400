import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import type { LockstepClock } from '../adapters/clock/lockstep-clock.js';
import type { BrokerEvent } from '../core/events.js';
import type { EpochMs } from '../core/quantity.js';

/** What the driver needs of the broker adapter (the IB adapter against `legguard sim-gateway --lockstep`). */
export interface LockstepLink {
  onServerTime(listener: (t: EpochMs) => void): () => void;
  subscribe(listener: (e: BrokerEvent) => void): () => void;
  sendLockstepIdle(deadline: EpochMs | null): boolean;
  readonly busy: boolean;
}

/** What the driver needs of the guard: whether it has work queued, and a promise for when it has none. */
export interface LockstepWorker {
  idle(): Promise<void>;
  readonly busy: boolean;
}

/**
 * The guard's half of a lockstep drill: its clock follows every time the gateway states, and once the guard has
 * handled everything (no step queued, no request unanswered, no timer due) it tells the gateway so, with the time it
 * must be woken at. The gateway moves scenario time only then; see `Lockstep` in the sim gateway.
 *
 * The clock follows from construction (the start-up's own time request included); idle reports begin with
 * `start()`, after the guard's start-up, so the scenario's clock starts when the guard is ready for it.
 */
export class LockstepDriver {
  private started = false;
  private running = false;
  private again = false;
  private readonly unsubscribe: (() => void)[] = [];

  constructor(
    private readonly clock: LockstepClock,
    private readonly link: LockstepLink,
    private readonly worker: LockstepWorker,
  ) {
    this.unsubscribe.push(
      link.onServerTime((t) => {
        clock.follow(t);
        this.kick();
      }),
      link.subscribe((e) => {
        if (e.kind === 'connection') this.kick();
      }),
    );
  }

  start(): void {
    this.started = true;
    this.kick();
  }

  stop(): void {
    this.started = false;
    for (const u of this.unsubscribe.splice(0)) u();
  }

  private kick(): void {
    this.again = true;
    if (this.running || !this.started) return;
    this.running = true;
    void this.settle().finally(() => {
      this.running = false;
    });
  }

  /** Waits until nothing is left to do at this instant, then reports idle (unless stopped meanwhile). */
  private async settle(): Promise<void> {
    for (;;) {
      this.again = false;
      await this.worker.idle();
      if (!this.started) return;
      // Timers that fell due at this instant (set by the work just done) run before the guard calls itself idle.
      if (this.clock.runDue()) continue;
      if (this.link.busy) {
        // Waiting for TWS to answer: the answer comes on the socket, in real time.
        await sleep(1);
        continue;
      }
      // One more turn of the event loop: callbacks of this turn (a store commit resolving, a message decoded) land.
      await nextTurn();
      if (this.again || this.worker.busy || this.link.busy || this.clock.hasDue || !this.started) continue;
      // Checked and sent in one synchronous stretch: nothing can arrive in between.
      this.link.sendLockstepIdle(this.clock.nextAt());
      return;
    }
  }
}
