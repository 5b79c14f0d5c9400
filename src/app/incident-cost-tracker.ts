import type { Holding } from '../core/book.js';
import type { Contract } from '../core/contract.js';
import { contractKey } from '../core/contract.js';
import type { AccountId, IncidentId, StrategyId } from '../core/ids.js';
import type { EpochMs } from '../core/quantity.js';
import type { JournalEntry } from '../ports/store.js';
import { incidentCost, midOf, type ClosingFill, type HeldAtDetection, type IncidentCost } from '../core/incident-cost.js';
import type { TimelineEntry } from '../engine/timeline.js';

export interface CostSources {
  /** The market's quote for a contract now, or null. */
  quote(c: Contract): { readonly bid: number | null; readonly ask: number | null; readonly last: number | null } | null;
  /** What a strategy holds now (the engine's book). */
  holdings(id: StrategyId): readonly Holding[];
}

/**
 * Follows a guard's timeline and prices each incident's close (core/incident-cost.ts): what the strategy held when it
 * went BROKEN, marked at mid then; each closing order's legs at mid when it went out; each fill as it came.
 */
export class IncidentCostTracker {
  private readonly lastIncident = new Map<string, string>();
  private readonly incidents = new Map<string, { strategyId: string; held: readonly HeldAtDetection[]; fills: ClosingFill[] }>();
  private readonly orders = new Map<string, { incidentId: string; mids: Map<string, number | null> }>();

  constructor(private readonly sources: CostSources) {}

  private mid(c: Contract): number | null {
    const q = this.sources.quote(c);
    return q === null ? null : midOf(q.bid, q.ask, q.last);
  }

  observe(e: TimelineEntry): void {
    switch (e.kind) {
      case 'detection':
        if (e.incidentId !== null && e.detection.strategyId !== null) this.lastIncident.set(e.detection.strategyId, e.incidentId);
        return;
      case 'state': {
        const incidentId = this.lastIncident.get(e.strategyId);
        if (e.to !== 'BROKEN' || incidentId === undefined || this.incidents.has(incidentId)) return;
        const held = this.sources.holdings(e.strategyId).map((h) => ({ contract: h.contract, qty: h.qty, mid: this.mid(h.contract) }));
        this.incidents.set(incidentId, { strategyId: e.strategyId, held, fills: [] });
        return;
      }
      case 'order-planned': {
        // A live guard asks for the quotes it plans with: a mark unknown when the strategy broke is known by now.
        const r = e.order.request;
        const i = r.incidentId === null ? undefined : this.incidents.get(r.incidentId);
        if (i !== undefined) i.held = i.held.map((h) => (h.mid === null ? { ...h, mid: this.mid(h.contract) } : h));
        return;
      }
      case 'order-sent': {
        const r = e.order.request;
        if (r.incidentId === null || !this.incidents.has(r.incidentId)) return;
        this.orders.set(r.ref, { incidentId: r.incidentId, mids: new Map(r.legs.map((l) => [contractKey(l.contract), this.mid(l.contract)])) });
        return;
      }
      case 'broker-event': {
        const x = e.event;
        if (x.kind !== 'execution' || x.orderRef === null) return;
        const o = this.orders.get(x.orderRef);
        if (o === undefined) return;
        this.incidents.get(o.incidentId)?.fills.push({
          ref: x.orderRef,
          contract: x.contract,
          qty: (x.side === 'BUY' ? 1 : -1) * x.qty,
          price: x.price,
          midAtSend: o.mids.get(contractKey(x.contract)) ?? null,
        });
        return;
      }
      default:
        return;
    }
  }

  /** What each strategy held when it first broke. */
  heldAtBreak(): Map<string, readonly HeldAtDetection[]> {
    const out = new Map<string, readonly HeldAtDetection[]>();
    for (const i of this.incidents.values()) if (!out.has(i.strategyId)) out.set(i.strategyId, i.held);
    return out;
  }

  costs(): IncidentCost[] {
    return [...this.incidents].map(([id, i]) => incidentCost(id, i.strategyId, i.held, i.fills));
  }

  /** The cost of the strategy's newest incident, or null when none was seen. */
  costOf(strategyId: string): IncidentCost | null {
    let found: IncidentCost | null = null;
    for (const [id, i] of this.incidents) if (i.strategyId === strategyId) found = incidentCost(id, i.strategyId, i.held, i.fills);
    return found;
  }
}

/** The journal note that keeps an incident's cost (the newest per incident is the one `status` shows). */
export function incidentCostNote(account: AccountId, cost: IncidentCost, at: EpochMs): JournalEntry {
  return {
    key: `incident-cost:${cost.incidentId}:${at}:${cost.orders.reduce((n, o) => n + o.fills, 0)}`,
    at,
    type: 'note',
    account,
    strategyId: cost.strategyId as StrategyId,
    incidentId: cost.incidentId as IncidentId,
    data: { kind: 'incident-cost', text: describeCost(cost), cost },
  };
}

/** `cost: marked $87,631 at detection; the close realized $87,588 ($12 slippage vs mid); -$41 against the mark`. */
export function describeCost(c: IncidentCost): string {
  const usd = (x: number | null): string => (x === null ? 'unknown' : `${x < 0 ? '-' : ''}$${Math.abs(x).toLocaleString('en-US', { maximumFractionDigits: 2 })}`);
  return (
    `cost: marked ${usd(c.markAtDetection)} at detection; the close realized ${usd(c.realized)} in ${c.orders.length} order${c.orders.length === 1 ? '' : 's'}` +
    ` (${usd(c.slippage)} slippage vs mid${c.commissions !== null ? `, ${usd(c.commissions)} commissions` : ''}); ${usd(c.versusMark)} against the mark`
  );
}
