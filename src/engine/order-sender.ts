import { contractKey } from '../core/contract.js';
import { formatNyTime } from '../core/calendar.js';
import { LegguardError } from '../core/errors.js';
import { checkOrder } from '../core/gate.js';
import type { IncidentId, OrderRef, StrategyId } from '../core/ids.js';
import type { OrderEvent } from '../core/order-state.js';
import { EpochMs } from '../core/quantity.js';
import { MinHeap } from '../lib/min-heap.js';
import type { TimerHandle } from '../ports/clock.js';
import type { OrderRecord } from '../ports/store.js';
import { describeOrder } from './close-planner.js';
import { journalEntry, type EngineHost, type StrategyRuntime } from './engine-host.js';
import { applyOrderEvent, isOpenStatus, type TrackedOrder } from './order-tracker.js';

/** A ready order and when it came due among them (release order). */
interface ReadyOrder {
  readonly o: TrackedOrder;
  readonly seq: number;
}

/** What the sender hands back to the order lifecycle: a reject to count, a close that cannot go on. */
export interface SenderHooks {
  onRejected(rt: StrategyRuntime, o: TrackedOrder): Promise<void>;
  giveUp(rt: StrategyRuntime, reason: string): Promise<void>;
}

/**
 * Sending: the order of sending (most dangerous tier first), the pre-trade gate (the one place an order is checked
 * before it goes), the fill timeouts, the cancels, and the write-behind of order rows. Only a planned order is ever
 * sent.
 *
 * The broker's message rate is the broker adapter's to keep (IB's limit is per connection: its one pacer, in
 * `adapters/ib/ib-connection.ts`, takes the order's tier from the request, cancels before orders before data). The
 * engine sends one order per step of its queue, so when the adapter makes a send wait, orders due meanwhile (other
 * strategies breaking at once) collect in `ready`, and each step sends the most dangerous of the strategies' next
 * orders: a strategy's own orders keep their plan's order (by exposure, core/close-plan.ts), and across strategies
 * naked short options go before stock, spreads and long options, ties in the order they came due. Broker events
 * that arrived during a send are handled before the next send.
 */
export class OrderSender {
  /**
   * Orders whose time has come, waiting for their step: per strategy in the order they came due (`seq`), and the
   * strategies by their first ready order, lowest tier first, ties to the one that came due first. A burst of three
   * thousand orders takes and releases each in O(log n); a scan of one list per order was quadratic.
   */
  private readonly ready = new Map<StrategyId, { queue: ReadyOrder[]; head: number }>();
  private readonly heads = new MinHeap<{ strategyId: StrategyId; first: ReadyOrder }>(
    (a, b) => a.first.o.request.tier < b.first.o.request.tier || (a.first.o.request.tier === b.first.o.request.tier && a.first.seq < b.first.seq),
  );
  private readonly isReady = new Set<TrackedOrder>();
  private readySeq = 0;
  /** A `sendNext` step is queued or running. */
  private sending = false;
  /** Fill timeouts of sent orders. */
  private readonly timers = new Map<OrderRef, TimerHandle>();
  /**
   * Orders waiting for their session, per instant they come due: one timer releases all of them together, so the
   * step that sends picks the most dangerous among every order due then (the open releases a thousand strategies'
   * option orders at once; one timer each would send the first to fire before the others were due, a long-option sale
   * ahead of another strategy's naked short).
   */
  private readonly due = new Map<number, { handle: TimerHandle; orders: Map<OrderRef, TrackedOrder> }>();
  private readonly dueAt = new Map<OrderRef, number>();
  private readonly dirty = new Set<TrackedOrder>();
  private flushQueued = false;

  constructor(
    private readonly host: EngineHost,
    private readonly hooks: SenderHooks,
  ) {
  }

  stop(): void {
    // Orders still waiting for their step stay planned and resume at the next start.
    this.ready.clear();
    this.heads.clear();
    this.isReady.clear();
    this.sending = false;
    for (const t of this.timers.values()) t.cancel();
    this.timers.clear();
    for (const g of this.due.values()) g.handle.cancel();
    this.due.clear();
    this.dueAt.clear();
  }

  /** Forgets the send or fill-timeout timer of `ref` (the order finished). */
  clearTimer(ref: OrderRef): void {
    this.timers.get(ref)?.cancel();
    this.timers.delete(ref);
    this.unschedule(ref);
  }

  hasTimer(ref: OrderRef): boolean {
    return this.timers.has(ref) || this.dueAt.has(ref);
  }

  schedule(rt: StrategyRuntime, orders: readonly TrackedOrder[]): void {
    const e = this.host;
    for (const o of orders) {
      if (o.notBefore <= e.clock.now()) {
        this.release(o);
        continue;
      }
      e.emit({
        kind: 'note',
        at: e.clock.now(),
        strategyId: rt.def.id,
        text: `${describeOrder(o.request)} waits for ${formatNyTime(o.notBefore)} (market closed)`,
      });
      this.unschedule(o.request.ref);
      const at = o.notBefore;
      let g = this.due.get(at);
      if (!g) {
        const orders = new Map<OrderRef, TrackedOrder>();
        g = {
          orders,
          handle: e.clock.setTimer(at, () => {
            this.due.delete(at);
            for (const ref of orders.keys()) this.dueAt.delete(ref);
            for (const x of orders.values()) this.release(x);
          }),
        };
        this.due.set(at, g);
      }
      g.orders.set(o.request.ref, o);
      this.dueAt.set(o.request.ref, at);
    }
  }

  /** Takes `ref` out of the orders waiting for their session. */
  private unschedule(ref: OrderRef): void {
    const at = this.dueAt.get(ref);
    if (at === undefined) return;
    this.dueAt.delete(ref);
    const g = this.due.get(at);
    if (!g) return;
    g.orders.delete(ref);
    if (g.orders.size === 0) {
      g.handle.cancel();
      this.due.delete(at);
    }
  }

  /** `o` is due: it joins the ready orders, and a step to send the next is queued if none is. */
  private release(o: TrackedOrder): void {
    if (this.isReady.has(o)) return;
    this.isReady.add(o);
    const id = o.request.strategyId;
    const r: ReadyOrder = { o, seq: this.readySeq++ };
    const q = this.ready.get(id);
    if (q === undefined) {
      this.ready.set(id, { queue: [r], head: 0 });
      this.heads.push({ strategyId: id, first: r });
    } else q.queue.push(r);
    if (this.sending) return;
    this.sending = true;
    void this.host.enqueue(() => this.sendNext());
  }

  /**
   * Takes the next order to send: of each strategy's first ready order (its plan's order), the lowest tier; ties
   * to the one that came due first.
   */
  private takeNext(): TrackedOrder | undefined {
    const top = this.heads.pop();
    if (top === undefined) return undefined;
    const q = this.ready.get(top.strategyId)!;
    q.head++;
    const next = q.queue[q.head];
    if (next === undefined) this.ready.delete(top.strategyId);
    else this.heads.push({ strategyId: top.strategyId, first: next });
    this.isReady.delete(top.first.o);
    return top.first.o;
  }

  /** One step: sends the next ready order; the step for the one after goes behind what arrived meanwhile. */
  private async sendNext(): Promise<void> {
    const o = this.takeNext();
    try {
      // The send is the strategy's own part of the step: a failure there is isolated (step-isolation.ts).
      if (o) await this.host.isolated(o.request.strategyId, 'send', () => this.send(o));
    } finally {
      if (this.heads.size > 0) void this.host.enqueue(() => this.sendNext());
      else this.sending = false;
    }
  }

  /** Sends one planned order through the gate. Never sends an order twice: only `planned` orders go. */
  private async send(o: TrackedOrder): Promise<void> {
    const e = this.host;
    if (o.status !== 'planned') return;
    const rt = e.strategies.get(o.request.strategyId);
    if (rt === undefined || (rt.state !== 'EMERGENCY_CLOSING' && rt.state !== 'CLOSING')) {
      this.step(o, { kind: 'withdraw' });
      o.reason = rt === undefined ? 'strategy no longer guarded' : `strategy is ${rt.state}`;
      this.markDirty(o);
      return;
    }
    if (e.tradingState() === 'HALTED') {
      // Held, still planned: leaving HALTED (reduce-only or resume) sends it through resumeAll.
      e.emit({ kind: 'note', at: e.clock.now(), strategyId: rt.def.id, text: `${o.request.ref} held: trading is HALTED; sent on reduce-only or resume` });
      return;
    }
    const verdict = checkOrder({
      order: o.request,
      book: e.book,
      brokerPosition: (key) => e.brokerQty(key),
      working: (sid, key) => e.tracker.working(sid, key, o.request.ref),
      limits: e.config.limits,
      state: e.tradingState(),
      referencePrice: (c) => e.priceOf(c),
    });
    const now = e.clock.now();
    if (!verdict.ok) {
      this.step(o, { kind: 'reject' });
      o.reason = `pre-trade gate: ${verdict.reason}`;
      o.updatedAt = now;
      e.emit({ kind: 'gate-refused', at: now, ref: o.request.ref, strategyId: rt.def.id, reason: verdict.reason });
      await e.commit({
        orders: [e.tracker.toRecord(o)],
        journal: [journalEntry(e, 'order', `gate:${o.request.ref}`, { refused: verdict.reason }, rt.def.id, rt.incidentId)],
      });
      await this.hooks.giveUp(rt, `the pre-trade gate refused ${describeOrder(o.request)}: ${verdict.reason}`);
      return;
    }
    if (e.isUnwritten(o.request.ref)) {
      this.step(o, { kind: 'withdraw' });
      o.reason = 'its plan could not be written to the store';
      this.markDirty(o);
      return;
    }
    if (!e.isConnected()) {
      // Stays planned; the reconnect's reconciliation resumes it.
      e.emit({ kind: 'note', at: now, strategyId: rt.def.id, text: `${o.request.ref} held: broker disconnected` });
      return;
    }
    // Write-ahead: the plan (and everything else decided so far) is durable before the order goes out. A store that
    // fails here keeps the order planned (the step fails, isolated); nothing goes out unwritten.
    await e.writeAhead();
    for (const leg of o.request.legs) o.positionBefore[contractKey(leg.contract)] = e.brokerQty(contractKey(leg.contract));
    this.step(o, { kind: 'send' });
    o.placedAt = now;
    o.lastActivity = now;
    o.updatedAt = now;
    try {
      const ack = await e.broker.placeOrder(o.request);
      e.tracker.setOrderId(o, ack.orderId);
    } catch (err) {
      this.step(o, { kind: 'send-failed' });
      o.placedAt = null;
      if (LegguardError.is(err, 'BROKER_DISCONNECTED')) {
        e.emit({ kind: 'note', at: now, strategyId: rt.def.id, text: `${o.request.ref} not sent: broker disconnected; resumes on reconnect` });
        return;
      }
      this.step(o, { kind: 'reject' });
      o.reason = err instanceof Error ? err.message : String(err);
      this.markDirty(o);
      await this.hooks.onRejected(rt, o);
      return;
    }
    o.placedPerf = e.clock.perf();
    e.crashPoint('order-sent');
    e.emit({ kind: 'order-sent', at: now, order: o });
    const closing = rt.closing;
    if (closing?.latencyFrom) {
      e.emit({
        kind: 'latency',
        at: now,
        strategyId: rt.def.id,
        incidentId: closing.incidentKey as IncidentId,
        cause: closing.latencyFrom.cause,
        brokerAt: closing.latencyFrom.brokerAt,
        detectedAt: closing.latencyFrom.detectedAt,
        latencyMs: o.placedPerf - closing.latencyFrom.perf,
        ordersSent: 1,
      });
      closing.latencyFrom = null;
    }
    this.markDirty(o);
    this.armFillTimeout(o);
  }

  /** Moves `o` through the order state machine; a refusal is logged and leaves it as it was. */
  step(o: TrackedOrder, ev: OrderEvent): boolean {
    const refused = applyOrderEvent(o, ev);
    if (refused === null) return true;
    this.host.log('debug', `${o.request.ref}: ${refused}`);
    return false;
  }

  markDirty(o: TrackedOrder): void {
    o.updatedAt = this.host.clock.now();
    this.dirty.add(o);
    if (this.flushQueued) return;
    this.flushQueued = true;
    void this.host.enqueue(async () => {
      this.flushQueued = false;
      const rows = [...this.dirty].map((x) => this.host.tracker.toRecord(x));
      this.dirty.clear();
      if (rows.length > 0) await this.host.commit({ orders: rows });
    });
  }

  armFillTimeout(o: TrackedOrder): void {
    const e = this.host;
    this.timers.get(o.request.ref)?.cancel();
    const at = EpochMs.unsafe(e.clock.now() + e.config.fillTimeoutMs);
    this.timers.set(
      o.request.ref,
      e.clock.setTimer(at, () => {
        this.timers.delete(o.request.ref);
        void e.enqueue(() => e.isolated(o.request.strategyId, 'fill timeout', () => this.onFillTimeout(o)));
      }),
    );
  }

  /** No (complete) fill in time: cancel, and re-plan one price step further once the cancel is confirmed. */
  private async onFillTimeout(o: TrackedOrder): Promise<void> {
    if (!isOpenStatus(o.status) || o.status === 'planned' || o.orderId === null) return;
    const e = this.host;
    const rt = e.strategies.get(o.request.strategyId);
    if (rt?.closing) rt.closing.walkStep++;
    e.emit({ kind: 'note', at: e.clock.now(), strategyId: o.request.strategyId, text: `${o.request.ref} not filled within ${e.config.fillTimeoutMs} ms: cancelling to re-price` });
    await this.requestCancel(o);
  }

  async requestCancel(o: TrackedOrder): Promise<void> {
    if (o.orderId === null || o.cancelRequested) return;
    await this.host.writeAhead();
    if (applyOrderEvent(o, { kind: 'cancel-requested' }) !== null) return;
    try {
      await this.host.broker.cancelOrder(o.orderId);
    } catch (err) {
      applyOrderEvent(o, { kind: 'cancel-failed' });
      this.host.log('warn', `cancel of ${o.request.ref} failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /** Cancels orders not yet sent; returns their records to commit. */
  cancelPlanned(id: StrategyId, reason: string): OrderRecord[] {
    const e = this.host;
    const out: OrderRecord[] = [];
    for (const o of e.tracker.openOf(id)) {
      if (o.status !== 'planned') continue;
      this.step(o, { kind: 'withdraw' });
      o.reason = reason;
      o.updatedAt = e.clock.now();
      this.timers.get(o.request.ref)?.cancel();
      this.timers.delete(o.request.ref);
      this.unschedule(o.request.ref);
      out.push(e.tracker.toRecord(o));
    }
    return out;
  }

  /** Asks the broker to cancel every sent, still open order of the strategy. */
  cancelWorking(id: StrategyId, reason: string): void {
    const e = this.host;
    for (const o of e.tracker.openOf(id)) {
      if (o.status === 'planned' || o.orderId === null) continue;
      e.emit({ kind: 'note', at: e.clock.now(), strategyId: id, text: `cancelling ${o.request.ref}: ${reason}` });
      void e.enqueue(() => this.requestCancel(o));
    }
  }
}
