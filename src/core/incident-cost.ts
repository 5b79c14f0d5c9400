import { contractKey, describeContract, type Contract } from './contract.js';

/** Dollars per unit of price: an option's multiplier, 1 for a share. */
function multiplier(c: Contract): number {
  return c.secType === 'OPT' ? c.multiplier : 1;
}

/** The middle of a quote; the ask halved when nothing is bid (a worthless wing), null when nothing is quoted. */
export function midOf(bid: number | null, ask: number | null, last: number | null = null): number | null {
  if (bid !== null && ask !== null && bid > 0 && ask > 0) return (bid + ask) / 2;
  if (ask !== null && ask > 0 && (bid === null || bid <= 0)) return ask / 2;
  if (bid !== null && bid > 0) return bid;
  return last;
}

export interface HeldAtDetection {
  readonly contract: Contract;
  /** Signed: what the strategy held just after the break. */
  readonly qty: number;
  readonly mid: number | null;
}

export interface ClosingFill {
  readonly ref: string;
  readonly contract: Contract;
  /** Signed: +2 bought, -200 sold. */
  readonly qty: number;
  readonly price: number;
  /** The leg's mid when its order went out, or null when nothing was quoted. */
  readonly midAtSend: number | null;
}

export interface IncidentCost {
  readonly incidentId: string;
  readonly strategyId: string;
  /** What the strategy held after the break, marked at mid when it was detected: the value a close at mid realizes. */
  readonly markAtDetection: number | null;
  readonly held: readonly { readonly contract: string; readonly qty: number; readonly mid: number | null }[];
  /** Per closing order: the cash its fills brought in (negative: paid out), and its slippage against the mid. */
  readonly orders: readonly { readonly ref: string; readonly realized: number; readonly slippage: number | null; readonly fills: number }[];
  readonly realized: number;
  /** Dollars paid beyond the mid when the orders went out (negative: better than mid); null when a mid was unknown. */
  readonly slippage: number | null;
  /** Not reported by the simulated broker; IB's commission reports are not read yet. */
  readonly commissions: number | null;
  /**
   * Realized against the mark at detection: what the close cost (negative) or gained against closing everything at
   * mid the moment the break was seen. Legs left to expire worthless count at their mark.
   */
  readonly versusMark: number | null;
}

const round2 = (x: number): number => Math.round(x * 100) / 100;

/**
 * The cost of one incident's close, from what the strategy held at detection (with mids) and its closing orders'
 * fills. Cash is signed as the account sees it: selling brings cash in (+), buying pays it out (-).
 *
 * @example
 *   // 200 SPY held at a 436.10 mid, sold at 436.09: realized +87,218, slippage +2 (a cent a share under the mid)
 */
export function incidentCost(incidentId: string, strategyId: string, held: readonly HeldAtDetection[], fills: readonly ClosingFill[]): IncidentCost {
  let mark: number | null = 0;
  for (const h of held) mark = h.mid === null || mark === null ? null : mark + h.qty * h.mid * multiplier(h.contract);
  const byRef = new Map<string, { realized: number; slippage: number | null; fills: number }>();
  for (const f of fills) {
    const o = byRef.get(f.ref) ?? { realized: 0, slippage: 0, fills: 0 };
    const m = multiplier(f.contract);
    o.realized += -f.qty * f.price * m;
    o.slippage = o.slippage === null || f.midAtSend === null ? null : o.slippage + f.qty * (f.price - f.midAtSend) * m;
    o.fills++;
    byRef.set(f.ref, o);
  }
  const orders = [...byRef].map(([ref, o]) => ({ ref, realized: round2(o.realized), slippage: o.slippage === null ? null : round2(o.slippage), fills: o.fills }));
  const realized = round2(orders.reduce((n, o) => n + o.realized, 0));
  const slippage = orders.some((o) => o.slippage === null) ? null : round2(orders.reduce((n, o) => n + (o.slippage ?? 0), 0));
  // What was not closed by an order (a wing left to expire) stays at its mark: it is neither gain nor cost here.
  const closed = new Map<string, number>();
  for (const f of fills) closed.set(contractKey(f.contract), (closed.get(contractKey(f.contract)) ?? 0) + f.qty);
  let closedMark: number | null = 0;
  for (const h of held) {
    const done = -(closed.get(contractKey(h.contract)) ?? 0);
    if (done === 0) continue;
    closedMark = h.mid === null || closedMark === null ? null : closedMark + done * h.mid * multiplier(h.contract);
  }
  return {
    incidentId,
    strategyId,
    markAtDetection: mark === null ? null : round2(mark),
    held: held.map((h) => ({ contract: describeContract(h.contract), qty: h.qty, mid: h.mid === null ? null : Math.round(h.mid * 10_000) / 10_000 })),
    orders,
    realized,
    slippage,
    commissions: null,
    versusMark: closedMark === null ? null : round2(realized - closedMark),
  };
}
