/**
 * A sliding-window rate limit for one channel: at most `max` sends in any window `(t - perMs, t]`. Times come from the
 * injected clock, so a virtual clock drives it in tests. Held in memory: after a restart the window starts empty,
 * which can at worst let one extra window's worth through.
 */
export class RateWindow {
  private sent: number[] = [];

  constructor(
    readonly max: number,
    readonly perMs: number,
  ) {}

  private prune(now: number): void {
    const from = now - this.perMs;
    let i = 0;
    while (i < this.sent.length && this.sent[i]! <= from) i++;
    if (i > 0) this.sent = this.sent.slice(i);
  }

  /** How many sends are allowed at `now`. */
  available(now: number): number {
    this.prune(now);
    return Math.max(0, this.max - this.sent.length);
  }

  /** Takes one send at `now`; false (and nothing taken) when the window is full. */
  take(now: number): boolean {
    if (this.available(now) === 0) return false;
    this.sent.push(now);
    return true;
  }

  /** When the next send will be allowed: `now` when one is allowed already. */
  nextFreeAt(now: number): number {
    if (this.available(now) > 0) return now;
    return this.sent[0]! + this.perMs;
  }
}
