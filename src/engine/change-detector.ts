import { contractKey, isOption, type Contract } from '../core/contract.js';
import type { Detection } from '../core/detection.js';
import { detect } from '../core/detector.js';
import type { ExecutionReport } from '../core/events.js';
import type { ContractKey, StrategyId } from '../core/ids.js';
import { EpochMs, type Qty } from '../core/quantity.js';
import { expiryClose } from '../core/calendar.js';
import type { TimerHandle } from '../ports/clock.js';
import type { BreakHandler } from './break-handler.js';
import type { EngineContext } from './engine-host.js';

/**
 * Detection: the broker's positions against the book. What a guard order explains waits for its executions; the
 * rest goes to the pure detector (core/detector.ts) with the executions not the guard's; its detections move the
 * book and go, per strategy and each in isolation, to the break handler.
 */
export class ChangeDetector {
  /** Contracts whose change waits (for the guard's own executions, or the pairing window), since when. */
  private readonly pending = new Map<ContractKey, EpochMs>();
  /** Executions not the guard's, per contract, kept until the detector uses them (or they grow old). */
  private readonly foreign = new Map<ContractKey, ExecutionReport[]>();
  private readonly recheckTimers = new Map<number, TimerHandle>();
  /** Contracts whose broker position changed since the last look, and when the first of them reached the guard. */
  private readonly dirty = new Set<ContractKey>();
  private dirtySince: number | null = null;

  constructor(
    private readonly ctx: EngineContext,
    private readonly breaks: BreakHandler,
    /** After a pass: what changed outside any strategy, with the executions not the guard's (guard.newPositions). */
    private readonly onOutside: (outside: readonly Detection[], executions: readonly ExecutionReport[]) => Promise<void> = async () => {},
  ) {}

  stop(): void {
    for (const t of this.recheckTimers.values()) t.cancel();
    this.recheckTimers.clear();
  }

  /** An execution that is not the guard's, for the detector to explain a change with. */
  addForeign(e: ExecutionReport): void {
    const key = contractKey(e.contract);
    this.foreign.set(key, [...(this.foreign.get(key) ?? []), e]);
  }


  /**
   * The broker's position in `key` changed (a position report, `perf` the real time it reached the guard): looked at
   * in a step queued behind the events already waiting, so a burst of reports (a clearing run posts one per contract,
   * a thousand at once) is examined once, together, rather than once per report with every change still pending.
   * Any examine before that step (an execution, a reconciliation) takes these keys with it.
   */
  examineSoon(key: ContractKey, perf: number): void {
    this.dirty.add(key);
    if (this.dirtySince !== null) return;
    this.dirtySince = perf;
    void this.ctx.enqueue(() => (this.dirty.size > 0 ? this.examine([], this.dirtySince ?? perf) : undefined));
  }

  /**
   * Compares the broker's positions in `keys`, in the changes reported since the last look and in every change still
   * pending with the book; hands what the book cannot explain to the detector; applies its detections; handles every
   * strategy they touch.
   */
  async examine(keys: Iterable<ContractKey>, perf: number): Promise<void> {
    const now = this.ctx.clock.now();
    const candidates: { contract: Contract; brokerQty: Qty; brokerAt: EpochMs; firstSeenAt: EpochMs }[] = [];
    const seen = new Set<ContractKey>();
    const heldSymbols = new Set<string>();
    if (this.dirtySince !== null && this.dirtySince < perf) perf = this.dirtySince;
    const reported = [...this.dirty];
    this.dirty.clear();
    this.dirtySince = null;
    for (const key of [...keys, ...reported, ...this.pending.keys()]) {
      if (seen.has(key)) continue;
      seen.add(key);
      const broker = this.ctx.brokerQty(key);
      const delta = broker - this.ctx.book.net(key);
      if (delta === 0) {
        this.pending.delete(key);
        continue;
      }
      const contract = this.ctx.brokerPositions.get(key)?.contract ?? this.ctx.book.contract(key);
      if (!contract) continue;
      const expired = isOption(contract) && now >= expiryClose(contract.expiry);
      if (!expired && this.ctx.tracker.recentlyActive(key, now, this.ctx.config.correlationWindowMs)) {
        // Our own order is working or just traded here: its executions explain the change. Look again when the
        // window closes, in case they do not.
        // Kept pending, so that the look when the window closes includes it; an order still working past its window
        // is looked at again a window later (not at once: the look would find it working and come straight back).
        const ends = this.ctx.tracker.windowEnds(key, this.ctx.config.correlationWindowMs);
        if (ends !== null) this.recheckAt(ends > now ? ends : EpochMs.unsafe(now + this.ctx.config.correlationWindowMs));
        if (!this.pending.has(key)) this.pending.set(key, now);
        heldSymbols.add(contract.symbol);
        continue;
      }
      const firstSeenAt = this.pending.get(key) ?? now;
      this.pending.set(key, firstSeenAt);
      candidates.push({ contract, brokerQty: broker, brokerAt: this.ctx.brokerPositions.get(key)?.at ?? now, firstSeenAt });
    }
    // An option and the stock it settles in are judged together: while a change of one contract of an underlying
    // waits for the guard's own executions, changes of the others wait with it. The stock of an assignment posted
    // seconds after the guard's own stock trade was held back while its option, judged alone after the pairing
    // window, was taken for a manual trade (and the shares for an unknown change nobody closed).
    const judged = candidates.filter((c) => !heldSymbols.has(c.contract.symbol));
    if (judged.length === 0) return;
    // At or after an expiry, in or out of the money decides expiration against settlement: ask the broker for the
    // underlying's price now rather than trust one seen days ago.
    const expiring = new Set<string>();
    for (const c of judged) if (isOption(c.contract) && now >= expiryClose(c.contract.expiry)) expiring.add(c.contract.symbol);
    for (const symbol of expiring) await this.ctx.refreshUnderlying(symbol);
    const foreign: ExecutionReport[] = [];
    for (const c of judged) foreign.push(...(this.foreign.get(contractKey(c.contract)) ?? []));
    const out = detect({
      book: this.ctx.book,
      changes: judged,
      foreignExecutions: foreign,
      now,
      pairingWindowMs: this.ctx.config.pairingWindowMs,
      underlyingPrice: (symbol: string) => this.ctx.underlyingPrices.get(symbol) ?? null,
    });
    if (out.recheckAt !== null) this.recheckAt(out.recheckAt);
    this.dropForeign(new Set(out.usedExecIds), now);
    if (out.detections.length === 0) return;

    const byStrategy = new Map<StrategyId, Detection[]>();
    const outside: Detection[] = [];
    for (const d of out.detections) {
      this.ctx.book.apply(d.strategyId, d.contract, d.change);
      if (d.strategyId === null) outside.push(d);
      else byStrategy.set(d.strategyId, [...(byStrategy.get(d.strategyId) ?? []), d]);
    }
    for (const c of judged) {
      const key = contractKey(c.contract);
      if (this.ctx.brokerQty(key) === this.ctx.book.net(key)) this.pending.delete(key);
    }
    if (outside.length > 0) {
      const entries = outside.map((d, i) => this.ctx.journal('detection', `det:outside:${now}:${contractKey(d.contract)}:${i}`, d));
      for (const d of outside) this.ctx.emit({ kind: 'detection', at: now, detection: d, incidentId: null });
      await this.ctx.commit({ journal: entries, outside: this.ctx.book.holdings(null) });
    }
    if (byStrategy.size > 1) {
      // A burst: the quotes every plan will need are asked for at once, each contract once (the stock a thousand
      // strategies were assigned is one request), while the strategies are handled one by one.
      const wanted: Contract[] = [];
      for (const id of byStrategy.keys()) {
        if (this.ctx.strategies.get(id)?.state === 'CLOSED') continue;
        for (const h of this.ctx.book.holdings(id)) wanted.push(h.contract);
      }
      this.ctx.prefetchQuotes(wanted);
    }
    for (const [id, ds] of byStrategy) await this.ctx.isolated(id, 'detection', () => this.breaks.onStrategyChanged(id, ds, perf));
    if (outside.length > 0) await this.onOutside(outside, foreign);
  }

  /**
   * Forgets executions the detector used, and any older than the retention: an execution may arrive before its
   * position report (so it is kept until then), but one that explained nothing for a long while never will.
   */
  private dropForeign(used: ReadonlySet<string>, now: number): void {
    const keep = Math.max(60_000, 6 * this.ctx.config.correlationWindowMs);
    for (const [key, list] of this.foreign) {
      const rest = list.filter((x) => !used.has(x.execId) && now - x.tsInit < keep);
      if (rest.length === 0) this.foreign.delete(key);
      else if (rest.length !== list.length) this.foreign.set(key, rest);
    }
  }

  private recheckAt(at: EpochMs): void {
    if (this.recheckTimers.has(at)) return;
    const t = this.ctx.clock.setTimer(at, () => {
      this.recheckTimers.delete(at);
      if (!this.ctx.isRunning()) return;
      const perf = this.ctx.clock.perf();
      void this.ctx.enqueue(() => this.examine([], perf));
    });
    this.recheckTimers.set(at, t);
  }
}
