import { setImmediate as nextTurn } from 'node:timers/promises';

/**
 * `event`: broker events and everything that reacts to them (closes, order status, reconciliation, timers' steps).
 * `rule`: slices of a rule pass, which only run when no event step is waiting.
 */
export type Lane = 'event' | 'rule';

interface Queued {
  readonly step: () => Promise<void> | void;
  readonly done: () => void;
}

/**
 * Runs async steps one at a time: the engine handles one broker event (and its store commit) before the next, so
 * state changes never interleave. Two lanes, events first: a step in the `event` lane always runs before any waiting
 * `rule` step, in submission order within its lane. Before each `rule` step the queue yields one turn of the event
 * loop (`yieldTurn`), so a broker event that reached the process meanwhile (socket data, a timer) is queued, and
 * goes first, before the next slice of a rule pass. `idle()` resolves when everything queued so far is done; a step
 * that throws is reported to `onError` and the queue goes on. `onDrain` runs after a step when no event step waits
 * (the queue drains, or only rule slices are left), before `idle()` resolves: the engine writes its group commit
 * there, so an event's decisions are not held back for the rest of a rule pass.
 */
export class SerialQueue {
  private readonly lanes: Record<Lane, Queued[]> = { event: [], rule: [] };
  private depth = 0;
  private draining: Promise<void> | null = null;

  constructor(
    private readonly onError: (e: unknown) => void,
    private readonly onDrain: (() => Promise<void>) | null = null,
    private readonly yieldTurn: () => Promise<unknown> = () => nextTurn(),
  ) {}

  push(step: () => Promise<void> | void, lane: Lane = 'event'): Promise<void> {
    this.depth++;
    return new Promise<void>((resolve) => {
      this.lanes[lane].push({ step, done: resolve });
      this.draining ??= this.drain();
    });
  }

  get size(): number {
    return this.depth;
  }

  /** Steps waiting in `lane` (not counting the one running). */
  waiting(lane: Lane): number {
    return this.lanes[lane].length;
  }

  /** Resolves once the queue is empty, including steps queued by steps. */
  async idle(): Promise<void> {
    while (this.depth > 0 && this.draining) await this.draining;
  }

  private async drain(): Promise<void> {
    // A step starts on a later microtask than its push, never inside the caller's stack (as a promise chain would).
    await Promise.resolve();
    try {
      for (;;) {
        let next = this.lanes.event.shift();
        if (!next && this.lanes.rule.length > 0) {
          await this.yieldTurn();
          next = this.lanes.event.shift() ?? this.lanes.rule.shift();
        }
        if (!next) return;
        try {
          await next.step();
        } catch (e) {
          this.onError(e);
        } finally {
          if (this.lanes.event.length === 0 && this.onDrain !== null) {
            try {
              await this.onDrain();
            } catch (e) {
              this.onError(e);
            }
          }
          this.depth--;
          next.done();
        }
      }
    } finally {
      this.draining = null;
    }
  }
}
