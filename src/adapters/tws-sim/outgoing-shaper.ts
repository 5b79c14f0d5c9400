import { mulberry32 } from '../sim/seeded-random.js';
import { LegguardError } from '../../core/errors.js';
import { EpochMs } from '../../core/quantity.js';
import type { Clock, TimerHandle } from '../../ports/clock.js';

/**
 * Fault injection on what the gateway sends one client: every message delayed, some sent twice, messages reordered
 * within a window. Each message is still a whole frame (a client must cope with odd order and repeats, not with a
 * torn stream; torn streams are `garbage` and `drop`). Random choices come from a seeded generator, so a run with
 * the same seed and the same traffic makes the same choices.
 */
export interface ShapeOptions {
  /** Hold every message this long. */
  readonly delayMs?: number;
  /** Probability in [0, 1] that a message is sent twice. */
  readonly duplicateRate?: number;
  /** Collect this many messages and send them shuffled (>= 2 to have an effect). */
  readonly reorderWindow?: number;
  /** A partly filled reorder window goes out after this long. Default 20 ms. */
  readonly reorderFlushMs?: number;
  readonly seed?: number;
}

export function checkShapeOptions(o: ShapeOptions): void {
  const bad = (what: string): never => {
    throw new LegguardError('INVALID_INPUT', `fault shaping: ${what}`);
  };
  if (o.delayMs !== undefined && !(o.delayMs >= 0)) bad(`delayMs must be >= 0; got ${o.delayMs}`);
  if (o.duplicateRate !== undefined && !(o.duplicateRate >= 0 && o.duplicateRate <= 1)) {
    bad(`duplicateRate must be between 0 and 1; got ${o.duplicateRate}`);
  }
  if (o.reorderWindow !== undefined && !(Number.isInteger(o.reorderWindow) && o.reorderWindow >= 1)) {
    bad(`reorderWindow must be a whole number >= 1; got ${o.reorderWindow}`);
  }
  if (o.reorderFlushMs !== undefined && !(o.reorderFlushMs >= 0)) bad(`reorderFlushMs must be >= 0; got ${o.reorderFlushMs}`);
}

export class OutgoingShaper {
  private opts: ShapeOptions | null = null;
  private random: () => number = mulberry32(1);
  private window: Buffer[] = [];
  private windowTimer: TimerHandle | null = null;
  private readonly delayed: { at: number; frame: Buffer }[] = [];
  private delayTimer: TimerHandle | null = null;
  private stopped = false;

  constructor(
    private readonly clock: Clock,
    private readonly write: (frame: Buffer) => void,
  ) {}

  set(opts: ShapeOptions | null): void {
    if (opts) checkShapeOptions(opts);
    this.flushWindow();
    this.opts = opts;
    this.random = mulberry32(opts?.seed ?? 1);
  }

  push(frame: Buffer): void {
    if (this.stopped) return;
    const o = this.opts;
    if (!o) {
      this.toDelay(frame);
      return;
    }
    const copies = o.duplicateRate !== undefined && this.random() < o.duplicateRate ? 2 : 1;
    for (let i = 0; i < copies; i++) this.toReorder(frame);
  }

  /** Sends everything held, in order, now (a clean shutdown, or switching faults off). */
  flush(): void {
    this.flushWindow();
    this.delayTimer?.cancel();
    this.delayTimer = null;
    for (const d of this.delayed.splice(0)) this.write(d.frame);
  }

  /** Drops everything held; nothing more is written. */
  stop(): void {
    this.stopped = true;
    this.windowTimer?.cancel();
    this.delayTimer?.cancel();
    this.window = [];
    this.delayed.length = 0;
  }

  private toReorder(frame: Buffer): void {
    const w = this.opts?.reorderWindow ?? 1;
    if (w <= 1) {
      this.toDelay(frame);
      return;
    }
    this.window.push(frame);
    if (this.window.length >= w) {
      this.flushWindow();
      return;
    }
    if (!this.windowTimer) {
      const at = EpochMs.unsafe(this.clock.now() + (this.opts?.reorderFlushMs ?? 20));
      this.windowTimer = this.clock.setTimer(at, () => {
        this.windowTimer = null;
        this.flushWindow();
      });
    }
  }

  private flushWindow(): void {
    this.windowTimer?.cancel();
    this.windowTimer = null;
    const w = this.window;
    this.window = [];
    // Fisher-Yates with the seeded generator.
    for (let i = w.length - 1; i > 0; i--) {
      const j = Math.floor(this.random() * (i + 1));
      [w[i], w[j]] = [w[j]!, w[i]!];
    }
    for (const f of w) this.toDelay(f);
  }

  private toDelay(frame: Buffer): void {
    const delay = this.opts?.delayMs ?? 0;
    if (delay <= 0 && this.delayed.length === 0) {
      this.write(frame);
      return;
    }
    this.delayed.push({ at: this.clock.now() + delay, frame });
    this.armDelay();
  }

  private armDelay(): void {
    if (this.delayTimer || this.delayed.length === 0) return;
    this.delayTimer = this.clock.setTimer(EpochMs.unsafe(this.delayed[0]!.at), () => {
      this.delayTimer = null;
      const now = this.clock.now();
      while (this.delayed.length > 0 && this.delayed[0]!.at <= now) this.write(this.delayed.shift()!.frame);
      this.armDelay();
    });
  }
}
