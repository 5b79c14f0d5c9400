import type { StrategyId } from '../core/ids.js';

/** Strategies per slice of a rule pass: about 0.5 ms (10,000 iron condors take about 50 ms, legs on one contract priced once). */
export const DEFAULT_RULE_SLICE = 100;

/** Which strategies a pass evaluates: every one, or those on symbols whose price or dividends changed. */
export type PassScope = 'all' | Iterable<StrategyId>;

export interface RulePassHost {
  /** The guarded strategies, in the engine's order; a pass over `all` takes them when it starts. */
  strategyIds(): Iterable<StrategyId>;
  /** Evaluates the rules for these strategies (each isolated); one slice, in one step of the rule lane. */
  evaluate(ids: readonly StrategyId[]): Promise<void>;
  /** Queues a step in the engine's serial queue, in the rule lane (events go first). */
  enqueueRule(step: () => Promise<void>): Promise<void>;
}

interface Scope {
  all: boolean;
  readonly ids: Set<StrategyId>;
  readonly waiters: (() => void)[];
}

/**
 * Rule passes, cut into slices of `slice` strategies, each one step of the rule lane: a broker event that arrives
 * during a pass is handled before the pass's next slice (serial-queue.ts), never after the whole pass.
 *
 * Requests coalesce: while a pass runs, every further request (the interval, a price or dividend change) merges into
 * one pending pass, which starts when the running one ends; a request for `all` absorbs the ones for a few strategies.
 * So at most one pass runs and one waits, however often prices move. A pass takes its strategies when it starts; one
 * removed meanwhile is skipped by `evaluate`, one added waits for the next pass. A slice queues the next one from
 * inside its own step, so the queue is never idle in the middle of a pass (`idle()` waits for the whole pass).
 */
export class RulePasses {
  private pending: Scope | null = null;
  private active: { readonly ids: readonly StrategyId[]; next: number; readonly waiters: (() => void)[] } | null = null;
  /** A slice step is in the rule lane or running. */
  private inLane = false;

  constructor(
    private readonly host: RulePassHost,
    private readonly slice: number = DEFAULT_RULE_SLICE,
  ) {}

  /** Asks for a pass over `scope`; resolves when a pass that covers it has ended. */
  request(scope: PassScope): Promise<void> {
    const p = (this.pending ??= { all: false, ids: new Set(), waiters: [] });
    if (scope === 'all') p.all = true;
    else for (const id of scope) p.ids.add(id);
    const done = new Promise<void>((resolve) => p.waiters.push(resolve));
    if (!this.inLane) this.queueSlice();
    return done;
  }

  /** True while a pass runs or waits. */
  get busy(): boolean {
    return this.inLane;
  }

  private queueSlice(): void {
    this.inLane = true;
    void this.host.enqueueRule(() => this.runSlice());
  }

  private async runSlice(): Promise<void> {
    try {
      if (!this.active) {
        const p = this.pending;
        if (!p) return;
        this.pending = null;
        const ids = p.all ? [...this.host.strategyIds()] : [...this.host.strategyIds()].filter((id) => p.ids.has(id));
        this.active = { ids, next: 0, waiters: p.waiters };
      }
      const a = this.active;
      const ids = a.ids.slice(a.next, a.next + this.slice);
      a.next += ids.length;
      if (ids.length > 0) await this.host.evaluate(ids);
    } finally {
      const a = this.active;
      if (a && a.next >= a.ids.length) {
        this.active = null;
        for (const w of a.waiters) w();
      }
      if (this.active || this.pending) this.queueSlice();
      else this.inLane = false;
    }
  }
}
