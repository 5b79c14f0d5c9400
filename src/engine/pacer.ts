import type { Clock, TimerHandle } from '../ports/clock.js';
import { EpochMs } from '../core/quantity.js';

interface Job {
  readonly priority: number;
  readonly seq: number;
  readonly run: () => void;
}

/**
 * Outgoing broker messages, at most `perSecond`, most urgent first. IB disconnects a client that sends more than
 * about 50 messages a second; when many strategies break at once the most dangerous legs (lowest risk tier) must be
 * the first to go, not the first to be planned. A job runs at once when a slot is free.
 */
export class Pacer {
  private readonly queue: Job[] = [];
  private readonly sent: number[] = [];
  private seq = 0;
  private timer: TimerHandle | null = null;

  constructor(
    private readonly clock: Clock,
    private readonly perSecond: number,
  ) {}

  /** Queues `run`; lower `priority` runs first, ties in order of submission. */
  submit(priority: number, run: () => void): void {
    this.queue.push({ priority, seq: this.seq++, run });
    this.queue.sort((a, b) => a.priority - b.priority || a.seq - b.seq);
    this.drain();
  }

  get pending(): number {
    return this.queue.length;
  }

  private drain(): void {
    const now = this.clock.now();
    while (this.sent.length > 0 && now - this.sent[0]! >= 1000) this.sent.shift();
    while (this.queue.length > 0 && this.sent.length < this.perSecond) {
      const job = this.queue.shift()!;
      this.sent.push(now);
      job.run();
    }
    if (this.queue.length > 0 && this.timer === null) {
      const at = EpochMs.unsafe(this.sent[0]! + 1000);
      this.timer = this.clock.setTimer(at, () => {
        this.timer = null;
        this.drain();
      });
    }
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = null;
    this.queue.length = 0;
  }
}
