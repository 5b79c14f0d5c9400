import { contractKey, type Contract } from '../core/contract.js';
import type { BrokerEvent, ExecutionReport, OrderStatusReport } from '../core/events.js';
import type { ContractKey, OrderRef, StrategyId } from '../core/ids.js';
import { isLegguardRef, legEffect, parseOrderRef } from '../core/order.js';
import type { EpochMs, Qty } from '../core/quantity.js';
import type { StorePort } from '../ports/store.js';
import type { ChangeDetector } from './change-detector.js';
import type { LinkWatch } from './link-watch.js';
import type { Closer } from './closer.js';
import type { EngineContext } from './engine-host.js';
import type { MarketData } from './market-data.js';
import { OrderTracker, type TrackedOrder } from './order-tracker.js';
import type { ReconciliationStep } from './reconciliation-step.js';

/** What handling a broker event works with besides the engine context. */
export interface BrokerEventDeps {
  readonly store: Pick<StorePort, 'orders'>;
  /** The broker's last reported net position per contract, which a position report replaces. */
  readonly brokerPositions: Map<ContractKey, { contract: Contract; qty: Qty; at: EpochMs }>;
  readonly closer: Closer;
  readonly detector: ChangeDetector;
  readonly reconciliation: () => ReconciliationStep;
  readonly market: MarketData;
  /** Tells a person when the link stays down (link-watch.ts). */
  readonly link: LinkWatch;
}

/**
 * One broker event, in the engine's serial queue: a position report becomes the broker's known position and goes to
 * the detector; an execution of the guard's own order moves the book for its strategy (once per execution id), any
 * other is kept for the detector; an order status goes through the order state machine; a reconnect reconciles and
 * resumes every close; quotes feed the market data; commissions and notices are journaled. Each strategy's part runs
 * isolated (step-isolation.ts).
 */
export class BrokerEvents {
  /** Whether the broker link is up, as the last connection event (or the start) said. */
  connected = false;

  constructor(
    private readonly ctx: EngineContext,
    private readonly d: BrokerEventDeps,
  ) {}

  /** Handles one broker event; `perf` is the real time it reached the guard. */
  async handle(e: BrokerEvent, perf: number): Promise<void> {
    if (e.kind === 'position') {
      const known = this.d.brokerPositions.get(contractKey(e.contract));
      // A report older than what a reconciliation already saw (it waited in the queue behind the snapshot) would
      // put back a position that is gone: skip it.
      if (known && e.tsEvent < known.at) return;
      if (known?.qty !== e.qty) this.ctx.emit({ kind: 'broker-event', at: this.ctx.clock.now(), event: e });
    } else if (e.kind !== 'quote') {
      this.ctx.emit({ kind: 'broker-event', at: this.ctx.clock.now(), event: e });
    }
    switch (e.kind) {
      case 'position':
        this.d.brokerPositions.set(contractKey(e.contract), { contract: e.contract, qty: e.qty, at: e.tsEvent });
        // Examined in a step behind the reports already queued: a burst is looked at once (change-detector.ts).
        this.d.detector.examineSoon(contractKey(e.contract), perf);
        return;
      case 'execution':
        await this.onExecution(e, perf);
        return;
      case 'order-status':
        await this.onOrderStatus(e);
        return;
      case 'connection':
        await this.onConnection(e.state, e.dataLost, e.reason);
        return;
      case 'quote':
        this.d.market.onQuote(e);
        return;
      case 'commission': {
        // A closing fill's commission goes to its incident's cost (and the report is journaled under the incident).
        const costed = this.ctx.costs.onCommission(e, this.ctx.clock.now());
        await this.ctx.commit({
          journal: [this.ctx.journal('broker-event', `commission:${e.execId}`, e, costed?.strategyId ?? null, costed?.incidentId ?? null), ...(costed?.journal ?? [])],
        });
        return;
      }
      case 'notice':
        await this.ctx.commit({ journal: [this.ctx.journal('broker-event', `${e.kind}:${e.code}:${e.tsEvent}`, e)] });
        // A notice may refuse an exercise the guard asked for (the closer sells instead).
        await this.d.closer.onNotice(e);
        return;
    }
  }

  private async onExecution(e: ExecutionReport, perf: number): Promise<void> {
    if (!this.ctx.tracker.firstSight(e.execId)) return;
    const key = contractKey(e.contract);
    const own = isLegguardRef(e.orderRef) ? (this.ctx.tracker.get(e.orderRef!) ?? (await this.orderFromStore(e.orderRef!))) : undefined;
    if (own) {
      await this.ctx.isolated(own.request.strategyId, 'fill', () => this.d.closer.applyOwnFill(own, e));
    } else {
      if (isLegguardRef(e.orderRef)) {
        this.ctx.log('warn', `execution ${e.execId} carries legguard ref ${e.orderRef} that neither this guard nor its store knows`);
      }
      this.d.detector.addForeign(e);
      await this.ctx.commit({ journal: [this.ctx.journal('broker-event', `exec:${e.execId}`, e)] });
    }
    await this.d.detector.examine([key], perf);
  }

  /**
   * An order the store has but the tracker does not: one that ended (filled, say) before a restart, whose last
   * executions arrive only now. Loaded so the fill is applied as the guard's own, never taken for a manual trade.
   */
  async orderFromStore(ref: OrderRef): Promise<TrackedOrder | undefined> {
    const parsed = parseOrderRef(ref);
    if (!parsed || !this.ctx.strategies.has(parsed.strategyId as StrategyId)) return undefined;
    const rows = await this.d.store.orders({ account: this.ctx.account, strategyId: parsed.strategyId as StrategyId });
    const row = rows.find((r) => r.request.ref === ref);
    if (!row) return undefined;
    const o = OrderTracker.fromRecord(row, this.ctx.clock.now());
    // Its earlier fills are in the book already: count them as applied, so only the new execution moves it.
    for (const leg of o.request.legs) o.legFilled.set(contractKey(leg.contract), legEffect(leg, o.filledUnits));
    this.ctx.tracker.add(o);
    return o;
  }

  private async onOrderStatus(e: OrderStatusReport): Promise<void> {
    const o = this.ctx.tracker.byOrderId(e.orderId) ?? (e.orderRef ? this.ctx.tracker.get(e.orderRef) : undefined);
    if (!o) {
      if (isLegguardRef(e.orderRef)) this.ctx.log('warn', `status for unknown legguard order ${e.orderRef}`);
      return;
    }
    await this.ctx.isolated(o.request.strategyId, 'order status', () => this.d.closer.onStatus(o, e));
  }

  private async onConnection(state: 'connected' | 'disconnected', dataLost: boolean, reason: string | null): Promise<void> {
    const at = this.ctx.clock.now();
    if (state === 'disconnected') {
      this.connected = false;
      this.d.link.down(reason);
      this.ctx.emit({ kind: 'note', at, strategyId: null, text: `broker disconnected${reason ? `: ${reason}` : ''}` });
      await this.ctx.commit({ journal: [this.ctx.journal('note', `conn:${at}:down`, { state, reason })] });
      return;
    }
    const was = this.connected;
    this.connected = true;
    await this.d.link.up();
    this.ctx.emit({ kind: 'note', at, strategyId: null, text: `broker connected${dataLost ? ' (data lost)' : ''}` });
    if (!was || dataLost) {
      await this.d.reconciliation().reconcileNow('reconnect');
      await this.d.closer.resumeAll('reconnect');
    }
  }
}
