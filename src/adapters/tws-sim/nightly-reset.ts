import { addDays, nyDate, nyInstant } from '../../core/calendar.js';
import { LegguardError } from '../../core/errors.js';
import { EpochMs } from '../../core/quantity.js';
import type { Clock, TimerHandle } from '../../ports/clock.js';

/**
 * IB's nightly server reset, as a drill: every day at `start` New York time, for `minutes`, the link is down.
 * `drop` closes every client connection and refuses new ones (IB Gateway's daily restart); `notice` keeps the
 * sockets and sends 1100, then `restore` (1102 by default, 1101 when data was lost) at the end (TWS's reset).
 */
export interface ResetWindow {
  /** `HH:MM`, New York. */
  readonly start: string;
  readonly minutes: number;
  readonly mode: 'drop' | 'notice';
  readonly restore?: 1101 | 1102;
}

export function checkResetWindow(w: ResetWindow): { hour: number; minute: number } {
  const m = /^(\d{1,2}):(\d{2})$/.exec(w.start);
  const hour = m ? Number(m[1]) : NaN;
  const minute = m ? Number(m[2]) : NaN;
  if (!m || hour > 23 || minute > 59) {
    throw new LegguardError('INVALID_INPUT', `reset window start must be HH:MM (New York time); got ${JSON.stringify(w.start)}`);
  }
  if (!(Number.isInteger(w.minutes) && w.minutes > 0 && w.minutes < 24 * 60)) {
    throw new LegguardError('INVALID_INPUT', `reset window minutes must be a whole number between 1 and 1439; got ${w.minutes}`);
  }
  if (w.mode !== 'drop' && w.mode !== 'notice') {
    throw new LegguardError('INVALID_INPUT', `reset window mode must be drop or notice; got ${JSON.stringify(w.mode)}`);
  }
  return { hour, minute };
}

/** The window containing `t`, or the next one to start after it. */
export function windowAt(t: number, w: ResetWindow): { start: EpochMs; end: EpochMs } {
  const { hour, minute } = checkResetWindow(w);
  const today = nyDate(t);
  for (const day of [addDays(today, -1), today, addDays(today, 1)]) {
    const start = nyInstant(day, hour, minute);
    const end = start + w.minutes * 60_000;
    if (end > t) return { start, end: EpochMs.unsafe(end) };
  }
  const start = nyInstant(addDays(today, 2), hour, minute);
  return { start, end: EpochMs.unsafe(start + w.minutes * 60_000) };
}

export class NightlyReset {
  private timer: TimerHandle | null = null;
  private inside = false;

  constructor(
    private readonly clock: Clock,
    readonly window: ResetWindow,
    private readonly hooks: { enter(): void; exit(): void },
  ) {
    checkResetWindow(window);
  }

  get active(): boolean {
    return this.inside;
  }

  start(): void {
    this.arm();
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = null;
    if (this.inside) {
      this.inside = false;
      this.hooks.exit();
    }
  }

  private arm(): void {
    const now = this.clock.now();
    const { start, end } = windowAt(now, this.window);
    if (start <= now) {
      if (!this.inside) {
        this.inside = true;
        this.hooks.enter();
      }
      this.timer = this.clock.setTimer(end, () => {
        this.inside = false;
        this.hooks.exit();
        this.arm();
      });
      return;
    }
    this.timer = this.clock.setTimer(start, () => this.arm());
  }
}
