import type { Holding } from '../core/book.js';
import { planClose, type PlannedOrder } from '../core/close-plan.js';
import { contractKey, describeContract, type Contract } from '../core/contract.js';
import { formatNyTime, nextOpen } from '../core/calendar.js';
import type { Decision } from '../core/decision.js';
import type { Detection } from '../core/detection.js';
import { LegguardError } from '../core/errors.js';
import { isTerminalOrderStatus, type ExecutionReport, type OrderStatus, type OrderStatusReport } from '../core/events.js';
import { checkOrder } from '../core/gate.js';
import type { IncidentId, OrderRef, StrategyId } from '../core/ids.js';
import { legEffect, type OrderRequest } from '../core/order.js';
import { nextLimitPrice } from '../core/price-walk.js';
import { EpochMs, Qty } from '../core/quantity.js';
import type { BreakPolicy } from '../core/strategy.js';
import type { Alert } from '../ports/alerts.js';
import type { Quote } from '../ports/broker.js';
import type { ReconcileResult } from '../core/reconcile.js';
import type { TimerHandle } from '../ports/clock.js';
import type { JournalEntry, OrderRecord, StateChange } from '../ports/store.js';
import type { ClosingState, GuardEngine, StrategyRuntime } from './guard-engine.js';
import { CAUSE_TITLE, describeHoldings, legFacts } from './incident.js';
import { isOpenStatus, type TrackedOrder } from './order-tracker.js';
import { PriorityPacer } from '../lib/priority-pacer.js';

export interface BreakContext {
  readonly policy: BreakPolicy;
  readonly decision: Decision;
  readonly incidentId: IncidentId;
  readonly primary: Detection;
  readonly detections: readonly Detection[];
  readonly changes: StateChange[];
  readonly journal: JournalEntry[];
  readonly firstBreak: boolean;
  readonly latencyFrom: ClosingState['latencyFrom'];
}

/**
 * The execution side of the guard: plans closes, commits them before anything goes out (write-ahead), sends through
 * the pacer and the pre-trade gate, follows fills, rejects and cancels, walks prices, re-plans from the book, and
 * gives up to NEEDS_ATTENTION with a critical alert when a close cannot complete.
 */
export class Closer {
  private readonly pacer: PriorityPacer;
  private readonly timers = new Map<OrderRef, TimerHandle>();
  private readonly cancelling = new Set<OrderRef>();
  private readonly dirty = new Set<TrackedOrder>();
  private readonly bidTimers = new Map<StrategyId, TimerHandle>();
  private readonly retryTimers = new Map<StrategyId, TimerHandle>();
  /** Per strategy: the settle due when the wait for executions owed by finished orders runs out. */
  private readonly owedTimers = new Map<StrategyId, TimerHandle>();
  private readonly warned = new Set<string>();
  /** Sent orders a reconciliation did not find at the broker, and how many times in a row. */
  private readonly missing = new Map<OrderRef, number>();
  private flushQueued = false;

  constructor(private readonly engine: GuardEngine) {
    this.pacer = new PriorityPacer(engine.clock, engine.config.maxMessagesPerSecond);
  }

  stop(): void {
    this.pacer.rejectAll(new LegguardError('BROKER_DISCONNECTED', 'the guard stopped'));
    for (const t of this.timers.values()) t.cancel();
    this.timers.clear();
    for (const t of this.bidTimers.values()) t.cancel();
    this.bidTimers.clear();
    for (const t of this.retryTimers.values()) t.cancel();
    this.retryTimers.clear();
    for (const t of this.owedTimers.values()) t.cancel();
    this.owedTimers.clear();
  }

  // ---------------------------------------------------------------- starting a close

  /** A strategy just broke (or broke again): decide by policy, plan, commit, alert, send. */
  async onBreak(rt: StrategyRuntime, ctx: BreakContext): Promise<void> {
    const e = this.engine;
    const id = rt.def.id;
    // Orders planned before this change were planned for holdings that no longer exist: never let them go out, and
    // ask the broker to cancel those already working. The book is re-planned from what is left.
    const cancelled = this.cancelPlanned(id, `superseded by ${ctx.incidentId}`);
    this.cancelWorking(id, `superseded by ${ctx.incidentId}`);

    if (ctx.policy === 'alert') {
      const c = e.move(rt, 'gave-up', 'policy alert: a person decides; no orders sent');
      if (c) ctx.changes.push(c);
      const alert = this.breakAlert(rt, ctx, [], 'No orders were sent (policy: alert). A person must decide what to do.');
      await e.commit({ strategies: [e.record(rt)], stateChanges: ctx.changes, journal: ctx.journal, alerts: [alert], orders: cancelled });
      e.raise([alert]);
      return;
    }

    const mode = ctx.policy === 'hedge' ? 'hedge' : 'close';
    const prev = rt.closing;
    rt.closing = {
      purpose: 'emergency',
      mode,
      incidentKey: ctx.incidentId,
      revision: prev && prev.incidentKey === ctx.incidentId ? prev.revision + 1 : 0,
      rejects: 0,
      walkStep: 0,
      latencyFrom: ctx.latencyFrom,
    };
    const started = e.move(rt, 'emergency-started', `${mode === 'hedge' ? 'hedging the stock' : 'closing what is left'}`);
    if (started) ctx.changes.push(started);
    const planned = await this.plan(rt);
    const what =
      planned.orders.length === 0
        ? 'No orders could be planned.'
        : `Orders: ${planned.orders.map((o) => describeOrder(o.request)).join('; ')}.`;
    const blocked = planned.blocked.length > 0 ? ` Not priced: ${describeBlocked(planned.blocked)}.` : '';
    const alert = this.breakAlert(rt, ctx, planned.orders, `${what}${blocked}`);
    const journal = [...ctx.journal, ...planned.orders.map((o) => e.journal('order', `plan:${o.request.ref}`, o.request, id, ctx.incidentId))];
    await e.commit({
      strategies: [e.record(rt)],
      stateChanges: ctx.changes,
      journal,
      orders: [...cancelled, ...planned.orders.map((o) => e.tracker.toRecord(o))],
      alerts: [alert],
    });
    e.raise([alert]);
    e.deps.crashPoint?.('decision-committed');
    const now = e.clock.now();
    if (rt.closing.latencyFrom && !planned.orders.some((o) => o.notBefore <= now)) {
      // Nothing may trade now (the market is closed): the reaction ends with the plan committed; the orders go at
      // the session open.
      const from = rt.closing.latencyFrom;
      rt.closing.latencyFrom = null;
      e.emit({
        kind: 'latency',
        at: now,
        strategyId: id,
        incidentId: ctx.incidentId,
        cause: from.cause,
        brokerAt: from.brokerAt,
        detectedAt: from.detectedAt,
        latencyMs: e.clock.perf() - from.perf,
        ordersSent: 0,
      });
    }
    this.schedule(rt, planned.orders);
    await this.settle(rt);
  }

  /** An ordinary exit of an intact strategy (time exit ...): same machinery, no emergency. */
  async startNormalClose(rt: StrategyRuntime, decision: Decision, changes: StateChange[], journal: JournalEntry[]): Promise<void> {
    const e = this.engine;
    const now = e.clock.now();
    rt.closing = {
      purpose: 'normal',
      mode: 'close',
      incidentKey: `exit-${now}`,
      revision: 0,
      rejects: 0,
      walkStep: 0,
      latencyFrom: null,
    };
    const planned = await this.plan(rt);
    await e.commit({
      strategies: [e.record(rt)],
      stateChanges: changes,
      journal: [...journal, ...planned.orders.map((o) => e.journal('order', `plan:${o.request.ref}`, o.request, rt.def.id, null))],
      orders: planned.orders.map((o) => e.tracker.toRecord(o)),
    });
    e.emit({ kind: 'note', at: now, strategyId: rt.def.id, text: `${decision.rule}: ${decision.reason}` });
    this.schedule(rt, planned.orders);
    await this.settle(rt);
  }

  private breakAlert(rt: StrategyRuntime, ctx: BreakContext, orders: readonly TrackedOrder[], action: string): Alert {
    const e = this.engine;
    const p = ctx.primary;
    const holding = describeHoldings(e.book.holdings(rt.def.id));
    const title = `${CAUSE_TITLE[ctx.decision.metadata['cause'] as keyof typeof CAUSE_TITLE] ?? 'BROKEN'}: ${describeContract(p.contract)} x${Math.abs(p.change)} on ${rt.def.id}`;
    const text =
      `${rt.def.id} (${rt.def.kind}) is BROKEN: ${e.describeChange(p)}. ` +
      `It now holds ${holding}. ${action}`;
    return e.makeAlert('critical', `break:${ctx.incidentId}:${ctx.firstBreak ? 'first' : ctx.primary.brokerAt}`, title, text, rt.def.id, ctx.incidentId, {
      strategyId: rt.def.id,
      cause: p.cause,
      kind: p.kind,
      qty: Math.abs(p.change),
      ...legFacts(p.contract),
      action: ctx.decision.action,
      orders: orders.length,
    });
  }

  // ---------------------------------------------------------------- planning

  /**
   * What the strategy still has to close: its holdings plus the part of its open orders still to trade, per
   * contract, never past zero. A working order that would cross zero (it was planned for holdings since changed)
   * counts for nothing here; it is being cancelled.
   */
  residual(id: StrategyId): Holding[] {
    const e = this.engine;
    const out: Holding[] = [];
    for (const h of e.book.holdings(id)) {
      const w = e.tracker.working(id, contractKey(h.contract));
      const r = h.qty + w;
      if (r !== 0 && Math.sign(r) === Math.sign(h.qty)) out.push({ contract: h.contract, qty: Qty.unsafe(r) });
    }
    return out;
  }

  /**
   * Plans the residual close of `rt` as tracked orders (status planned, not yet committed). When the price walk of
   * any order is past its bound, nothing is planned and `walkOver` says which.
   */
  private async plan(rt: StrategyRuntime): Promise<PlanOutcome> {
    const e = this.engine;
    const closing = rt.closing!;
    const holdings = this.residual(rt.def.id);
    if (holdings.length === 0) return { orders: [], blocked: [], walkOver: null };
    const quotes = await e.quotesFor(holdings.map((h) => h.contract));
    const now = e.clock.now();
    const plan = planClose({
      strategyId: rt.def.id,
      account: e.account,
      incidentId: closing.purpose === 'emergency' ? (closing.incidentKey as IncidentId) : null,
      incidentKey: closing.incidentKey,
      revision: closing.revision,
      holdings,
      book: e.book,
      brokerPosition: (key) => e.brokerQty(key),
      quote: (c) => quotes.get(contractKey(c)) ?? null,
      now,
      mode: closing.mode,
      purpose: closing.purpose,
      combos: e.config.combos,
      preMarketHedge: e.config.preMarketHedge,
      limits: e.config.limits,
    });
    const requests: { request: OrderRequest; notBefore: EpochMs }[] = [];
    for (const p of plan.orders) {
      const request = this.walked(p, closing.walkStep, quotes);
      if (request === null) return { orders: [], blocked: [], walkOver: describeOrder(p.request) };
      requests.push({ request, notBefore: p.notBefore });
    }
    const orders: TrackedOrder[] = [];
    for (const { request, notBefore } of requests) {
      const o: TrackedOrder = {
        request,
        orderId: null,
        status: 'planned',
        filledUnits: 0,
        legFilled: new Map(),
        avgFillPrice: null,
        placedAt: null,
        placedPerf: null,
        positionBefore: {},
        reason: null,
        notBefore,
        lastActivity: now,
        updatedAt: now,
      };
      e.tracker.add(o);
      e.emit({ kind: 'order-planned', at: now, order: o });
      orders.push(o);
    }
    const blocked: Blocked[] = [
      ...plan.blocked.map((b) => ({ contract: b.contract, qty: b.qty, reason: b.reason, worthlessLong: false })),
      // A long option nobody bids for is worth nothing and risks nothing more: the planner holds it back; it is left
      // to expire, and sold if a bid appears, rather than calling a person out.
      ...plan.held.filter((h) => h.why === 'no-bid').map((h) => ({ contract: h.contract, qty: h.qty, reason: h.reason, worthlessLong: true })),
    ];
    return { orders, blocked, walkOver: null };
  }

  /** The planned order at walk step `step` (0 = as planned); null when the walk is past its bound. */
  private walked(p: PlannedOrder, step: number, quotes: Map<string, Quote | null>): OrderRequest | null {
    if (step === 0 || p.request.orderType !== 'LMT' || p.request.limitPrice === null) return p.request;
    const price = nextLimitPrice({
      request: p.request,
      quotes: (c) => quotes.get(contractKey(c)) ?? null,
      step,
      stepTicks: this.engine.config.priceWalk.stepTicks,
      maxSlippageFraction: this.engine.config.priceWalk.maxSlippageFraction,
      minBoundTicks: this.engine.config.priceWalk.minBoundTicks,
    });
    if (price === null) return null;
    return { ...p.request, limitPrice: price };
  }

  // ---------------------------------------------------------------- sending

  private schedule(rt: StrategyRuntime, orders: readonly TrackedOrder[]): void {
    const e = this.engine;
    for (const o of orders) {
      const go = (): void => {
        // A stopped pacer rejects what it still held: those orders stay planned and resume at the next start.
        this.pacer
          .submit(o.request.tier, () => {
            void e.enqueue(() => this.send(o));
          })
          .catch(() => undefined);
      };
      if (o.notBefore <= e.clock.now()) go();
      else {
        e.emit({
          kind: 'note',
          at: e.clock.now(),
          strategyId: rt.def.id,
          text: `${describeOrder(o.request)} waits for ${formatNyTime(o.notBefore)} (market closed)`,
        });
        this.timers.set(o.request.ref, e.clock.setTimer(o.notBefore, go));
      }
    }
  }

  /** Sends one planned order through the gate. Never sends an order twice: only `planned` orders go. */
  private async send(o: TrackedOrder): Promise<void> {
    const e = this.engine;
    if (o.status !== 'planned') return;
    const rt = e.strategies.get(o.request.strategyId)!;
    if (rt.state !== 'EMERGENCY_CLOSING' && rt.state !== 'CLOSING') {
      o.status = 'cancelled';
      o.reason = `strategy is ${rt.state}`;
      this.markDirty(o);
      return;
    }
    if (e.tradingState === 'HALTED') {
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
      state: e.tradingState,
      referencePrice: (c) => e.priceOf(c),
    });
    const now = e.clock.now();
    if (!verdict.ok) {
      o.status = 'rejected';
      o.reason = `pre-trade gate: ${verdict.reason}`;
      o.updatedAt = now;
      e.emit({ kind: 'gate-refused', at: now, ref: o.request.ref, strategyId: rt.def.id, reason: verdict.reason });
      await e.commit({
        orders: [e.tracker.toRecord(o)],
        journal: [e.journal('order', `gate:${o.request.ref}`, { refused: verdict.reason }, rt.def.id, rt.incidentId)],
      });
      await this.giveUp(rt, `the pre-trade gate refused ${describeOrder(o.request)}: ${verdict.reason}`);
      return;
    }
    if (!e.isConnected) {
      // Stays planned; the reconnect's reconciliation resumes it.
      e.emit({ kind: 'note', at: now, strategyId: rt.def.id, text: `${o.request.ref} held: broker disconnected` });
      return;
    }
    for (const leg of o.request.legs) o.positionBefore[contractKey(leg.contract)] = e.brokerQty(contractKey(leg.contract));
    o.status = 'pending';
    o.placedAt = now;
    o.lastActivity = now;
    o.updatedAt = now;
    try {
      const ack = await e.deps.broker.placeOrder(o.request);
      e.tracker.setOrderId(o, ack.orderId);
    } catch (err) {
      o.status = 'planned';
      o.placedAt = null;
      if (LegguardError.is(err, 'BROKER_DISCONNECTED')) {
        e.emit({ kind: 'note', at: now, strategyId: rt.def.id, text: `${o.request.ref} not sent: broker disconnected; resumes on reconnect` });
        return;
      }
      o.status = 'rejected';
      o.reason = err instanceof Error ? err.message : String(err);
      this.markDirty(o);
      await this.afterReject(rt, o);
      return;
    }
    o.placedPerf = e.clock.perf();
    e.deps.crashPoint?.('order-sent');
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

  private markDirty(o: TrackedOrder): void {
    o.updatedAt = this.engine.clock.now();
    this.dirty.add(o);
    if (this.flushQueued) return;
    this.flushQueued = true;
    void this.engine.enqueue(async () => {
      this.flushQueued = false;
      const rows = [...this.dirty].map((x) => this.engine.tracker.toRecord(x));
      this.dirty.clear();
      if (rows.length > 0) await this.engine.commit({ orders: rows });
    });
  }

  private armFillTimeout(o: TrackedOrder): void {
    const e = this.engine;
    this.timers.get(o.request.ref)?.cancel();
    const at = EpochMs.unsafe(e.clock.now() + e.config.fillTimeoutMs);
    this.timers.set(
      o.request.ref,
      e.clock.setTimer(at, () => {
        this.timers.delete(o.request.ref);
        void e.enqueue(() => this.onFillTimeout(o));
      }),
    );
  }

  /** No (complete) fill in time: cancel, and re-plan one price step further once the cancel is confirmed. */
  private async onFillTimeout(o: TrackedOrder): Promise<void> {
    if (!isOpenStatus(o.status) || o.status === 'planned' || o.orderId === null) return;
    const e = this.engine;
    const rt = e.strategies.get(o.request.strategyId)!;
    if (rt.closing) rt.closing.walkStep++;
    e.emit({ kind: 'note', at: e.clock.now(), strategyId: rt.def.id, text: `${o.request.ref} not filled within ${e.config.fillTimeoutMs} ms: cancelling to re-price` });
    await this.requestCancel(o);
  }

  private async requestCancel(o: TrackedOrder): Promise<void> {
    if (o.orderId === null || this.cancelling.has(o.request.ref)) return;
    this.cancelling.add(o.request.ref);
    try {
      await this.engine.deps.broker.cancelOrder(o.orderId);
    } catch (err) {
      this.cancelling.delete(o.request.ref);
      this.engine.log('warn', `cancel of ${o.request.ref} failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /** Cancels orders not yet sent; returns their records to commit. */
  cancelPlanned(id: StrategyId, reason: string): OrderRecord[] {
    const e = this.engine;
    const out: OrderRecord[] = [];
    for (const o of e.tracker.openOf(id)) {
      if (o.status !== 'planned') continue;
      o.status = 'cancelled';
      o.reason = reason;
      o.updatedAt = e.clock.now();
      this.timers.get(o.request.ref)?.cancel();
      this.timers.delete(o.request.ref);
      out.push(e.tracker.toRecord(o));
    }
    return out;
  }

  /** Asks the broker to cancel every sent, still open order of the strategy. */
  cancelWorking(id: StrategyId, reason: string): void {
    const e = this.engine;
    for (const o of e.tracker.openOf(id)) {
      if (o.status === 'planned' || o.orderId === null) continue;
      e.emit({ kind: 'note', at: e.clock.now(), strategyId: id, text: `cancelling ${o.request.ref}: ${reason}` });
      void e.enqueue(() => this.requestCancel(o));
    }
  }

  // ---------------------------------------------------------------- results

  /** One of the guard's own fills: the book moves for the strategy that sent the order, once per execution. */
  async applyOwnFill(o: TrackedOrder, x: ExecutionReport): Promise<void> {
    const e = this.engine;
    const id = o.request.strategyId;
    const key = contractKey(x.contract);
    const signedQty: number = x.side === 'BUY' ? x.qty : 0 - x.qty;
    const before = e.book.holding(id, key);
    const after = before + signedQty;
    const crossed = !Qty.reduces(before, Qty.unsafe(after));
    e.book.apply(id, x.contract, signedQty);
    o.legFilled.set(key, (o.legFilled.get(key) ?? 0) + signedQty);
    o.lastActivity = e.clock.now();
    const rt = e.strategies.get(id)!;
    const alerts: Alert[] = [];
    if (crossed) {
      // The gate passed this order against the holdings of its time; the holdings changed while it worked (an
      // assignment raced the close). The fill is real, so the book takes it, and the close is re-planned from it.
      alerts.push(
        e.makeAlert('critical', `crossed:${x.execId}`, `RACE: ${describeContract(x.contract)} on ${id}`, `${id}: fill ${x.side} ${x.qty} ${describeContract(x.contract)} of ${o.request.ref} took the holding from ${before} to ${after} because the position changed while the order worked. Re-planning the close.`, id, rt.incidentId, { strategyId: id, execId: x.execId }),
      );
    }
    await e.commit({
      strategies: [e.record(rt)],
      journal: [e.journal('fill', `exec:${x.execId}`, x, id, rt.incidentId)],
      alerts,
    });
    e.raise(alerts);
    e.deps.crashPoint?.('fill-applied');
    e.emit({ kind: 'order-update', at: e.clock.now(), order: o, status: o.status, reason: `fill ${x.side} ${x.qty} ${describeContract(x.contract)} @ ${x.price}` });
    await this.settle(rt);
  }

  async onStatus(o: TrackedOrder, s: OrderStatusReport): Promise<void> {
    const e = this.engine;
    const rt = e.strategies.get(o.request.strategyId)!;
    const prev = o.status;
    if (isTerminalOrderStatus(prev as OrderStatus) && !isTerminalOrderStatus(s.status)) {
      // Reports can arrive after a reconciliation already saw the order finish: never move back.
      return;
    }
    o.status = s.status;
    o.filledUnits = Math.max(o.filledUnits, s.filledQty);
    o.avgFillPrice = s.avgFillPrice ?? o.avgFillPrice;
    o.reason = s.reason ?? o.reason;
    o.lastActivity = e.clock.now();
    if (prev !== s.status) e.emit({ kind: 'order-update', at: e.clock.now(), order: o, status: s.status, reason: s.reason });
    this.markDirty(o);
    if (s.status === 'filled' || s.status === 'cancelled' || s.status === 'rejected') {
      this.timers.get(o.request.ref)?.cancel();
      this.timers.delete(o.request.ref);
      this.cancelling.delete(o.request.ref);
    }
    if (s.status === 'rejected') await this.afterReject(rt, o);
    else if (s.status === 'cancelled') await this.settle(rt);
    else if (s.status === 'filled') await this.settle(rt);
  }

  private async afterReject(rt: StrategyRuntime, o: TrackedOrder): Promise<void> {
    const e = this.engine;
    if (!rt.closing) return;
    rt.closing.rejects++;
    e.emit({ kind: 'note', at: e.clock.now(), strategyId: rt.def.id, text: `${o.request.ref} rejected (${rt.closing.rejects}/${e.config.maxRejects}): ${o.reason ?? 'no reason given'}` });
    if (rt.closing.rejects >= e.config.maxRejects) {
      await this.giveUp(rt, `${rt.closing.rejects} rejects; last: ${o.reason ?? 'no reason given'}`);
      return;
    }
    // Try again after a pause that grows with each reject.
    const at = EpochMs.unsafe(e.clock.now() + 1000 * rt.closing.rejects);
    this.retryTimers.get(rt.def.id)?.cancel();
    this.retryTimers.set(
      rt.def.id,
      e.clock.setTimer(at, () => {
        this.retryTimers.delete(rt.def.id);
        void e.enqueue(() => this.settle(rt));
      }),
    );
  }

  /**
   * Where a close stands after anything happened to it: flat -> CLOSED; nothing open but something held -> plan
   * the rest (a new revision); a hedge whose stock is done -> NEEDS_ATTENTION for the options a person keeps.
   */
  async settle(rt: StrategyRuntime): Promise<void> {
    const e = this.engine;
    const id = rt.def.id;
    if (rt.state !== 'EMERGENCY_CLOSING' && rt.state !== 'CLOSING') return;
    if (e.book.isFlat(id)) {
      const c = e.move(rt, 'flat', rt.closing?.purpose === 'normal' ? 'closed' : 'emergency close complete: flat');
      const alerts: Alert[] = [];
      if (rt.closing?.purpose === 'emergency' && rt.incidentId) {
        alerts.push(
          e.makeAlert('info', `closed:${rt.incidentId}`, `CLOSED: ${id} is flat`, `${id}: every remaining position was closed after ${rt.incidentId}.`, id, rt.incidentId, { strategyId: id }),
        );
      }
      rt.closing = null;
      await e.commit({ strategies: [e.record(rt)], stateChanges: c ? [c] : [], alerts });
      e.raise(alerts);
      return;
    }
    if (e.tracker.openOf(id).length > 0) return;
    // An order reported filled whose executions are not all in yet: its fills are not in the holdings, and a re-plan
    // now would close again what the broker already closed (a naked short from the guard's own double close).
    const owedUntil = e.tracker.executionsOwedUntil(id, e.config.correlationWindowMs);
    if (owedUntil !== null && owedUntil > e.clock.now()) {
      this.owedTimers.get(id)?.cancel();
      this.owedTimers.set(
        id,
        e.clock.setTimer(owedUntil, () => {
          this.owedTimers.delete(id);
          void e.enqueue(() => this.settle(rt));
        }),
      );
      return;
    }
    if (!rt.closing) return;
    if (rt.closing.mode === 'hedge' && !e.book.holdings(id).some((h) => h.contract.secType === 'STK')) {
      await this.giveUp(rt, 'stock hedged (policy: hedge); the options are left for a person to decide', 'warning');
      return;
    }
    if (!e.isConnected) return;
    rt.closing.revision++;
    const planned = await this.plan(rt);
    if (planned.walkOver !== null) {
      await this.giveUp(rt, `no fill within the price walk's bound for ${planned.walkOver}`);
      return;
    }
    if (planned.orders.length === 0) {
      if (planned.blocked.length > 0 && planned.blocked.every((b) => b.worthlessLong)) {
        await this.waitForBid(rt, planned.blocked);
        return;
      }
      await this.giveUp(rt, planned.blocked.length > 0 ? `cannot price: ${describeBlocked(planned.blocked)}` : `holds ${describeHoldings(e.book.holdings(id))} and no order could be planned`);
      return;
    }
    await e.commit({
      orders: planned.orders.map((o) => e.tracker.toRecord(o)),
      journal: planned.orders.map((o) => e.journal('order', `plan:${o.request.ref}`, o.request, id, rt.incidentId)),
    });
    this.schedule(rt, planned.orders);
  }

  /**
   * Only long options nobody bids for are left: they risk nothing more than their (nil) value. The strategy stays
   * EMERGENCY_CLOSING; they are offered again when the market has a bid, and otherwise expire (the clearing house's
   * report of it makes the strategy flat). One warning says so.
   */
  private async waitForBid(rt: StrategyRuntime, blocked: readonly Blocked[]): Promise<void> {
    const e = this.engine;
    const id = rt.def.id;
    const key = `worthless:${rt.incidentId ?? id}`;
    if (!this.warned.has(key)) {
      this.warned.add(key);
      const alert = e.makeAlert(
        'warning',
        key,
        `LEFT TO EXPIRE: ${blocked.map((b) => `+${b.qty} ${describeContract(b.contract)}`).join(', ')} on ${id}`,
        `${id}: everything at risk is closed. ${describeBlocked(blocked)}: nobody bids, so they are left to expire worthless and sold if a bid appears.`,
        id,
        rt.incidentId,
        { strategyId: id },
      );
      await e.commit({ alerts: [alert] });
      e.raise([alert]);
    }
    const now = e.clock.now();
    const at = EpochMs.unsafe(Math.max(nextOpen(now, 'option'), now + BID_RECHECK_MS));
    this.bidTimers.get(id)?.cancel();
    this.bidTimers.set(
      id,
      e.clock.setTimer(at, () => {
        this.bidTimers.delete(id);
        void e.enqueue(() => this.settle(rt));
      }),
    );
  }

  /** The close cannot complete without a person: cancel what is open, NEEDS_ATTENTION, critical alert. */
  private async giveUp(rt: StrategyRuntime, reason: string, severity: 'critical' | 'warning' = 'critical'): Promise<void> {
    const e = this.engine;
    const id = rt.def.id;
    const cancelled = this.cancelPlanned(id, `gave up: ${reason}`);
    this.cancelWorking(id, 'gave up');
    const c = e.move(rt, 'gave-up', reason);
    const alert = e.makeAlert(
      severity,
      `attention:${rt.incidentId ?? id}:${e.clock.now()}`,
      `NEEDS ATTENTION: ${id}`,
      `${id} needs a person: ${reason}. It still holds ${describeHoldings(e.book.holdings(id))}.`,
      id,
      rt.incidentId,
      { strategyId: id, reason },
    );
    await e.commit({ strategies: [e.record(rt)], stateChanges: c ? [c] : [], orders: cancelled, alerts: [alert] });
    e.raise([alert]);
  }

  // ---------------------------------------------------------------- recovery

  /**
   * Matches the broker's working orders with the guard's by orderRef: an order the store has as planned but the
   * broker already has (sent just before a crash) is adopted, never sent again; an order the store thinks is working
   * but the broker does not have, with no fill, is marked cancelled so the close is re-planned; an `lg/` order the
   * store does not know is an orphan: cancelled and reported.
   */
  async reconcileOrders(r: ReconcileResult): Promise<string[]> {
    const e = this.engine;
    const notes: string[] = [];
    for (const m of r.matchedOrders) {
      const o = e.tracker.get(m.ref);
      if (!o) continue;
      this.missing.delete(o.request.ref);
      if (o.orderId === null) e.tracker.setOrderId(o, m.orderId);
      if (o.status === 'planned') notes.push(`order ${m.ref} was already at the broker: adopted, not re-sent`);
      o.status = m.broker.status;
      o.filledUnits = Math.max(o.filledUnits, m.broker.filledQty);
      o.lastActivity = e.clock.now();
      this.markDirty(o);
      if (!this.timers.has(o.request.ref)) this.armFillTimeout(o);
    }
    for (const d of r.discrepancies) {
      if (d.kind !== 'orphan-order' || d.orderRef === null) continue;
      if (d.where === 'broker') {
        // Working at the broker under a legguard ref the guard does not know: cancel it, it was not planned here.
        if (d.orderId !== null && !d.key.endsWith(':executed')) {
          notes.push(`cancelling orphan order ${d.orderRef} (${d.orderId})`);
          await e.deps.broker.cancelOrder(d.orderId).catch(() => undefined);
        }
        continue;
      }
      const o = e.tracker.get(d.orderRef);
      if (!o || !isOpenStatus(o.status)) continue;
      const executed = Math.max(o.filledUnits, d.executedUnits ?? 0);
      if (o.status === 'planned') {
        // Written ahead and executed before the guard knew it went out (a crash right after sending): never again.
        notes.push(`order ${o.request.ref} went out before the crash and executed ${executed} unit(s): not re-sent`);
        o.status = 'filled';
        o.filledUnits = executed;
        this.markDirty(o);
        continue;
      }
      // Sent, but not among the broker's working orders. Executed in full: done. Otherwise a snapshot may simply
      // have missed it, and re-planning while it still works could close twice: ask the broker to cancel it, and
      // count it cancelled only when a second reconciliation misses it too.
      if (executed >= o.request.quantity) {
        o.status = 'filled';
        o.filledUnits = executed;
        this.markDirty(o);
        continue;
      }
      const misses = (this.missing.get(o.request.ref) ?? 0) + 1;
      this.missing.set(o.request.ref, misses);
      if (misses < 2) {
        notes.push(`order ${o.request.ref}: cancel requested, confirming at the next reconciliation`);
        await this.requestCancel(o);
        continue;
      }
      this.missing.delete(o.request.ref);
      o.status = 'cancelled';
      o.filledUnits = executed;
      o.reason = o.reason ?? 'not working at the broker at two reconciliations';
      notes.push(`order ${o.request.ref} no longer working at the broker: cancelled`);
      this.markDirty(o);
    }
    // Fill effects: orders loaded from the store have no per-leg fill record; their fills are in the book already.
    for (const o of e.tracker.all()) {
      if (o.legFilled.size === 0 && o.filledUnits > 0) {
        for (const leg of o.request.legs) o.legFilled.set(contractKey(leg.contract), legEffect(leg, o.filledUnits));
      }
    }
    return notes;
  }

  /**
   * After start-up or a reconnect: every strategy the guard owes work resumes. Planned orders that never went out
   * are scheduled again; a close with nothing open is re-planned from the book.
   */
  async resumeAll(reason: string): Promise<void> {
    const e = this.engine;
    for (const rt of e.strategies.values()) {
      if (rt.state === 'BROKEN') {
        // Broke, but the decision's orders were never planned (crash in between): decide again.
        const cause = rt.broken?.cause ?? 'unknown';
        const policy = rt.def.policy ?? e.config.policies[cause] ?? e.config.onAssignment;
        if (policy === 'alert') continue;
        rt.closing = { purpose: 'emergency', mode: policy === 'hedge' ? 'hedge' : 'close', incidentKey: rt.incidentId ?? `${rt.def.id}:resume`, revision: 0, rejects: 0, walkStep: 0, latencyFrom: null };
        const c = e.move(rt, 'emergency-started', `resumed at ${reason}`);
        await e.commit({ strategies: [e.record(rt)], stateChanges: c ? [c] : [] });
      }
      if (rt.state !== 'EMERGENCY_CLOSING' && rt.state !== 'CLOSING') continue;
      if (!rt.closing) {
        const cause = rt.broken?.cause ?? 'unknown';
        const policy = rt.def.policy ?? e.config.policies[cause] ?? e.config.onAssignment;
        const refs = e.tracker.ofStrategy(rt.def.id).map((o) => o.request.ref);
        const revision = refs.length;
        rt.closing = {
          purpose: rt.state === 'CLOSING' ? 'normal' : 'emergency',
          mode: policy === 'hedge' ? 'hedge' : 'close',
          incidentKey: rt.incidentId ?? `exit-${rt.updatedAt}`,
          revision,
          rejects: 0,
          walkStep: 0,
          latencyFrom: null,
        };
      }
      const unsent = e.tracker.openOf(rt.def.id).filter((o) => o.status === 'planned');
      e.emit({ kind: 'note', at: e.clock.now(), strategyId: rt.def.id, text: `resuming ${rt.state} (${reason}): ${unsent.length} planned order(s) not yet sent` });
      this.schedule(rt, unsent);
      await this.settle(rt);
    }
  }
}

interface Blocked {
  readonly contract: Contract;
  readonly qty: number;
  readonly reason: string;
  readonly worthlessLong: boolean;
}

interface PlanOutcome {
  readonly orders: TrackedOrder[];
  readonly blocked: readonly Blocked[];
  /** The order whose price walk is past its bound, or null. */
  readonly walkOver: string | null;
}

/** How often a strategy left with only unbid long options looks for a bid again. */
const BID_RECHECK_MS = 30 * 60_000;

function describeBlocked(bs: readonly Blocked[]): string {
  return bs.map((b) => `${b.qty > 0 ? '+' : ''}${b.qty} ${describeContract(b.contract)} (${b.reason})`).join(', ');
}

export function describeOrder(r: OrderRequest): string {
  const legs = r.legs.map((l) => `${l.action} ${l.ratio * r.quantity} ${describeContract(l.contract)}`).join(' + ');
  const price = r.orderType === 'MKT' || r.limitPrice === null ? 'MKT' : `LMT ${r.limitPrice.toFixed(2)}`;
  return `${legs} ${price}${r.outsideRth ? ' (outside RTH)' : ''}`;
}
