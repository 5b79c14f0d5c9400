import { isOpen, nextOpen } from '../core/calendar.js';
import { contractKey, describeContract, formatStrike, stockFromSettlement, type OptionContract, type StockContract, stock } from '../core/contract.js';
import type { NoticeReport } from '../core/events.js';
import { LegguardError } from '../core/errors.js';
import { checkOrder } from '../core/gate.js';
import type { BrokerOrderId, ContractKey, OrderRef, StrategyId } from '../core/ids.js';
import { orderRef, type OrderRequest } from '../core/order.js';
import { EpochMs, Qty } from '../core/quantity.js';
import type { ExerciseAction } from '../ports/broker.js';
import type { TimerHandle } from '../ports/clock.js';
import { journalEntry, type EngineHost, type StrategyRuntime } from './engine-host.js';

/** An exercise or lapse the guard planned for a strategy's long option, and where it stands. */
export interface PlannedExerciseOrder {
  readonly ref: OrderRef;
  readonly strategyId: StrategyId;
  readonly contract: OptionContract;
  readonly stock: StockContract;
  /** Contracts, positive. */
  readonly qty: number;
  readonly action: ExerciseAction;
  /** The strategy's holding of the option when planned: the exercise is done when it has shrunk by `qty`. */
  readonly optionBefore: number;
  readonly notBefore: EpochMs;
  readonly reason: string;
  status: 'planned' | 'sent';
  requestId: BrokerOrderId | null;
}

/** How long after the next option session opens a sent exercise may take to show before it counts as failed. */
const EXERCISE_GRACE_MS = 60 * 60_000;

/**
 * Exercises and lapses of long options (IB's exerciseOptions) for closes, beside the orders: planned with the close
 * (close-planner.ts decides which by core/long-leg.ts), journaled with it, checked by the pre-trade gate as what they
 * do (the option to zero and the stock it delivers, so an exercise must reduce the strategy's stock exactly as a sale
 * would), sent when the options' session is open. An exercise is not an order: the broker answers with position
 * reports (the detector explains them as the exercise), or a notice naming the request when it refuses. While one is
 * outstanding, its effect counts in the strategy's residual so that nothing is planned twice; once the option has
 * shrunk by its quantity it is done. A refused or timed-out exercise marks the contract not to be exercised again in
 * this close (it is sold instead).
 */
export class Exerciser {
  private readonly pending = new Map<StrategyId, PlannedExerciseOrder[]>();
  /** Per strategy, contracts whose exercise failed: the close sells them instead. */
  private readonly failed = new Map<StrategyId, Set<string>>();
  private readonly timers = new Map<OrderRef, TimerHandle>();

  constructor(
    private readonly host: EngineHost,
    private readonly onFailed: (rt: StrategyRuntime) => Promise<void>,
  ) {}

  stop(): void {
    for (const t of this.timers.values()) t.cancel();
    this.timers.clear();
  }

  /** The exercise for `contract` of a plan, with its ref derived like an order's (the same holdings give the same). */
  static plan(args: {
    readonly strategyId: StrategyId;
    readonly incidentKey: string;
    readonly revision: number;
    readonly contract: OptionContract;
    readonly qty: number;
    readonly action: ExerciseAction;
    readonly optionBefore: number;
    readonly now: EpochMs;
    readonly reason: string;
  }): PlannedExerciseOrder {
    const c = args.contract;
    const group = `${args.action === 'exercise' ? 'x' : 'lapse'}.${c.symbol.replace(/[^A-Za-z0-9]/g, '')}.${c.right}${formatStrike(c.strike).replace('.', '_')}.${c.expiry.slice(2).replaceAll('-', '')}`;
    return {
      ref: orderRef(args.strategyId, args.incidentKey, group, args.revision),
      strategyId: args.strategyId,
      contract: c,
      stock: stock(c.symbol, c.currency),
      qty: args.qty,
      action: args.action,
      optionBefore: args.optionBefore,
      notBefore: isOpen(args.now, 'option') ? args.now : nextOpen(args.now, 'option'),
      reason: args.reason,
      status: 'planned',
      requestId: null,
    };
  }

  /** Contracts of `id` that are not to be exercised again in this close. */
  noExercise(id: StrategyId): ReadonlySet<string> {
    return this.failed.get(id) ?? new Set();
  }

  /** Exercises of `id` still outstanding (done ones are dropped on the way). */
  outstanding(id: StrategyId): readonly PlannedExerciseOrder[] {
    const list = this.pending.get(id);
    if (!list) return [];
    const left = list.filter((x) => this.remaining(x) > 0);
    for (const x of list) if (this.remaining(x) === 0) this.forget(x);
    if (left.length === 0) this.pending.delete(id);
    else this.pending.set(id, left);
    return left;
  }

  /** The signed effect still to come in `key` from the outstanding exercises of `id` (the residual counts it). */
  working(id: StrategyId, key: ContractKey): number {
    let w = 0;
    for (const x of this.outstanding(id)) {
      if (x.action !== 'exercise') {
        if (contractKey(x.contract) === key) w -= this.remaining(x);
        continue;
      }
      const n = this.remaining(x);
      if (contractKey(x.contract) === key) w -= n;
      if (contractKey(x.stock) === key) w += stockFromSettlement(x.contract, n);
    }
    return w;
  }

  add(list: readonly PlannedExerciseOrder[]): void {
    for (const x of list) this.pending.set(x.strategyId, [...(this.pending.get(x.strategyId) ?? []), x]);
  }

  /** Sends each planned exercise when the options' session is open. */
  schedule(rt: StrategyRuntime, list: readonly PlannedExerciseOrder[]): void {
    const e = this.host;
    for (const x of list) {
      if (x.status !== 'planned') continue;
      const go = (): void => void e.enqueue(() => this.send(rt, x));
      if (x.notBefore <= e.clock.now()) go();
      else {
        e.emit({ kind: 'note', at: e.clock.now(), strategyId: rt.def.id, text: `${describe(x)} waits for the options' open` });
        this.arm(x, x.notBefore, go);
      }
    }
  }

  /** Planned exercises not yet sent (after a reconnect). */
  unsent(id: StrategyId): readonly PlannedExerciseOrder[] {
    return this.outstanding(id).filter((x) => x.status === 'planned');
  }

  /** A broker notice naming one of our exercise requests: it was refused. */
  async onNotice(n: NoticeReport): Promise<boolean> {
    if (n.orderId === null) return false;
    for (const list of this.pending.values()) {
      const x = list.find((p) => p.requestId === n.orderId);
      if (!x) continue;
      await this.fail(x, `the broker refused it (${n.code}: ${n.message})`);
      return true;
    }
    return false;
  }

  private remaining(x: PlannedExerciseOrder): number {
    const now = this.host.book.holding(x.strategyId, contractKey(x.contract));
    const done = Math.max(0, x.optionBefore - now);
    return Math.max(0, x.qty - done);
  }

  private forget(x: PlannedExerciseOrder): void {
    this.timers.get(x.ref)?.cancel();
    this.timers.delete(x.ref);
  }

  private arm(x: PlannedExerciseOrder, at: EpochMs, fn: () => void): void {
    this.timers.get(x.ref)?.cancel();
    this.timers.set(
      x.ref,
      this.host.clock.setTimer(at, () => {
        this.timers.delete(x.ref);
        fn();
      }),
    );
  }

  /** The gate's view of an exercise: the option sold to zero and the stock it delivers, as one order. */
  private asOrder(x: PlannedExerciseOrder): OrderRequest {
    const rt = this.host.strategies.get(x.strategyId);
    const shares = stockFromSettlement(x.contract, 1);
    return {
      ref: x.ref,
      strategyId: x.strategyId,
      incidentId: rt?.incidentId ?? null,
      account: this.host.account,
      legs:
        x.action === 'exercise' && shares !== 0
          ? [
              { contract: x.contract, action: 'SELL', ratio: 1 },
              { contract: x.stock, action: shares > 0 ? 'BUY' : 'SELL', ratio: Math.abs(shares) },
            ]
          : [{ contract: x.contract, action: 'SELL', ratio: 1 }],
      quantity: Qty.unsafe(x.qty),
      orderType: 'MKT',
      limitPrice: null,
      outsideRth: false,
      purpose: 'emergency',
      tier: 0,
    };
  }

  private async send(rt: StrategyRuntime, x: PlannedExerciseOrder): Promise<void> {
    const e = this.host;
    if (x.status !== 'planned' || this.remaining(x) === 0) return;
    if (rt.state !== 'EMERGENCY_CLOSING' && rt.state !== 'CLOSING') {
      this.drop(x);
      return;
    }
    if (e.tradingState() === 'HALTED') {
      e.emit({ kind: 'note', at: e.clock.now(), strategyId: rt.def.id, text: `${x.ref} held: trading is HALTED` });
      return;
    }
    // An exercise moves no money at a market price (it settles at the strike): the notional limit does not apply; the
    // contract and share limits do, and the holdings rule on both contracts.
    const verdict = checkOrder({
      order: this.asOrder(x),
      book: e.book,
      brokerPosition: (key) => e.brokerQty(key),
      working: (sid, key) => e.tracker.working(sid, key),
      limits: { ...e.config.limits, maxNotionalPerOrder: null },
      state: e.tradingState(),
    });
    const now = e.clock.now();
    if (!verdict.ok) {
      e.emit({ kind: 'gate-refused', at: now, ref: x.ref, strategyId: rt.def.id, reason: verdict.reason });
      await e.commit({ journal: [journalEntry(e, 'order', `gate:${x.ref}`, { refused: verdict.reason }, rt.def.id, rt.incidentId)] });
      await this.fail(x, `the pre-trade gate refused it: ${verdict.reason}`);
      return;
    }
    if (!e.isConnected()) {
      e.emit({ kind: 'note', at: now, strategyId: rt.def.id, text: `${x.ref} held: broker disconnected` });
      return;
    }
    // Write-ahead, as for an order (order-sender.ts).
    await e.writeAhead();
    x.status = 'sent';
    try {
      const ack = await e.broker.exerciseOptions({
        ref: x.ref,
        account: e.account,
        contract: x.contract,
        quantity: Qty.unsafe(x.qty),
        action: x.action,
        override: x.action === 'lapse',
      });
      x.requestId = ack.requestId;
    } catch (err) {
      x.status = 'planned';
      if (LegguardError.is(err, 'BROKER_DISCONNECTED')) {
        e.emit({ kind: 'note', at: now, strategyId: rt.def.id, text: `${x.ref} not sent: broker disconnected; resumes on reconnect` });
        return;
      }
      await this.fail(x, err instanceof Error ? err.message : String(err));
      return;
    }
    await e.commit({ journal: [journalEntry(e, 'order', `sent:${x.ref}`, { exercise: x.action, contract: x.contract, qty: x.qty, requestId: x.requestId }, rt.def.id, rt.incidentId)] });
    e.emit({ kind: 'note', at: now, strategyId: rt.def.id, text: `${describe(x)} sent (request ${x.requestId}): ${x.reason}` });
    if (x.action === 'exercise') {
      // IB posts an exercise overnight; by an hour into the next options session it must show.
      const next = nextOpen(EpochMs.unsafe(now + 1), 'option');
      this.arm(x, EpochMs.unsafe(next + EXERCISE_GRACE_MS), () => {
        void e.enqueue(async () => {
          if (this.remaining(x) > 0 && this.outstanding(x.strategyId).includes(x)) await this.fail(x, 'its exercise did not show in the positions in time');
        });
      });
    }
  }

  private drop(x: PlannedExerciseOrder): void {
    this.forget(x);
    const list = (this.pending.get(x.strategyId) ?? []).filter((p) => p !== x);
    if (list.length === 0) this.pending.delete(x.strategyId);
    else this.pending.set(x.strategyId, list);
  }

  private async fail(x: PlannedExerciseOrder, why: string): Promise<void> {
    const e = this.host;
    this.drop(x);
    const set = this.failed.get(x.strategyId) ?? new Set<string>();
    set.add(contractKey(x.contract));
    this.failed.set(x.strategyId, set);
    const rt = e.strategies.get(x.strategyId);
    e.emit({ kind: 'note', at: e.clock.now(), strategyId: x.strategyId, text: `${describe(x)} failed: ${why}; the close sells it instead` });
    await e.commit({ journal: [journalEntry(e, 'order', `failed:${x.ref}`, { exercise: x.action, contract: x.contract, qty: x.qty, reason: why }, x.strategyId, rt?.incidentId ?? null)] });
    if (rt) await this.onFailed(rt);
  }
}

function describe(x: PlannedExerciseOrder): string {
  return `${x.action === 'exercise' ? 'EXERCISE' : 'LAPSE (do not exercise)'} ${x.qty} ${describeContract(x.contract)}`;
}
