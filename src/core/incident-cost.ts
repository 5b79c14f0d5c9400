import { contractKey, describeContract, isOption, type Contract } from './contract.js';
import type { ChangeCause } from './detection.js';

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

/** A holding with its mark (mid), null when nothing was quoted. */
export interface HeldAtDetection {
  readonly contract: Contract;
  /** Signed: what the strategy held. */
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
  /** What the broker charged for this execution (its commission report), or null while none came. */
  readonly commission?: number | null;
}

/** One change the break (or a later one in the same incident) made to the strategy's holdings, with the cash it moved. */
export interface BreakChange {
  readonly contract: Contract;
  /** Signed change of the strategy's holding. */
  readonly change: number;
  /** Cash the change itself moved (+ in, - out), or null when it is not known. */
  readonly cash: number | null;
}

/**
 * The cash a detected change moved, as the account sees it. Stock a physical settlement delivered changed hands at
 * the settled option's strike (200 SPY bought on an assigned 440 put: -88,000). An option leaving by assignment,
 * exercise or expiry moves no cash of its own when it settles physically (its stock carries it); a cash-settled one
 * pays its intrinsic value, which the broker does not report here: unknown. A manual close or a liquidation moved
 * what its executions did (`executionsCash`, null when they were not seen).
 *
 * @example
 *   settlementCash({ contract: SPY, change: 200, cause: 'assignment', settles: put440 }, null) // -88000
 */
export function settlementCash(
  d: { readonly contract: Contract; readonly change: number; readonly cause: ChangeCause; readonly settles: Contract | null },
  executionsCash: number | null,
): number | null {
  if (d.change === 0) return 0;
  if (d.cause === 'manual' || d.cause === 'liquidation' || d.cause === 'unknown' || d.cause === 'own-fill') return executionsCash;
  if (!isOption(d.contract)) return d.settles !== null && isOption(d.settles) ? -d.change * d.settles.strike : executionsCash;
  return d.contract.settlement === 'physical' ? 0 : null;
}

/** The cash of executions that made a change: -(signed qty x price x multiplier) summed. */
export function executionsCash(contract: Contract, fills: readonly { readonly qty: number; readonly price: number }[]): number {
  return fills.reduce((n, f) => n - f.qty * f.price * multiplier(contract), 0);
}

export interface IncidentCostInput {
  readonly incidentId: string;
  readonly strategyId: string;
  /** What the strategy held just before the break, at the last marks the guard had before it. */
  readonly beforeBreak: readonly HeldAtDetection[];
  /** What it held just after the break, marked when the break was detected. */
  readonly held: readonly HeldAtDetection[];
  /** The changes the break (and any later one of the same incident: a wing expiring, a second assignment) made. */
  readonly breaks: readonly BreakChange[];
  readonly fills: readonly ClosingFill[];
}

export interface IncidentCost {
  readonly incidentId: string;
  readonly strategyId: string;
  /** What the strategy held after the break, marked at mid when it was detected: the value a close at mid realizes. */
  readonly markAtDetection: number | null;
  readonly held: readonly { readonly contract: string; readonly qty: number; readonly mid: number | null }[];
  /** What it held before the break, at the last marks before it. */
  readonly beforeBreak: readonly { readonly contract: string; readonly qty: number; readonly mid: number | null }[];
  /** The position's value had it been closed at mid at the last marks before the break. */
  readonly valueBeforeBreak: number | null;
  /** Cash the break itself moved: an assignment's stock bought or sold at the strike. */
  readonly breakCash: number | null;
  /** Per closing order: the cash its fills brought in (negative: paid out), and its slippage against the mid. */
  readonly orders: readonly {
    readonly ref: string;
    readonly realized: number;
    readonly slippage: number | null;
    readonly fills: number;
    readonly commissions: number;
  }[];
  readonly realized: number;
  /** Dollars paid beyond the mid when the orders went out (negative: better than mid); null when a mid was unknown. */
  readonly slippage: number | null;
  /** The commissions the broker reported for the closing fills (null: no fill has a report yet). */
  readonly commissions: number | null;
  /** Closing fills whose commission report has not come (yet): `commissions` leaves them out. */
  readonly commissionsPending: number;
  /** What is still held (a wing left to expire), at its mark. */
  readonly leftAtMark: number | null;
  /**
   * Realized against the mark at detection: what the close cost (negative) or gained against closing everything at
   * mid the moment the break was seen. Legs left to expire worthless count at their mark.
   */
  readonly versusMark: number | null;
  /**
   * The whole incident against closing the position at the last marks before the break: the break's cash, the close's
   * realized cash net of its commissions and what is left at its mark, less `valueBeforeBreak`. Negative: it cost.
   */
  readonly total: number | null;
}

const round2 = (x: number): number => Math.round(x * 100) / 100;
const round4 = (x: number | null): number | null => (x === null ? null : Math.round(x * 10_000) / 10_000);

/** Σ qty x mid x multiplier; null when a mark with a quantity is unknown. */
function valueAt(hs: readonly HeldAtDetection[]): number | null {
  let v: number | null = 0;
  for (const h of hs) {
    if (h.qty === 0) continue;
    v = h.mid === null || v === null ? null : v + h.qty * h.mid * multiplier(h.contract);
  }
  return v === null ? null : round2(v);
}

/**
 * The cost of one incident, from what the strategy held before and after the break (with mids), the cash the break
 * moved, and its closing orders' fills with their commissions. Cash is signed as the account sees it: selling brings
 * cash in (+), buying pays it out (-).
 *
 * @example
 *   // 200 SPY held at a 436.10 mid, sold at 436.09: realized +87,218, slippage +2 (a cent a share under the mid)
 */
export function incidentCost(input: IncidentCostInput): IncidentCost {
  const { held, fills, beforeBreak, breaks } = input;
  const mark = valueAt(held);
  const byRef = new Map<string, { realized: number; slippage: number | null; fills: number; commissions: number }>();
  for (const f of fills) {
    const o = byRef.get(f.ref) ?? { realized: 0, slippage: 0, fills: 0, commissions: 0 };
    const m = multiplier(f.contract);
    o.realized += -f.qty * f.price * m;
    o.slippage = o.slippage === null || f.midAtSend === null ? null : o.slippage + f.qty * (f.price - f.midAtSend) * m;
    o.fills++;
    o.commissions += f.commission ?? 0;
    byRef.set(f.ref, o);
  }
  const orders = [...byRef].map(([ref, o]) => ({ ref, realized: round2(o.realized), slippage: o.slippage === null ? null : round2(o.slippage), fills: o.fills, commissions: round2(o.commissions) }));
  const realized = round2(orders.reduce((n, o) => n + o.realized, 0));
  const slippage = orders.some((o) => o.slippage === null) ? null : round2(orders.reduce((n, o) => n + (o.slippage ?? 0), 0));
  const reported = fills.filter((f) => f.commission !== undefined && f.commission !== null);
  const commissions = reported.length === 0 ? null : round2(reported.reduce((n, f) => n + f.commission!, 0));

  // What was not closed by an order (a wing left to expire) stays at its mark: it is neither gain nor cost here.
  const closed = new Map<string, number>();
  for (const f of fills) closed.set(contractKey(f.contract), (closed.get(contractKey(f.contract)) ?? 0) + f.qty);
  let closedMark: number | null = 0;
  for (const h of held) {
    const done = -(closed.get(contractKey(h.contract)) ?? 0);
    if (done === 0) continue;
    closedMark = h.mid === null || closedMark === null ? null : closedMark + done * h.mid * multiplier(h.contract);
  }

  // What is left: before the break, plus every change the incident saw, plus the closing fills; at its mark.
  const left = new Map<string, { contract: Contract; qty: number; mid: number | null }>();
  const markOf = new Map<string, number | null>();
  for (const h of beforeBreak) markOf.set(contractKey(h.contract), h.mid);
  for (const h of held) if (h.mid !== null || !markOf.has(contractKey(h.contract))) markOf.set(contractKey(h.contract), h.mid);
  const add = (contract: Contract, qty: number): void => {
    const k = contractKey(contract);
    const l = left.get(k) ?? { contract, qty: 0, mid: markOf.get(k) ?? null };
    l.qty += qty;
    left.set(k, l);
  };
  for (const h of beforeBreak) add(h.contract, h.qty);
  for (const b of breaks) add(b.contract, b.change);
  for (const f of fills) add(f.contract, f.qty);
  const leftAtMark = valueAt([...left.values()]);
  const valueBeforeBreak = valueAt(beforeBreak);
  const breakCash = breaks.some((b) => b.cash === null) ? null : round2(breaks.reduce((n, b) => n + b.cash!, 0));
  const total =
    breakCash === null || leftAtMark === null || valueBeforeBreak === null ? null : round2(breakCash + realized - (commissions ?? 0) + leftAtMark - valueBeforeBreak);
  const view = (hs: readonly HeldAtDetection[]): IncidentCost['held'] => hs.map((h) => ({ contract: describeContract(h.contract), qty: h.qty, mid: round4(h.mid) }));
  return {
    incidentId: input.incidentId,
    strategyId: input.strategyId,
    markAtDetection: mark,
    held: view(held),
    beforeBreak: view(beforeBreak),
    valueBeforeBreak,
    breakCash,
    orders,
    realized,
    slippage,
    commissions,
    commissionsPending: fills.length - reported.length,
    leftAtMark,
    versusMark: closedMark === null ? null : round2(realized - closedMark),
    total,
  };
}

const usd = (x: number | null | undefined): string => (x === null || x === undefined ? 'unknown' : `${x < 0 ? '-' : ''}$${Math.abs(x).toLocaleString('en-US', { minimumFractionDigits: 0, maximumFractionDigits: 2 })}`);

/**
 * One line for alerts, `status` and the journal:
 * `cost: -$34.60 against closing at the last marks before the break ($-379 then); the break moved -$88,000; the close
 * realized $87,588 in 3 orders ($20 slippage vs mid, $3.60 commissions); -$41 against the mark at detection ($87,631)`.
 */
export function describeCost(c: IncidentCost): string {
  const pending = c.commissionsPending > 0 ? `, ${c.commissionsPending} fill${c.commissionsPending === 1 ? '' : 's'} not yet reported` : '';
  const commissions = c.commissions === null ? (c.orders.length === 0 ? 'no commissions' : 'commissions not reported') : `${usd(c.commissions)} commissions${pending}`;
  const left = c.leftAtMark !== null && c.leftAtMark !== 0 ? `; ${usd(c.leftAtMark)} left at its mark` : '';
  return (
    `cost: ${usd(c.total)} against closing at the last marks before the break (${usd(c.valueBeforeBreak)} then); ` +
    `the break moved ${usd(c.breakCash)}; the close realized ${usd(c.realized)} in ${c.orders.length} order${c.orders.length === 1 ? '' : 's'}` +
    ` (${usd(c.slippage)} slippage vs mid, ${commissions})${left}; ${usd(c.versusMark)} against the mark at detection (${usd(c.markAtDetection)})`
  );
}
