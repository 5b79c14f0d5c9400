import { LegguardError } from '../core/errors.js';
import type { OrderRef } from '../core/ids.js';
import type { StoreBatch } from '../ports/store.js';

/** What the engine commits: a batch without its account (the engine's own). */
export type EngineBatch = Omit<StoreBatch, 'account'>;

/** Batches held before a flush is forced from `add` (a flood of events that never lets the queue drain). */
const MAX_PENDING_BATCHES = 4_096;
/** Flushes a batch may fail on its own before it is given up (a record the store refuses whatever is around it). */
const MAX_ATTEMPTS = 3;

/**
 * Group commit: what the engine decides while it drains its queue is held here and written in one transaction (one
 * fsync for a burst of a thousand breaks instead of a thousand), as databases do with their logs. Write-ahead still
 * holds: the engine flushes before anything goes to the broker (an order, a cancel, an exercise), so no order leaves
 * before the commit of its plan, and when the queue is empty. What must only happen once a batch is durable (alerts
 * handed to the alerts port, a crash drill's crash point) waits in `afterFlush`.
 *
 * Merging keeps the store's batch semantics: strategies and orders are upserted last-wins and journal entries and
 * alerts inserted first-wins (store-rows.ts `prepareBatch`), the same as committing them one after another; `outside`
 * and `tradingState` are replaced (the last wins), `cursor` fields merge. A batch that removes strategies is a
 * barrier: what came before it is written in a transaction of its own.
 *
 * A failed flush keeps every batch for the next one (nothing that depends on them goes out meanwhile) and throws.
 * A batch that fails on its own `MAX_ATTEMPTS` times (a record the store refuses) is given up, logged, and its orders
 * are never sent (`isUnwritten`).
 */
export class GroupCommit {
  private pending: EngineBatch[] = [];
  private after: (() => void)[] = [];
  private failures = new Map<EngineBatch, number>();
  private readonly unwritten = new Set<OrderRef>();
  private flushing: Promise<void> | null = null;
  /** Transactions written, and batches in them: the bench and the tests read them. */
  transactions = 0;
  batches = 0;

  constructor(
    private readonly write: (batch: EngineBatch) => Promise<void>,
    private readonly onGivenUp: (batch: EngineBatch, error: unknown) => void,
  ) {}

  get size(): number {
    return this.pending.length;
  }

  /** Holds `batch` for the next flush; resolves at once unless too much is held, then once it is written. */
  add(batch: EngineBatch): Promise<void> {
    this.pending.push(batch);
    return this.pending.length >= MAX_PENDING_BATCHES ? this.flush() : Promise.resolve();
  }

  /** Runs `fn` once what is held now is durable (at once when nothing is held). */
  afterFlush(fn: () => void): void {
    if (this.pending.length === 0 && this.flushing === null) fn();
    else this.after.push(fn);
  }

  /** True when the plan of `ref` was given up unwritten: it must never be sent. */
  isUnwritten(ref: OrderRef): boolean {
    return this.unwritten.has(ref);
  }

  /** Writes everything held, then runs what waited for it. Concurrent callers share one flush. */
  async flush(): Promise<void> {
    while (this.flushing !== null) await this.flushing;
    if (this.pending.length === 0) {
      this.runAfter();
      return;
    }
    this.flushing = this.writeHeld().finally(() => {
      this.flushing = null;
    });
    await this.flushing;
    this.runAfter();
  }

  private async writeHeld(): Promise<void> {
    const held = this.pending;
    this.pending = [];
    try {
      for (const group of groups(held)) {
        await this.write(merge(group));
        this.transactions++;
        this.batches += group.length;
        // Written: drop them from `held`, so a failure later keeps only what was not.
        held.splice(0, group.length);
      }
    } catch (e) {
      await this.isolateFailure(held);
      throw e;
    }
  }

  /**
   * After a failed transaction: every batch not yet written is tried alone, so one bad record does not hold the
   * others back; what still fails is kept (a store that is down fails them all, and they wait for it) until it has
   * failed alone `MAX_ATTEMPTS` times.
   */
  private async isolateFailure(held: EngineBatch[]): Promise<void> {
    const keep: EngineBatch[] = [];
    for (const b of held) {
      try {
        await this.write(b);
        this.transactions++;
        this.batches++;
        this.failures.delete(b);
      } catch (e) {
        const n = (this.failures.get(b) ?? 0) + 1;
        if (n < MAX_ATTEMPTS) {
          this.failures.set(b, n);
          keep.push(b);
          continue;
        }
        this.failures.delete(b);
        for (const o of b.orders ?? []) this.unwritten.add(o.request.ref);
        this.onGivenUp(b, e);
      }
    }
    this.pending = [...keep, ...this.pending];
  }

  private runAfter(): void {
    if (this.pending.length > 0) return;
    const fns = this.after;
    this.after = [];
    for (const fn of fns) fn();
  }
}

/** Consecutive batches that can share a transaction: a batch removing strategies is a transaction of its own. */
function groups(batches: readonly EngineBatch[]): EngineBatch[][] {
  const out: EngineBatch[][] = [];
  let open: EngineBatch[] | null = null;
  for (const b of batches) {
    if ((b.removeStrategies?.length ?? 0) > 0) {
      out.push([b]);
      open = null;
    } else if (open === null) {
      open = [b];
      out.push(open);
    } else open.push(b);
  }
  return out;
}

/** One batch equivalent to committing `batches` in order (see the class comment). */
export function merge(batches: readonly EngineBatch[]): EngineBatch {
  if (batches.length === 1) return batches[0]!;
  if (batches.some((b) => (b.removeStrategies?.length ?? 0) > 0)) {
    throw new LegguardError('INVARIANT_BROKEN', 'a batch removing strategies merged with others');
  }
  const list = <K extends 'strategies' | 'stateChanges' | 'journal' | 'orders' | 'alerts'>(k: K): NonNullable<EngineBatch[K]>[number][] =>
    batches.flatMap((b) => (b[k] ?? []) as NonNullable<EngineBatch[K]>[number][]);
  let outside: EngineBatch['outside'];
  let tradingState: EngineBatch['tradingState'];
  let cursor: EngineBatch['cursor'];
  for (const b of batches) {
    if (b.outside !== undefined) outside = b.outside;
    if (b.tradingState !== undefined) tradingState = b.tradingState;
    if (b.cursor !== undefined) cursor = { ...cursor, ...b.cursor };
  }
  return {
    strategies: list('strategies'),
    stateChanges: list('stateChanges'),
    journal: list('journal'),
    orders: list('orders'),
    alerts: list('alerts'),
    ...(outside !== undefined ? { outside } : {}),
    ...(tradingState !== undefined ? { tradingState } : {}),
    ...(cursor !== undefined ? { cursor } : {}),
  };
}
