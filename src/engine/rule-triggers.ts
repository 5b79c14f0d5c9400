import { EpochMs } from '../core/quantity.js';
import type { Clock, TimerHandle } from '../ports/clock.js';

export interface RuleTriggerHost {
  readonly clock: Clock;
  /** The least time between two triggered passes (`guard.ruleTriggerMs`). */
  readonly gapMs: number;
  isRunning(): boolean;
  /** Asks for a rule pass over the strategies on these symbols. */
  fire(symbols: ReadonlySet<string>): void;
}

/**
 * Rule passes on a price or dividend change, for the strategies on the symbols that changed only, coalesced: the
 * first change after a quiet spell asks for a pass at once (on a later turn, so every change of the same instant
 * joins it); changes after that gather until `gapMs` after the last triggered pass. A quote stream ticking many
 * times a second makes one pass per `gapMs`, not one per tick; the interval's full pass runs as before.
 */
export class RuleTriggers {
  private dirty = new Set<string>();
  private timer: TimerHandle | null = null;
  private lastAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly h: RuleTriggerHost) {}

  changed(symbol: string): void {
    if (!this.h.isRunning()) return;
    this.dirty.add(symbol);
    if (this.timer) return;
    const at = Math.max(this.h.clock.now(), this.lastAt + this.h.gapMs);
    this.timer = this.h.clock.setTimer(EpochMs.unsafe(at), () => {
      this.timer = null;
      if (!this.h.isRunning()) return;
      this.lastAt = this.h.clock.now();
      const symbols = this.dirty;
      this.dirty = new Set();
      this.h.fire(symbols);
    });
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = null;
    this.dirty.clear();
  }
}
