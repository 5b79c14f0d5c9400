import type { BookView, Holder } from './book.js';
import { expiryClose } from './calendar.js';
import { contractKey, deliverable, describeContract, formatStrike, isOption, stockFromSettlement, type Contract, type OptionContract } from './contract.js';
import type { BreakKind, ChangeCause, Detection } from './detection.js';
import type { ExecutionReport } from './events.js';
import type { ContractKey, ExecId, StrategyId } from './ids.js';
import { isLegguardRef } from './order.js';
import { EpochMs, Qty } from './quantity.js';

/** A contract whose broker position differs from the book's net. */
export interface PositionChange {
  readonly contract: Contract;
  /** The broker's position now. */
  readonly brokerQty: Qty;
  /** When the broker showed it. */
  readonly brokerAt: EpochMs;
  /** When the guard first saw this contract differ from the book (the pairing window counts from here). */
  readonly firstSeenAt: EpochMs;
}

export interface DetectorInput {
  readonly book: BookView;
  /** Contracts to explain. The engine has held back those with a guard order working or filled within the window. */
  readonly changes: readonly PositionChange[];
  /** Executions on those contracts that were not legguard's (manual trades, the broker's liquidations). */
  readonly foreignExecutions: readonly ExecutionReport[];
  readonly now: EpochMs;
  /** How long a change waits for the report that explains it (an option's stock, an execution). */
  readonly pairingWindowMs: number;
  /** The underlying's last price, for in/out of the money at expiry; null when unknown. */
  readonly underlyingPrice: (symbol: string) => number | null;
}

/** A change the detector cannot explain yet. */
export interface PendingChange {
  readonly contract: Contract;
  /** `brokerQty - book.net`. */
  readonly delta: Qty;
  readonly since: EpochMs;
  /** When the pairing window ends and the change is classified with what is known then. */
  readonly until: EpochMs;
  readonly reason: string;
}

export interface DetectorOutput {
  /** For every contract they explain, the changes sum to `brokerQty - book.net` over all holders. */
  readonly detections: Detection[];
  readonly pending: PendingChange[];
  /** The earliest `until` of `pending`, or null. */
  readonly recheckAt: EpochMs | null;
  /** Executions the detections account for. Drop them: a later call must not count them again. */
  readonly usedExecIds: ExecId[];
}

interface Portion {
  readonly cause: ChangeCause;
  readonly kind: BreakKind | null;
  readonly qty: number;
  readonly brokerAt: EpochMs;
  readonly reason: string;
  /** Set for an option's settlement: the stock it moves goes to the same holders. */
  readonly settles?: boolean;
}

interface Item {
  readonly key: ContractKey;
  readonly contract: Contract;
  readonly delta: number;
  readonly brokerAt: EpochMs;
  readonly firstSeenAt: EpochMs;
  readonly expired: boolean;
  /** Explained by executions. */
  readonly execPortions: Portion[];
  readonly usedExecs: ExecId[];
  /** What the executions leave to explain. */
  rest: number;
  /** The rest's explanation, once found. */
  restPortion: Portion | null;
  /** For a settled option: the stock item of its underlying, for the detection's time. */
  pairedAt: EpochMs | null;
  pendingReason: string;
}

const signed = (n: number): string => (n > 0 ? `+${n}` : String(n));

/**
 * Classifies position changes the book cannot explain (docs/design.md "Detection"). Pure.
 *
 * Per contract, executions not legguard's explain first (`liquidation: true` is the broker's; anything else is a
 * manual trade), in time order as far as the change has room for them. An option holding that then shrinks toward
 * zero is settled when the stock on its underlying moved by `stockFromSettlement` for it: several options on one
 * underlying are matched together, their expected stock summing to the observed change (the broker nets it); among
 * the sets that sum right, the one with the fewest unlikely settlements (see `likelyToSettle`), then the most likely
 * ones. Assignment for shorts, exercise for longs; EARLY before the expiry-day close,
 * EXPIRATION at or after it. A cash-settled option moves no stock: American ones settle early at once, any settles
 * at expiry as `expiration`.
 *
 * What is left waits for the pairing window, then: an option shrink is `expiration` at or after the expiry close
 * when the underlying's price puts it out of the money, `manual` before expiry (a trade the guard did not see),
 * `unknown` otherwise; anything else (a growth, stock nothing explains) is `unknown`.
 *
 * Attribution: a decrease in magnitude goes to the strategies holding that sign, oldest first, then to the outside;
 * an increase goes to the outside; stock from a settlement goes to whoever's option settled. A contract is explained
 * whole or not at all: a part that must wait keeps the rest of its contract waiting with it.
 *
 * @example
 *   // ic-spy holds -2 SPY 440 P. The broker shows the put at 0 and SPY +200:
 *   detect({ book, changes: [{ put440, brokerQty: 0, ... }, { SPY, brokerQty: 200, ... }], ... }).detections
 *   // [{ ic-spy, assignment, EARLY, 440 P, before -2, change +2 }, { ic-spy, assignment, EARLY, SPY, before 0, change +200, settles: 440 P }]
 */
export function detect(input: DetectorInput): DetectorOutput {
  const { book } = input;
  const items = collectItems(input);

  // 1. Executions explain what they can.
  for (const it of items.values()) explainByExecutions(it, input.foreignExecutions);

  // 2. Option settlements, matched against stock per underlying.
  const bySymbol = new Map<string, Item[]>();
  for (const it of items.values()) {
    const list = bySymbol.get(it.contract.symbol) ?? [];
    list.push(it);
    bySymbol.set(it.contract.symbol, list);
  }
  for (const [, list] of [...bySymbol].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) matchSettlements(list, book, input.underlyingPrice);

  // 3. What is still unexplained waits for its window, then is classified with what is known.
  for (const it of items.values()) {
    if (it.rest === 0 || it.restPortion !== null || !it.expired) continue;
    it.restPortion = fallback(it, book, input.underlyingPrice);
  }

  // 4. Attribute the explained contracts; the rest is pending.
  const scratch = new Scratch(book);
  const detections: Detection[] = [];
  const usedExecIds: ExecId[] = [];
  const pending: PendingChange[] = [];
  const ordered = [...items.values()].sort((a, b) => Number(isOption(b.contract)) - Number(isOption(a.contract)) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  for (const it of ordered) {
    if (it.rest !== 0 && it.restPortion === null) {
      pending.push({
        contract: it.contract,
        delta: Qty.unsafe(it.delta),
        since: it.firstSeenAt,
        until: EpochMs.unsafe(it.firstSeenAt + input.pairingWindowMs),
        reason: it.pendingReason,
      });
      continue;
    }
    usedExecIds.push(...it.usedExecs);
    for (const p of it.execPortions) detections.push(...scratch.attribute(it.contract, p, null));
    if (it.restPortion) {
      const p = it.restPortion;
      const pieces = scratch.attribute(it.contract, p.settles && it.pairedAt !== null ? { ...p, brokerAt: maxAt(p.brokerAt, it.pairedAt) } : p, null);
      detections.push(...pieces);
      if (p.settles && isOption(it.contract)) {
        for (const d of pieces) {
          const shares = stockFromSettlement(it.contract, 0 - d.change);
          if (shares === 0) continue;
          detections.push(...scratch.settleStock(it.contract, d, shares));
        }
      }
    }
  }
  let recheckAt: EpochMs | null = null;
  for (const p of pending) if (recheckAt === null || p.until < recheckAt) recheckAt = p.until;
  return { detections, pending, recheckAt, usedExecIds };
}

function maxAt(a: EpochMs, b: EpochMs): EpochMs {
  return a >= b ? a : b;
}

function collectItems(input: DetectorInput): Map<ContractKey, Item> {
  const merged = new Map<ContractKey, PositionChange>();
  for (const c of input.changes) {
    const key = contractKey(c.contract);
    const prev = merged.get(key);
    if (!prev) merged.set(key, c);
    else {
      const latest = c.brokerAt >= prev.brokerAt ? c : prev;
      merged.set(key, { ...latest, firstSeenAt: prev.firstSeenAt <= c.firstSeenAt ? prev.firstSeenAt : c.firstSeenAt });
    }
  }
  const items = new Map<ContractKey, Item>();
  for (const [key, c] of merged) {
    const delta = c.brokerQty - input.book.net(key);
    if (delta === 0) continue;
    items.set(key, {
      key,
      contract: c.contract,
      delta,
      brokerAt: c.brokerAt,
      firstSeenAt: c.firstSeenAt,
      expired: input.now >= c.firstSeenAt + input.pairingWindowMs,
      execPortions: [],
      usedExecs: [],
      rest: delta,
      restPortion: null,
      pairedAt: null,
      pendingReason: '',
    });
  }
  return items;
}

/**
 * Executions on the contract, oldest first: all of them when their sum fits in the change (same sign, no larger),
 * else the longest run from the oldest that fits; a later position report will show the others.
 */
function explainByExecutions(it: Item, executions: readonly ExecutionReport[]): void {
  const mine = executions
    .filter((x) => !isLegguardRef(x.orderRef) && contractKey(x.contract) === it.key)
    .sort((a, b) => a.tsEvent - b.tsEvent || (a.execId < b.execId ? -1 : a.execId > b.execId ? 1 : 0));
  const seen = new Set<string>();
  const unique = mine.filter((x) => (seen.has(x.execId) ? false : (seen.add(x.execId), true)));
  const fits = (s: number): boolean => s !== 0 && Math.sign(s) === Math.sign(it.delta) && Math.abs(s) <= Math.abs(it.delta);
  let take = 0;
  let sum = 0;
  for (let i = 0; i < unique.length; i++) {
    sum += signedExec(unique[i]!);
    if (fits(sum)) take = i + 1;
  }
  if (take === 0) return;
  const used = unique.slice(0, take);
  for (const liquidation of [false, true]) {
    const xs = used.filter((x) => x.liquidation === liquidation);
    const qty = xs.reduce((s, x) => s + signedExec(x), 0);
    if (xs.length === 0 || qty === 0) continue;
    const at = xs.reduce((m, x) => (x.tsEvent > m ? x.tsEvent : m), xs[0]!.tsEvent);
    it.execPortions.push({
      cause: liquidation ? 'liquidation' : 'manual',
      kind: null,
      qty,
      brokerAt: maxAt(at, it.brokerAt),
      reason: `${liquidation ? 'broker liquidation' : 'trade outside legguard'}: ${xs.map((x) => `${x.side} ${x.qty} (${x.execId})`).join(', ')}`,
    });
  }
  it.usedExecs.push(...used.map((x) => x.execId));
  it.rest = it.delta - used.reduce((s, x) => s + signedExec(x), 0);
}

function signedExec(x: ExecutionReport): number {
  return x.side === 'BUY' ? x.qty : 0 - x.qty;
}

/** The net position the rest of a change starts from: the book's net plus what executions already explained. */
function netBeforeRest(it: Item, book: BookView): number {
  return book.net(it.key) + (it.delta - it.rest);
}

/** True when the rest of an option's change shrinks its net position toward zero without crossing it. */
function shrinks(it: Item, book: BookView): boolean {
  const from = netBeforeRest(it, book);
  return it.rest !== 0 && Qty.reduces(Qty.unsafe(from), Qty.unsafe(from + it.rest));
}

function settledPortion(c: OptionContract, rest: number, at: EpochMs, why: string): Portion {
  const kind: BreakKind = at >= expiryClose(c.expiry) ? 'EXPIRATION' : 'EARLY';
  const cause = rest > 0 ? 'assignment' : 'exercise';
  return {
    cause,
    kind,
    qty: rest,
    brokerAt: at,
    settles: true,
    reason: `${describeContract(c)} x${Math.abs(rest)} ${cause === 'assignment' ? 'assigned' : 'exercised'} (${kind}): ${why}`,
  };
}

function matchSettlements(list: readonly Item[], book: BookView, underlyingPrice: (symbol: string) => number | null): void {
  const stockItem = list.find((it) => !isOption(it.contract)) ?? null;
  const stockRest = stockItem?.rest ?? 0;
  const candidates: { it: Item; c: OptionContract; expected: number; likely: boolean }[] = [];
  for (const it of [...list].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))) {
    if (!isOption(it.contract) || it.rest === 0) continue;
    const c = it.contract;
    if (!shrinks(it, book)) {
      it.pendingReason = `${describeContract(c)} moved ${signed(it.rest)} away from zero with no execution yet`;
      continue;
    }
    if (c.settlement === 'cash') {
      if (it.brokerAt >= expiryClose(c.expiry)) {
        it.restPortion = {
          cause: 'expiration',
          kind: 'EXPIRATION',
          qty: it.rest,
          brokerAt: it.brokerAt,
          reason: `${describeContract(c)} x${Math.abs(it.rest)} expired and settled in cash (no stock moves)`,
        };
      } else if (c.style === 'american') {
        it.restPortion = settledPortion(c, it.rest, it.brokerAt, 'American and cash-settled: no stock moves');
      } else {
        it.pendingReason = `${describeContract(c)} shrank by ${Math.abs(it.rest)} before expiry; a European option cannot be exercised early, so an execution should follow`;
      }
      continue;
    }
    it.pendingReason = `${describeContract(c)} shrank by ${Math.abs(it.rest)}; waiting for the ${c.symbol} stock that would make it ${it.rest > 0 ? 'an assignment' : 'an exercise'}`;
    candidates.push({ it, c, expected: stockFromSettlement(c, -it.rest), likely: likelyToSettle(it, c, underlyingPrice) });
  }
  if (stockItem && stockItem.rest !== 0) {
    stockItem.pendingReason = `${stockItem.contract.symbol} stock moved ${signed(stockItem.rest)}; waiting for the option settlement or execution that explains it`;
  }
  const picks = bestSubset(candidates, stockRest);
  if (picks === null || picks.length === 0) return;
  for (const i of picks) {
    const { it, c, expected } = candidates[i]!;
    it.restPortion = settledPortion(c, it.rest, it.brokerAt, `${c.symbol} stock moved by the ${signed(expected)} it delivers`);
    it.pairedAt = stockItem?.brokerAt ?? null;
  }
  if (stockItem && stockItem.rest !== 0) {
    // Exactly explained by the picked settlements: its detections are theirs (`settleStock`), so this portion is
    // empty and only marks the contract explained.
    stockItem.restPortion = { cause: 'assignment', kind: null, qty: 0, brokerAt: stockItem.brokerAt, reason: 'stock of settlements' };
  }
}

/**
 * Whether a settlement of this option is what one expects: a short option before expiry (early assignment), or an
 * option in the money at its expiry (exercise by exception). Unlikely: a long option before expiry (only its holder
 * exercises it), anything out of the money or of unknown price at expiry. The distinction matters because a
 * vertical's two legs settling move stock that nets to zero, exactly like both legs expiring or being traded.
 */
function likelyToSettle(it: Item, c: OptionContract, underlyingPrice: (symbol: string) => number | null): boolean {
  if (it.brokerAt < expiryClose(c.expiry)) return it.rest > 0;
  const price = underlyingPrice(c.symbol);
  if (price === null) return false;
  return (c.right === 'C' ? price - c.strike : c.strike - price) >= 0.01 - 1e-9;
}

/**
 * The candidates to settle: a set whose expected stock sums to `target`, with the fewest unlikely settlements and,
 * among those, the most likely ones; null when no set sums to it. A dynamic programme over the sums reached (exact
 * for this lexicographic objective, which adds up per candidate), so a mass expiry of many options on one
 * underlying stays cheap. Ties keep the set found first; candidates come sorted by contract, so the answer does not
 * depend on the order of the reports.
 *
 * Sums from which `target` can no longer be reached (what the candidates left can add lies between the sum of their
 * negative and of their positive expectations) are dropped: a burst of options waiting for their stock (target 0,
 * every expectation of one sign) keeps one state instead of one per candidate. When every candidate is likely and all
 * of them sum to `target`, that set is the best (no unlikely one, the most likely ones) and is answered at once: the
 * night a thousand short puts are assigned together.
 */
function bestSubset(cands: readonly { readonly expected: number; readonly likely: boolean }[], target: number): number[] | null {
  interface Node {
    readonly i: number;
    readonly prev: Node | null;
  }
  interface State {
    readonly unlikely: number;
    readonly likely: number;
    readonly node: Node | null;
  }
  let total = 0;
  let allLikely = true;
  for (const c of cands) {
    total += c.expected;
    if (!c.likely) allLikely = false;
  }
  if (allLikely && total === target) return cands.map((_, i) => i);
  // What candidates i.. can still add at the least and at the most.
  const lowFrom = new Array<number>(cands.length + 1).fill(0);
  const highFrom = new Array<number>(cands.length + 1).fill(0);
  for (let i = cands.length - 1; i >= 0; i--) {
    const e = cands[i]!.expected;
    lowFrom[i] = lowFrom[i + 1]! + Math.min(0, e);
    highFrom[i] = highFrom[i + 1]! + Math.max(0, e);
  }
  const better = (a: State, b: State): boolean => a.unlikely < b.unlikely || (a.unlikely === b.unlikely && a.likely > b.likely);
  if (target < lowFrom[0]! || target > highFrom[0]!) return null;
  let states = new Map<number, State>([[0, { unlikely: 0, likely: 0, node: null }]]);
  for (let i = 0; i < cands.length; i++) {
    const { expected, likely } = cands[i]!;
    const lo = lowFrom[i + 1]!;
    const hi = highFrom[i + 1]!;
    const reachable = (sum: number): boolean => target - sum >= lo && target - sum <= hi;
    const next = new Map<number, State>();
    for (const [sum, st] of states) if (reachable(sum)) next.set(sum, st);
    for (const [sum, st] of states) {
      const s2 = sum + expected;
      if (!reachable(s2)) continue;
      const cand: State = {
        unlikely: st.unlikely + (likely ? 0 : 1),
        likely: st.likely + (likely ? 1 : 0),
        node: { i, prev: st.node },
      };
      const existing = next.get(s2);
      if (!existing || better(cand, existing)) next.set(s2, cand);
    }
    states = next;
    if (states.size > 200_000) return null; // beyond any real book; nothing is matched rather than guessed
  }
  const best = states.get(target);
  if (!best) return null;
  const out: number[] = [];
  for (let n = best.node; n !== null; n = n.prev) out.push(n.i);
  return out.reverse();
}

function fallback(it: Item, book: BookView, underlyingPrice: (symbol: string) => number | null): Portion {
  const c = it.contract;
  const base = { qty: it.rest, brokerAt: it.brokerAt };
  if (!isOption(c)) {
    return { ...base, cause: 'unknown', kind: null, reason: `${c.symbol} stock moved ${signed(it.rest)} with no execution and no option settlement to explain it` };
  }
  const what = describeContract(c);
  if (!shrinks(it, book)) {
    return { ...base, cause: 'unknown', kind: null, reason: `${what} moved ${signed(it.rest)} away from zero with no execution` };
  }
  if (it.brokerAt < expiryClose(c.expiry)) {
    return { ...base, cause: 'manual', kind: null, reason: `${what} shrank by ${Math.abs(it.rest)} before expiry with no stock and no execution: a trade legguard did not see` };
  }
  const price = underlyingPrice(c.symbol);
  if (price === null) {
    return { ...base, cause: 'unknown', kind: null, reason: `${what} went at expiry with no stock, and the price of ${c.symbol} is unknown, so it cannot be called out of the money` };
  }
  const intrinsic = c.right === 'C' ? price - c.strike : c.strike - price;
  if (intrinsic >= 0.01 - 1e-9) {
    return { ...base, cause: 'unknown', kind: null, reason: `${what} went at expiry ${intrinsic.toFixed(2)} in the money (${c.symbol} at ${price}) but no stock moved` };
  }
  return {
    ...base,
    cause: 'expiration',
    kind: 'EXPIRATION',
    reason: `${what} x${Math.abs(it.rest)} expired out of the money (${c.symbol} at ${price}, strike ${formatStrike(c.strike)})`,
  };
}

/** The book's holdings as changed by the detections made so far in this call. */
class Scratch {
  private readonly delta = new Map<string, number>();
  /** Strategies that came to hold a contract during this call (stock from a settlement). */
  private readonly gained = new Map<ContractKey, StrategyId[]>();

  constructor(private readonly book: BookView) {}

  holding(holder: Holder, key: ContractKey): number {
    return this.book.holding(holder, key) + (this.delta.get(`${holder ?? ''}|${key}`) ?? 0);
  }

  private apply(holder: Holder, key: ContractKey, change: number): void {
    const k = `${holder ?? ''}|${key}`;
    this.delta.set(k, (this.delta.get(k) ?? 0) + change);
    if (holder !== null && this.book.holding(holder, key) === 0) {
      const list = this.gained.get(key) ?? [];
      if (!list.includes(holder)) list.push(holder);
      this.gained.set(key, list);
    }
  }

  /** Strategies that may hold `key` now, oldest first. */
  private strategies(key: ContractKey, symbol: string): StrategyId[] {
    const held = [...this.book.strategiesHolding(key)];
    const gained = this.gained.get(key);
    if (!gained) return held;
    const order = this.book.strategiesOn(symbol);
    const all = new Set([...held, ...gained]);
    return order.filter((s) => all.has(s));
  }

  /** Splits a change over the holders: decreases to the holders of the shrinking sign, oldest first, then out. */
  attribute(contract: Contract, p: Portion, settles: Contract | null): Detection[] {
    if (p.qty === 0) return [];
    const key = contractKey(contract);
    const pieces: { holder: Holder; change: number }[] = [];
    let left = p.qty;
    for (const holder of [...this.strategies(key, contract.symbol), null]) {
      if (left === 0) break;
      const have = this.holding(holder, key);
      if (have === 0 || Math.sign(have) === Math.sign(left)) continue;
      const take = Math.sign(left) * Math.min(Math.abs(left), Math.abs(have));
      pieces.push({ holder, change: take });
      left -= take;
    }
    if (left !== 0) {
      const out = pieces.find((x) => x.holder === null);
      if (out) out.change += left;
      else pieces.push({ holder: null, change: left });
    }
    return pieces.map(({ holder, change }) => this.record(holder, contract, change, p, settles));
  }

  /** The stock an option settlement moves, to the same holder as the option. */
  settleStock(option: OptionContract, optionDetection: Detection, shares: number): Detection[] {
    const stock = deliverable(option);
    if (stock === null) return [];
    const p: Portion = { ...portionOf(optionDetection), qty: shares };
    return [this.record(optionDetection.strategyId, stock, shares, p, option)];
  }

  private record(holder: Holder, contract: Contract, change: number, p: Portion, settles: Contract | null): Detection {
    const key = contractKey(contract);
    const before = this.holding(holder, key);
    this.apply(holder, key, change);
    return {
      strategyId: holder,
      cause: p.cause,
      kind: p.kind,
      contract,
      before: Qty.unsafe(before),
      change: Qty.unsafe(change),
      settles,
      brokerAt: p.brokerAt,
      reason: settles ? `${p.reason}; stock ${signed(change)}` : p.reason,
    };
  }
}

function portionOf(d: Detection): Portion {
  return { cause: d.cause, kind: d.kind, qty: d.change, brokerAt: d.brokerAt, reason: d.reason };
}
