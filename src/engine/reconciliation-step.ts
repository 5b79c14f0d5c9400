import { contractKey, describeContract, type Contract } from '../core/contract.js';
import { LegguardError } from '../core/errors.js';
import type { ContractKey, OrderRef, StrategyId } from '../core/ids.js';
import { isLegguardRef, parseOrderRef } from '../core/order.js';
import { EpochMs, Qty } from '../core/quantity.js';
import { IncrementalReconciler } from '../core/incremental-reconcile.js';
import type { BrokerPort, BrokerSnapshot } from '../ports/broker.js';
import type { TimerHandle } from '../ports/clock.js';
import type { Cursor, OrderRecord, StorePort } from '../ports/store.js';
import type { ChangeDetector } from './change-detector.js';
import type { Closer } from './closer.js';
import type { EngineContext } from './engine-host.js';
import type { PendingAdopter } from './pending-adopter.js';
import type { TrackedOrder } from './order-tracker.js';

/** What a reconciliation works with besides the engine context. */
export interface ReconciliationDeps {
  readonly broker: Pick<BrokerPort, 'snapshot'>;
  readonly store: Pick<StorePort, 'orders'>;
  /** The broker's positions, which a snapshot replaces. */
  readonly brokerPositions: Map<ContractKey, { contract: Contract; qty: Qty; at: EpochMs }>;
  readonly closer: Closer;
  readonly detector: ChangeDetector;
  readonly adopter: PendingAdopter;
  orderFromStore(ref: OrderRef): Promise<TrackedOrder | undefined>;
}

/**
 * The one place a reconciliation result is applied: the pure diff (core/reconcile.ts) of a broker snapshot against
 * the book and every order the guard knows; then, in order, the orders (order-reconciler.ts, through the order
 * state machine), the missed executions (own fills once, foreign ones to the detector), the broker's positions, the
 * PENDING strategies taking their legs, and the detector over every contract; the cursor and the journal last.
 */
export class ReconciliationStep {
  /** Where the next snapshot's executions start. */
  cursor: Cursor = { lastExecutionAt: null, lastExecId: null, lastReconciledAt: null };
  private lastRecordedReconcile = Number.NEGATIVE_INFINITY;
  private reconcileRetry: TimerHandle | null = null;
  private reconcileRetries = 0;
  /**
   * The diff against the book, redone only where the broker or the book changed since the last pass (an interval
   * pass over 40,000 quiet positions compares each once and touches nothing); full at start, on a reconnect and on
   * a retry.
   */
  private readonly diff = new IncrementalReconciler();

  constructor(
    private readonly ctx: EngineContext,
    private readonly d: ReconciliationDeps,
  ) {}

  stop(): void {
    this.reconcileRetry?.cancel();
    this.reconcileRetry = null;
  }

  /**
   * A reconciliation the broker did not answer in time goes again soon: 5 s, then 10, 20 ... at most the periodic
   * interval, one retry pending at a time. Said on the timeline each time.
   */
  private retryReconcile(reason: string, why: string): void {
    const waitMs = Math.min(this.ctx.config.reconcileIntervalMs, 5_000 * 2 ** Math.min(this.reconcileRetries, 10));
    this.reconcileRetries++;
    const at = this.ctx.clock.now();
    this.ctx.emit({ kind: 'note', at, strategyId: null, text: `reconciliation (${reason}) timed out: ${why}; retrying in ${Math.round(waitMs / 1000)} s` });
    this.ctx.log('warn', `reconciliation (${reason}) timed out: ${why}; retrying in ${Math.round(waitMs / 1000)} s`);
    if (this.reconcileRetry) return;
    this.reconcileRetry = this.ctx.clock.setTimer(EpochMs.unsafe(at + waitMs), () => {
      this.reconcileRetry = null;
      if (!this.ctx.isRunning()) return;
      void this.ctx.enqueue(() => this.reconcileNow(`retry after timeout (${reason})`));
    });
  }


  /**
   * Brings the guard in line with the broker: executions since the cursor (own fills applied once, foreign ones
   * kept for the detector), working orders matched to the guard's by orderRef (an order already at the broker is
   * never sent again), and every position compared with the book through the same detector path as a live update.
   */
  async reconcileNow(reason: string): Promise<void> {
    // Real time from asking the broker to the pass applied (the snapshot's round trip included), for the metrics.
    const started = this.ctx.clock.perf();
    let snap: BrokerSnapshot;
    try {
      snap = await this.d.broker.snapshot({ executionsSince: this.cursor.lastExecutionAt });
    } catch (e) {
      if (LegguardError.is(e, 'BROKER_DISCONNECTED')) {
        this.ctx.log('warn', `reconciliation (${reason}) skipped: broker disconnected`);
        return;
      }
      if (LegguardError.is(e, 'BROKER_TIMEOUT')) {
        // Connected but slow: not a disconnect, and not something to wait a whole interval for.
        this.retryReconcile(reason, e.message);
        return;
      }
      throw e;
    }
    this.reconcileRetries = 0;
    const perf = this.ctx.clock.perf();
    // The diff itself is pure and property-tested (core/reconcile.ts); here its results are applied.
    // Every order the guard knows, finished ones too: the broker hands a filled order's executions back for as long as
    // they are in its lookback, and they are the guard's own, not an order nobody knows.
    const storeOrders = [...[...this.ctx.tracker.all()].map((o) => this.ctx.tracker.toRecord(o)), ...(await this.finishedOrdersNamedIn(snap))];
    const full = reason !== 'interval';
    if (full) this.diff.reset();
    const r = this.diff.pass(
      {
        snapshot: snap,
        book: this.ctx.book,
        storeOrders,
        isKnownExecution: (id) => this.ctx.tracker.hasSeen(id),
        executionsSince: this.cursor.lastExecutionAt,
        now: this.ctx.clock.now(),
      },
      this.ctx.book.takeTouched(),
    );
    const notes: string[] = [];
    // Orders first: an execution of an order sent just before a crash must find its tracked order.
    notes.push(...(await this.d.closer.reconcileOrders(r)));
    for (const e of r.executions) {
      if (!this.ctx.tracker.firstSight(e.execId)) continue;
      const own = isLegguardRef(e.orderRef) ? (this.ctx.tracker.get(e.orderRef!) ?? (await this.d.orderFromStore(e.orderRef!))) : undefined;
      if (own) {
        await this.ctx.isolated(own.request.strategyId, 'fill', () => this.d.closer.applyOwnFill(own, e));
        notes.push(`applied missed fill ${e.execId} of ${e.orderRef}`);
      } else {
        this.d.detector.addForeign(e);
        notes.push(`execution outside legguard: ${e.side} ${e.qty} ${describeContract(e.contract)}${e.liquidation ? ' (liquidation)' : ''}`);
      }
    }
    // Every position the broker shows (and 0 for what the book has and the broker does not) becomes the broker's
    // known position, then goes through the same detector path as a live report. Where it is what the guard knew, only
    // its time moves (a live report older than the snapshot is skipped by it); the detector looks where the broker
    // changed and where the broker and the book differ (elsewhere it would find nothing to explain).
    const keys = this.applyPositions(snap, r.keys, full);
    for (const p of r.positions) keys.add(contractKey(p.contract));
    // Strategies waiting for their legs take them before the detector looks: a position that is a pending strategy's
    // new leg is not an unexplained change, and a leg never held is never one either (it is nobody's holding).
    const taken = await this.d.adopter.adoptPending();
    // A position a pending strategy took as its leg is no discrepancy: the diff was made before it was taken.
    const explained = (c: Contract | null): boolean => c !== null && taken.has(contractKey(c)) && this.ctx.brokerQty(contractKey(c)) === this.ctx.book.net(contractKey(c));
    const discrepancies = r.discrepancies.filter((d) => !explained(d.contract));
    notes.unshift(...discrepancies.map((d) => d.message));
    // And where the book moved since the diff (missed fills applied, legs adopted above).
    for (const key of this.ctx.book.touchedSoFar()) keys.add(key);
    await this.d.detector.examine(keys, perf);
    const at = this.ctx.clock.now();
    // The next snapshot asks for executions from a lookback before this one: a report lost in this snapshot is
    // found in the next, and the ids already seen are skipped.
    this.cursor = { lastExecutionAt: r.cursor.executionsSince, lastExecId: r.cursor.lastExecId ?? this.cursor.lastExecId, lastReconciledAt: at };
    // A quiet periodic pass writes nothing (an fsync a minute for nothing); one that found something, or the first
    // after start or a reconnect, or one a quarter of an hour after the last recorded, is journaled.
    const quiet = notes.length === 0 && reason === 'interval' && at - this.lastRecordedReconcile < 15 * 60_000;
    if (!quiet) {
      this.lastRecordedReconcile = at;
      await this.ctx.commit({
        journal: [
          this.ctx.journal('reconciliation', `recon:${at}:${reason}`, {
            reason,
            discrepancies: discrepancies.map((d) => ({ key: d.key, kind: d.kind, message: d.message })),
            notes,
            positions: snap.positions.length,
            executions: snap.executions.length,
            openOrders: snap.openOrders.length,
          }),
        ],
        cursor: this.cursor,
        outside: this.ctx.book.holdings(null),
      });
    }
    this.ctx.emit({ kind: 'reconciled', at, reason, discrepancies: notes, durationMs: this.ctx.clock.perf() - started });
  }

  /**
   * The snapshot's positions into the broker's known positions: returns the contracts whose quantity changed. A
   * contract the guard knew at the broker and the snapshot does not show is 0 now; on a full pass so is every contract
   * of the book the broker does not show.
   */
  private applyPositions(snap: BrokerSnapshot, keys: readonly ContractKey[], full: boolean): Set<ContractKey> {
    const known = this.d.brokerPositions;
    const changed = new Set<ContractKey>();
    for (let i = 0; i < snap.positions.length; i++) {
      const p = snap.positions[i]!;
      if (p.account !== snap.account) continue;
      const key = keys[i]!;
      const k = known.get(key);
      if (k !== undefined && k.qty === p.qty) {
        k.at = p.tsEvent;
        k.contract = p.contract;
      } else {
        known.set(key, { contract: p.contract, qty: p.qty, at: p.tsEvent });
        changed.add(key);
      }
    }
    for (const [key, k] of known) {
      if (k.qty === 0 || this.diff.present(key)) continue;
      changed.add(key);
      known.set(key, { contract: k.contract, qty: Qty.zero, at: snap.at });
    }
    if (full) {
      for (const key of this.ctx.book.contractKeys()) {
        const k = known.get(key);
        if (k === undefined) known.set(key, { contract: this.ctx.book.contract(key)!, qty: Qty.zero, at: snap.at });
        else if (k.qty === 0 && !this.diff.present(key)) k.at = snap.at;
      }
    }
    return changed;
  }

  /**
   * Orders the snapshot names by a legguard ref that the tracker does not hold: after a restart the tracker has only
   * the orders that were open, while the broker still reports the executions (and, rarely, a working order) of ones
   * that finished before it. Looked up in the store by the strategy the ref names; a ref no order has stays unknown.
   */
  private async finishedOrdersNamedIn(snap: BrokerSnapshot): Promise<OrderRecord[]> {
    const refs = new Set<string>();
    for (const x of [...snap.executions, ...snap.openOrders]) {
      if (x.account === this.ctx.account && isLegguardRef(x.orderRef) && !this.ctx.tracker.get(x.orderRef!)) refs.add(x.orderRef!);
    }
    const strategyIds = new Set<StrategyId>();
    for (const ref of refs) {
      const parsed = parseOrderRef(ref);
      if (parsed) strategyIds.add(parsed.strategyId as StrategyId);
    }
    const out: OrderRecord[] = [];
    for (const strategyId of strategyIds) {
      for (const row of await this.d.store.orders({ account: this.ctx.account, strategyId })) if (refs.has(row.request.ref)) out.push(row);
    }
    return out;
  }
}
