import { LegguardError } from '../core/errors.js';
import { EpochMs } from '../core/quantity.js';
import type { Clock, TimerHandle } from '../ports/clock.js';
import { MinHeap } from './min-heap.js';

interface Job {
  readonly priority: number;
  readonly seq: number;
  readonly run: () => void;
  readonly resolve: () => void;
  readonly reject: (e: unknown) => void;
}

/**
 * Jobs at most `perSecond` in any sliding second, most urgent first, on the injected clock. IB disconnects a client
 * that sends more than about 50 messages a second; when many strategies break at once the orders closing naked short
 * options (tier 0) must leave before stock (tier 1), spreads (2) and long options (3), and before data requests. The
 * IB adapter paces everything it writes to the socket with one (IB's limit is per connection; the order's tier comes
 * with the order request); the engine has none, and hands orders over most dangerous first (engine/order-sender.ts).
 * A job runs at once when a slot is free; `submit` resolves once it ran and rejects when the job threw or the pacer
 * was stopped first.
 *
 * @example
 *   const pacer = new PriorityPacer(clock, 40);
 *   await pacer.submit(order.tier, () => api.placeOrder(id, contract, ibOrder));
 */
export class PriorityPacer {
  private readonly queue = new MinHeap<Job>((a, b) => a.priority < b.priority || (a.priority === b.priority && a.seq < b.seq));
  private readonly sent: number[] = [];
  private seq = 0;
  private timer: TimerHandle | null = null;

  constructor(
    private readonly clock: Clock,
    readonly perSecond: number,
  ) {
    if (!(Number.isInteger(perSecond) && perSecond >= 1)) {
      throw new LegguardError('INVALID_INPUT', `messages per second must be a whole number >= 1; got ${perSecond}`);
    }
  }

  /** Queues `run`; lower `priority` runs first, ties in the order submitted. */
  submit(priority: number, run: () => void): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ priority, seq: this.seq++, run, resolve, reject });
      this.drain();
    });
  }

  get pending(): number {
    return this.queue.size;
  }

  /** Rejects every queued job with `error` (the connection went down: nothing queued was sent). */
  rejectAll(error: LegguardError): void {
    this.timer?.cancel();
    this.timer = null;
    for (const job of this.queue.clear().sort((a, b) => a.priority - b.priority || a.seq - b.seq)) job.reject(error);
  }

  private drain(): void {
    const now = this.clock.now();
    while (this.sent.length > 0 && now - this.sent[0]! >= 1000) this.sent.shift();
    while (this.queue.size > 0 && this.sent.length < this.perSecond) {
      const job = this.queue.pop()!;
      this.sent.push(now);
      try {
        job.run();
        job.resolve();
      } catch (e) {
        job.reject(e);
      }
    }
    if (this.queue.size > 0 && this.timer === null) {
      this.timer = this.clock.setTimer(EpochMs.unsafe(this.sent[0]! + 1000), () => {
        this.timer = null;
        this.drain();
      });
    }
  }
}
