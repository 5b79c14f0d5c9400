import { contractKey, describeContract } from '../core/contract.js';
import { nextOpen } from '../core/calendar.js';
import { describeCost, type IncidentCost } from '../core/incident-cost.js';
import type { ExecutionReport, OrderStatusReport } from '../core/events.js';
import type { StrategyId } from '../core/ids.js';
import { EpochMs, Qty } from '../core/quantity.js';
import type { Alert } from '../ports/alerts.js';
import type { TimerHandle } from '../ports/clock.js';
import { describeBlocked, type Blocked, type ClosePlanner } from './close-planner.js';
import { journalEntry, makeAlert, moveStrategy, strategyRecord, type EngineHost, type StrategyRuntime } from './engine-host.js';
import { describeHoldings } from './incident.js';
import type { Exerciser } from './exerciser.js';
import { exerciseJournal } from './exercise-journal.js';
import { planJournal } from './plan-journal.js';
import type { OrderSender } from './order-sender.js';
import { isOpenStatus, type TrackedOrder } from './order-tracker.js';

/** How often a strategy left with only unbid long options looks for a bid again. */
const BID_RECHECK_MS = 30 * 60_000;

/**
 * The order lifecycle of a close: the guard's own fills into the book, broker status reports through the order
 * state machine, rejects and their retries, settling (flat -> CLOSED, nothing open -> re-plan), waiting for a bid,
 * giving up to NEEDS_ATTENTION.
 */
export class OrderLifecycle {
  private readonly bidTimers = new Map<StrategyId, TimerHandle>();
  private readonly retryTimers = new Map<StrategyId, TimerHandle>();
  /** Per strategy: the settle due when the wait for executions owed by finished orders runs out. */
  private readonly owedTimers = new Map<StrategyId, TimerHandle>();
  private readonly warned = new Set<string>();

  constructor(
    private readonly host: EngineHost,
    private readonly planner: ClosePlanner,
    private readonly sender: OrderSender,
    private readonly exerciser: Exerciser,
  ) {}

  stop(): void {
    for (const t of this.bidTimers.values()) t.cancel();
    this.bidTimers.clear();
    for (const t of this.retryTimers.values()) t.cancel();
    this.retryTimers.clear();
    for (const t of this.owedTimers.values()) t.cancel();
    this.owedTimers.clear();
  }

  /** One of the guard's own fills: the book moves for the strategy that sent the order, once per execution. */
  async applyOwnFill(o: TrackedOrder, x: ExecutionReport): Promise<void> {
    const e = this.host;
    const id = o.request.strategyId;
    const key = contractKey(x.contract);
    const signedQty: number = x.side === 'BUY' ? x.qty : 0 - x.qty;
    const before = e.book.holding(id, key);
    const after = before + signedQty;
    const crossed = !Qty.reduces(before, Qty.unsafe(after));
    e.applyOwnExecution(id, x.contract, signedQty);
    o.legFilled.set(key, (o.legFilled.get(key) ?? 0) + signedQty);
    o.lastActivity = e.clock.now();
    const rt = e.strategies.get(id)!;
    const alerts: Alert[] = [];
    if (crossed) {
      // The gate passed this order against the holdings of its time; the holdings changed while it worked (an
      // assignment raced the close). The fill is real, so the book takes it, and the close is re-planned from it.
      alerts.push(
        makeAlert(e, 'critical', `crossed:${x.execId}`, `RACE: ${describeContract(x.contract)} on ${id}`, `${id}: fill ${x.side} ${x.qty} ${describeContract(x.contract)} of ${o.request.ref} took the holding from ${before} to ${after} because the position changed while the order worked. Re-planning the close.`, id, rt.incidentId, { strategyId: id, execId: x.execId }),
      );
    }
    // The fill's part of its incident's cost, written with the fill itself.
    const costed = e.costs.onOwnFill(o.request.incidentId, o.request.ref, x);
    await e.commit({
      strategies: [strategyRecord(e.book, rt)],
      journal: [journalEntry(e, 'fill', `exec:${x.execId}`, x, id, rt.incidentId), ...(costed === null ? [] : [costed])],
      alerts,
    });
    e.raise(alerts);
    e.crashPoint('fill-applied');
    e.emit({ kind: 'order-update', at: e.clock.now(), order: o, status: o.status, reason: `fill ${x.side} ${x.qty} ${describeContract(x.contract)} @ ${x.price}` });
    await this.settle(rt);
  }

  async onStatus(o: TrackedOrder, s: OrderStatusReport): Promise<void> {
    const e = this.host;
    const rt = e.strategies.get(o.request.strategyId)!;
    const prev = o.status;
    // Reports can arrive after a reconciliation already saw the order finish: the machine never moves it back.
    if (!this.sender.step(o, { kind: 'broker-status', status: s.status, filledUnits: s.filledQty })) return;
    o.avgFillPrice = s.avgFillPrice ?? o.avgFillPrice;
    o.reason = s.reason ?? o.reason;
    o.lastActivity = e.clock.now();
    if (prev !== o.status) e.emit({ kind: 'order-update', at: e.clock.now(), order: o, status: o.status, reason: s.reason });
    this.sender.markDirty(o);
    if (!isOpenStatus(o.status)) {
      this.sender.clearTimer(o.request.ref);
    }
    if (o.status === 'rejected' && prev !== 'rejected') await this.afterReject(rt, o);
    else if (!isOpenStatus(o.status)) await this.settle(rt);
  }

  async afterReject(rt: StrategyRuntime, o: TrackedOrder): Promise<void> {
    const e = this.host;
    // A reject of an order cancelled on giving up is no news: the strategy already waits for a person (and its alert).
    if (!rt.closing || rt.state === 'NEEDS_ATTENTION') return;
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
        void e.enqueue(() => e.isolated(rt.def.id, 'settle', () => this.settle(rt)));
      }),
    );
  }

  /**
   * Where a close stands after anything happened to it: flat -> CLOSED; nothing open but something held -> plan
   * the rest (a new revision); a hedge whose stock is done -> NEEDS_ATTENTION for the options a person keeps.
   */
  async settle(rt: StrategyRuntime): Promise<void> {
    const e = this.host;
    const id = rt.def.id;
    if (rt.state !== 'EMERGENCY_CLOSING' && rt.state !== 'CLOSING') return;
    if (e.book.isFlat(id)) {
      const c = moveStrategy(e, rt, 'flat', rt.closing?.purpose === 'normal' ? 'closed' : 'emergency close complete: flat');
      const alerts: Alert[] = [];
      // The incident's close is complete: what it cost is kept, and said in the alert that says so.
      const costNote = rt.closing?.purpose === 'emergency' ? e.costs.closed(rt.incidentId, e.clock.now()) : null;
      const cost = costNote === null || rt.incidentId === null ? null : e.costs.cost(rt.incidentId);
      if (rt.closing?.purpose === 'emergency' && rt.incidentId) {
        alerts.push(
          makeAlert(
            e,
            'info',
            `closed:${rt.incidentId}`,
            `CLOSED: ${id} is flat`,
            `${id}: every remaining position was closed after ${rt.incidentId}.${cost === null ? '' : `\n${describeCost(cost)}`}`,
            id,
            rt.incidentId,
            { strategyId: id, ...costFacts(cost) },
          ),
        );
      }
      rt.closing = null;
      await e.commit({ strategies: [strategyRecord(e.book, rt)], stateChanges: c ? [c] : [], alerts, journal: costNote === null ? [] : [costNote] });
      e.raise(alerts);
      return;
    }
    if (e.tracker.openOf(id).length > 0) return;
    // An exercise or lapse outstanding: its position reports (or its refusal) decide what comes next.
    if (this.exerciser.outstanding(id).length > 0) return;
    // An order reported filled whose executions are not all in yet: its fills are not in the holdings, and a re-plan
    // now would close again what the broker already closed (a naked short from the guard's own double close).
    const owedUntil = e.tracker.executionsOwedUntil(id, e.config.correlationWindowMs);
    if (owedUntil !== null && owedUntil > e.clock.now()) {
      this.owedTimers.get(id)?.cancel();
      this.owedTimers.set(
        id,
        e.clock.setTimer(owedUntil, () => {
          this.owedTimers.delete(id);
          void e.enqueue(() => e.isolated(rt.def.id, 'settle', () => this.settle(rt)));
        }),
      );
      return;
    }
    if (!rt.closing) return;
    if (rt.closing.mode === 'hedge' && !e.book.holdings(id).some((h) => h.contract.secType === 'STK')) {
      await this.giveUp(rt, 'stock hedged (policy: hedge); the options are left for a person to decide', 'warning');
      return;
    }
    if (!e.isConnected()) return;
    rt.closing.revision++;
    const planned = await this.planner.plan(rt);
    if (planned.walkOver !== null) {
      await this.giveUp(rt, `no fill within the price walk's bound for ${planned.walkOver}`);
      return;
    }
    if (planned.orders.length === 0 && planned.exercises.length === 0) {
      if (planned.blocked.length > 0 && planned.blocked.every((b) => b.worthlessLong)) {
        await this.waitForBid(rt, planned.blocked);
        return;
      }
      await this.giveUp(rt, planned.blocked.length > 0 ? `cannot price: ${describeBlocked(planned.blocked)}` : `holds ${describeHoldings(e.book.holdings(id))} and no order could be planned`);
      return;
    }
    await e.commit({
      orders: planned.orders.map((o) => e.tracker.toRecord(o)),
      journal: [
        ...planned.orders.map((o) => planJournal(e, o.request, id, rt.incidentId)),
        ...planned.exercises.map((x) => exerciseJournal(e, x, rt.incidentId)),
      ],
    });
    this.exerciser.schedule(rt, planned.exercises);
    this.sender.schedule(rt, planned.orders);
  }

  /**
   * Only long options nobody bids for are left: they risk nothing more than their (nil) value. The strategy stays
   * EMERGENCY_CLOSING; they are offered again when the market has a bid, and otherwise expire (the clearing house's
   * report of it makes the strategy flat). One warning says so.
   */
  private async waitForBid(rt: StrategyRuntime, blocked: readonly Blocked[]): Promise<void> {
    const e = this.host;
    const id = rt.def.id;
    const key = `worthless:${rt.incidentId ?? id}`;
    if (!this.warned.has(key)) {
      this.warned.add(key);
      const alert = makeAlert(e, 
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
        void e.enqueue(() => e.isolated(rt.def.id, 'settle', () => this.settle(rt)));
      }),
    );
  }

  /** The close cannot complete without a person: cancel what is open, NEEDS_ATTENTION, critical alert. */
  async giveUp(rt: StrategyRuntime, reason: string, severity: 'critical' | 'warning' = 'critical'): Promise<void> {
    const e = this.host;
    const id = rt.def.id;
    const cancelled = this.sender.cancelPlanned(id, `gave up: ${reason}`);
    this.sender.cancelWorking(id, 'gave up');
    const c = moveStrategy(e, rt, 'gave-up', reason);
    // What the incident cost so far is kept (status, the dashboard); a person finishes it.
    const costNote = e.costs.closed(rt.incidentId, e.clock.now());
    const alert = makeAlert(e, 
      severity,
      `attention:${rt.incidentId ?? id}:${e.clock.now()}`,
      `NEEDS ATTENTION: ${id}`,
      `${id} needs a person: ${reason}. It still holds ${describeHoldings(e.book.holdings(id))}.`,
      id,
      rt.incidentId,
      { strategyId: id, reason },
    );
    await e.commit({ strategies: [strategyRecord(e.book, rt)], stateChanges: c ? [c] : [], orders: cancelled, alerts: [alert], journal: costNote === null ? [] : [costNote] });
    e.raise([alert]);
  }
}

/** The cost's figures as alert facts (a channel's template or a webhook's JSON can use them); none when not costed. */
function costFacts(c: IncidentCost | null): Record<string, number | null> {
  if (c === null) return {};
  return { costTotal: c.total, valueBeforeBreak: c.valueBeforeBreak, breakCash: c.breakCash, realized: c.realized, slippage: c.slippage, commissions: c.commissions };
}
