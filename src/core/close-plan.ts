import type { BookView, Holding } from './book.js';
import { nextOpen } from './calendar.js';
import { contractKey, formatStrike, isOption, stock, type Contract, type OptionContract } from './contract.js';
import { addExposure, compareExposure, exposureOf, NO_EXPOSURE, stockToTrade, type Exposure, type ExposureOption } from './exposure.js';
import type { GateLimits } from './gate.js';
import type { AccountId, ContractKey, IncidentId, StrategyId } from './ids.js';
import { closingAction, legEffect, orderRef, RISK_TIERS, type OrderLeg, type OrderRequest, type RiskTier } from './order.js';
import { marketablePrice } from './price-walk.js';
import { EpochMs, Qty } from './quantity.js';
import type { QuoteView } from './quote-view.js';

export interface ClosePlanInput {
  readonly strategyId: StrategyId;
  readonly account: AccountId;
  /** The incident the orders belong to (null for an ordinary exit). */
  readonly incidentId: IncidentId | null;
  /** What the orders' refs derive from: the incident id, or `exit-<time>` for an ordinary exit. */
  readonly incidentKey: string;
  /** The plan's revision: the `attempt` of every orderRef, so a re-plan never reuses a ref. */
  readonly revision: number;
  /**
   * What is left to close: the strategy's holdings in the book less what its working orders will still trade
   * (the engine's residual). Defaults to the book's holdings of the strategy. Never the strategy's definition.
   */
  readonly holdings?: readonly Holding[];
  readonly book: BookView;
  readonly brokerPosition: (key: ContractKey) => Qty;
  readonly quote: (contract: Contract) => QuoteView | null;
  readonly now: EpochMs;
  /** `close`: everything; `hedge`: stock only. */
  readonly mode: 'close' | 'hedge';
  readonly purpose: 'emergency' | 'normal';
  /** Close a covered short option and its long cover as one combo order. */
  readonly combos: boolean;
  /** Stock may trade in the extended session (04:00-09:30 and 16:00-20:00 New York). */
  readonly preMarketHedge: boolean;
  /** Orders larger than the gate's limits are split so that each part passes. */
  readonly limits?: GateLimits;
  readonly tick?: number;
  /**
   * A long option whose quote shows no bid and an ask at most this (default 0.05) is worth nothing: there is no one
   * to sell it to and it carries no risk, so it is `held` (`why: 'no-bid'`), not blocked. A missing bid under a
   * larger ask looks like a data problem and stays blocked.
   */
  readonly noBidMaxAsk?: number;
}

/** Why a holding is left alone on purpose. */
export type HeldReason = 'covers-short-options' | 'offsets-options' | 'no-bid';

export interface PlannedOrder {
  readonly request: OrderRequest;
  /** Not to be sent before this: now, or the next open of the session its instruments trade in. */
  readonly notBefore: EpochMs;
  /** The group part of the orderRef: derived from the tier and the contracts, so the same holdings give the same. */
  readonly group: string;
}

export interface ClosePlan {
  /** In sending order: by time, then each next the one that leaves the least exposure (ties by tier, then group). */
  readonly orders: readonly PlannedOrder[];
  /** What could not be planned: no quote for the side needed, or a limit that allows not even one unit. */
  readonly blocked: readonly { readonly contract: Contract; readonly qty: Qty; readonly reason: string }[];
  /** Holdings the broker does not show in full where nothing else shares the contract: only what it shows is closed. */
  readonly clamped: readonly { readonly contract: Contract; readonly holding: Qty; readonly closing: Qty; readonly reason: string }[];
  /**
   * Left alone on purpose, in hedge mode: long stock that covers short calls (selling it would leave them naked), and
   * stock that offsets long options deep in the money (trading it alone would add exposure); long options nobody bids
   * for (worth nothing, no risk; they expire).
   */
  readonly held: readonly { readonly contract: Contract; readonly qty: Qty; readonly why: HeldReason; readonly reason: string }[];
}

interface Part {
  readonly tier: RiskTier;
  readonly group: string;
  readonly legs: readonly OrderLeg[];
  /** Units, positive. */
  readonly units: number;
  readonly session: 'option' | 'stock' | 'stock-extended';
  /** When priced as a combo and the combo cannot be priced: these single-leg parts instead. */
  readonly fallback?: readonly Part[];
}

/**
 * Plans the close of what a strategy still holds (docs/design.md "Close plans"), as marketable limit orders labelled
 * by kind (the tier, the pacer's priority across strategies):
 *
 * - tier 0, naked short options: short options no long option of the strategy covers (short calls covered only by
 *   stock are here too: they are closed before their stock can go); without combos all of a short option is one order;
 * - tier 1, stock: what may go before the options can trade (`preMarketHedge`) and what waits for them, by exposure
 *   (see the rule at the stock below); in `hedge` mode what waits is held back (`held`);
 * - tier 2, covered short options with their long cover (same underlying, right and multiplier, expiring no
 *   earlier) as one combo when `combos` is on;
 * - tier 3, long options.
 *
 * The orders come in sending order: by time, and among those free to go at the same moment the one that leaves the
 * least exposure first (core/exposure.ts), by risk rather than by kind.
 *
 * Where no other strategy and nothing outside a strategy holds a contract, the quantity is clamped to what the
 * broker shows (`clamped`). A leg without the quote side it needs goes to `blocked`; a combo that cannot be priced
 * falls back to single legs. Nothing held gives an empty plan.
 *
 * @example
 *   // Iron condor after its short put was assigned at 02:30: +200 SPY, -2 C460, +2 C465, +2 P435.
 *   planClose({ ..., now: 02:30 ET, preMarketHedge: true, combos: true })
 *   // t1 SELL 200 SPY at the bid, from 04:00 (outside RTH); t2 combo BUY C460 / SELL C465 at the open;
 *   // t3 SELL 2 P435 at the open.
 *   // Short strangle after its call was assigned at 02:30: -100 XOM, -1 P100 far out of the money.
 *   // t1 BUY 100 XOM from 04:00 (short stock and a short put are a synthetic short call); t0 BUY 1 P100 at the open.
 */
export function planClose(input: ClosePlanInput): ClosePlan {
  const { book, strategyId: sid } = input;
  const blocked: { contract: Contract; qty: Qty; reason: string }[] = [];
  const clamped: { contract: Contract; holding: Qty; closing: Qty; reason: string }[] = [];
  const held: { contract: Contract; qty: Qty; why: HeldReason; reason: string }[] = [];

  // What to close per contract, clamped to the broker where nothing else shares.
  const residual = new Map<ContractKey, { contract: Contract; qty: number }>();
  for (const h of input.holdings ?? book.holdings(sid)) {
    const key = contractKey(h.contract);
    const r = residual.get(key);
    if (r) r.qty += h.qty;
    else residual.set(key, { contract: h.contract, qty: h.qty });
  }
  const toClose: { contract: Contract; qty: number }[] = [];
  for (const [key, r] of [...residual].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (r.qty === 0) continue;
    let qty = r.qty;
    const shared = book.strategiesHolding(key).some((s) => s !== sid) || book.holding(null, key) !== 0;
    if (!shared) {
      // The residual already counts this strategy's working orders (residual - holding); the broker's position
      // less the same is what the account still has to close.
      const working = r.qty - book.holding(sid, key);
      const account = input.brokerPosition(key) + working;
      const most = Math.sign(account) === Math.sign(r.qty) ? Math.min(Math.abs(account), Math.abs(r.qty)) : 0;
      if (most !== Math.abs(r.qty)) {
        qty = Math.sign(r.qty) * most;
        clamped.push({
          contract: r.contract,
          holding: Qty.unsafe(r.qty),
          closing: Qty.unsafe(qty),
          reason: `the strategy has ${r.qty} to close but the broker shows ${input.brokerPosition(key)} and nothing else holds it`,
        });
      }
    }
    if (qty !== 0) toClose.push({ contract: r.contract, qty });
  }

  const parts: Part[] = [];
  const options = toClose.filter((x): x is { contract: OptionContract; qty: number } => isOption(x.contract));
  const stocks = toClose.filter((x) => !isOption(x.contract));

  // Covered shorts: pair each short option with long options that cap its risk.
  const shorts = options.filter((o) => o.qty < 0).map((o) => ({ contract: o.contract, left: -o.qty }));
  const longs = options.filter((o) => o.qty > 0).map((o) => ({ contract: o.contract, left: o.qty }));
  shorts.sort((a, b) => optionOrder(a.contract, b.contract));
  const pairs: { short: OptionContract; long: OptionContract; units: number }[] = [];
  for (const s of shorts) {
    const covers = longs
      .filter((l) => covers_(l.contract, s.contract))
      .sort(
        (a, b) =>
          Number(a.contract.expiry !== s.contract.expiry) - Number(b.contract.expiry !== s.contract.expiry) ||
          Math.abs(a.contract.strike - s.contract.strike) - Math.abs(b.contract.strike - s.contract.strike) ||
          optionOrder(a.contract, b.contract),
      );
    for (const l of covers) {
      if (s.left === 0) break;
      const n = Math.min(s.left, l.left);
      if (n === 0) continue;
      pairs.push({ short: s.contract, long: l.contract, units: n });
      s.left -= n;
      l.left -= n;
    }
  }

  if (input.mode === 'close') {
    // With combos, a short's naked part is one order and each covered part a combo with its cover; without, a short
    // option is one order for all of it, naked (tier 0) if any of it is.
    for (const s of shorts) {
      const covered = input.combos ? 0 : pairs.filter((p) => p.short === s.contract).reduce((a, p) => a + p.units, 0);
      if (s.left > 0) parts.push(single(RISK_TIERS['naked-short-option'], s.contract, 'BUY', s.left + covered, 'option'));
      else if (covered > 0) parts.push(single(RISK_TIERS.spread, s.contract, 'BUY', covered, 'option'));
    }
    if (input.combos) {
      for (const p of pairs) {
        const legs: OrderLeg[] = [
          { contract: p.short, action: 'BUY', ratio: 1 },
          { contract: p.long, action: 'SELL', ratio: 1 },
        ];
        const group = `t${RISK_TIERS.spread}.${safe(p.short.symbol)}.${optionCode(p.short)}_${optionCode(p.long)}`;
        parts.push({
          tier: RISK_TIERS.spread,
          group,
          legs,
          units: p.units,
          session: 'option',
          // Named after the combo, so that they never share a ref with another order for the same contract.
          fallback: [
            { ...single(RISK_TIERS.spread, p.short, 'BUY', p.units, 'option'), group: `${group}.short` },
            { ...single(RISK_TIERS['long-option'], p.long, 'SELL', p.units, 'option'), group: `t${RISK_TIERS['long-option']}${group.slice(2)}.long` },
          ],
        });
      }
    }
    // Without combos each long (cover or not) is one tier-3 order.
    const longLeft = new Map<ContractKey, { contract: OptionContract; units: number }>();
    for (const l of longs) if (l.left > 0) add(longLeft, l.contract, l.left);
    if (!input.combos) for (const p of pairs) add(longLeft, p.long, p.units);
    for (const { contract, units } of longLeft.values()) parts.push(single(RISK_TIERS['long-option'], contract, 'SELL', units, 'option'));
  }

  // Stock and the session. Options trade only in the regular session; stock may trade from 04:00 (`preMarketHedge`).
  // Which stock goes before the options can is a question of exposure, not of strategy shape: all of it, less what
  // would add exposure while the options stay as they are (core/exposure.ts `stockToTrade`: unbounded loss first,
  // then the largest loss per unit of move). Through each case:
  // - long stock under short calls (a covered call) bounds the calls: selling it leaves them naked, unbounded. Those
  //   shares wait for the calls' close; shares beyond the calls go.
  // - short stock never bounds a short option. With short calls it adds to their unbounded risk; with a short put it
  //   is a synthetic short call: the put's assignment would deliver shares to cover it, but the put's own loss is
  //   bounded by its strike and the stock's is not. It is bought back.
  // - long stock with short puts, or with long calls: the stock is the risk (downside, or more of the same side). It
  //   goes.
  // - stock against a long option of the other side (long stock with a long put, short stock with a long call):
  //   when the option is out of the money the stock is the risk and goes; deep in the money the pair is flat and
  //   trading the stock alone would leave the option's full delta, so the stock waits for the option.
  // What waits goes at the options' open (group `.cover`) or, in `hedge` mode, is held.
  for (const st of stocks) {
    const symbol = st.contract.symbol;
    const related = options.filter((o) => o.contract.symbol === symbol);
    const spot = spotOf(input.quote(st.contract));
    const free = stockToTrade(st.qty, related.map((o) => exposureOption(o.contract, o.qty)), spot);
    const waiting = Math.abs(st.qty) - free;
    const action = closingAction(st.qty);
    if (free > 0) {
      const p = single(RISK_TIERS.stock, st.contract, action, free, input.preMarketHedge ? 'stock-extended' : 'stock');
      parts.push({ ...p, group: `t${RISK_TIERS.stock}.${symbol}.STK` });
    }
    if (waiting > 0) {
      const boundsCalls = st.qty > 0 && related.some((o) => o.qty < 0 && o.contract.right === 'C');
      const what = boundsCalls
        ? `${waiting} shares cover short calls; selling them would leave those options naked`
        : `${waiting} shares offset options of ${symbol}; trading them alone would add to the exposure`;
      if (input.mode === 'hedge') {
        held.push({
          contract: st.contract,
          qty: Qty.unsafe(Math.sign(st.qty) * waiting),
          why: boundsCalls ? 'covers-short-options' : 'offsets-options',
          reason: what,
        });
      } else {
        // Waits for the options' open, where the options it offsets are closed with it, the riskiest first.
        const p = single(RISK_TIERS.stock, st.contract, action, waiting, 'option');
        parts.push({ ...p, group: `t${RISK_TIERS.stock}.${symbol}.STK.cover` });
      }
    }
  }

  const orders: PlannedOrder[] = [];
  const noBidMaxAsk = input.noBidMaxAsk ?? 0.05;
  const place = (p: Part): void => {
    const priced = marketablePrice(p.legs, input.quote, input.tick);
    if (!priced.ok) {
      if (p.fallback) {
        for (const f of p.fallback) place(f);
        return;
      }
      const only = p.legs.length === 1 ? p.legs[0]! : null;
      const q = only ? input.quote(only.contract) : null;
      if (only && only.action === 'SELL' && isOption(only.contract) && q !== null && (q.bid === null || q.bid <= 0) && q.ask !== null && q.ask <= noBidMaxAsk) {
        held.push({
          contract: only.contract,
          qty: signedQty(p),
          why: 'no-bid',
          reason: `no bid (ask ${q.ask}): worth nothing to sell and no risk to hold; left to expire`,
        });
        return;
      }
      blocked.push({ contract: priced.contract, qty: signedQty(p), reason: priced.reason });
      return;
    }
    const notBefore = nextOpen(input.now, p.session);
    const chunk = maxUnits(p, priced.price, input.limits);
    if (chunk < 1) {
      blocked.push({ contract: p.legs[0]!.contract, qty: signedQty(p), reason: `the order limits allow not even one unit at ${priced.price}` });
      return;
    }
    const count = Math.ceil(p.units / chunk);
    for (let i = 0; i < count; i++) {
      const units = Math.min(chunk, p.units - i * chunk);
      const group = count === 1 ? p.group : `${p.group}.p${i + 1}`;
      orders.push({
        group,
        notBefore: EpochMs.unsafe(notBefore),
        request: {
          ref: orderRef(sid, input.incidentKey, group, input.revision),
          strategyId: sid,
          incidentId: input.incidentId,
          account: input.account,
          legs: p.legs,
          quantity: Qty.unsafe(units),
          orderType: 'LMT',
          limitPrice: priced.price,
          outsideRth: p.session === 'stock-extended',
          purpose: input.purpose,
          tier: p.tier,
        },
      });
    }
  };
  for (const p of parts) place(p);
  orders.sort((a, b) => a.notBefore - b.notBefore || a.request.tier - b.request.tier || (a.group < b.group ? -1 : a.group > b.group ? 1 : 0));
  const spots = new Map<string, number | null>();
  const spotFor = (symbol: string, currency: string): number | null => {
    if (!spots.has(symbol)) {
      const held = stocks.find((x) => x.contract.symbol === symbol)?.contract ?? stock(symbol, currency);
      spots.set(symbol, spotOf(input.quote(held)));
    }
    return spots.get(symbol) ?? null;
  };
  return { orders: byRisk(orders, toClose, spotFor), blocked, clamped, held };
}

/**
 * The orders in sending order: by time, and among those free to go at the same time, each next the one that leaves
 * the least exposure (core/exposure.ts) once it and those before it have filled; ties keep the tier order.
 */
function byRisk(
  orders: readonly PlannedOrder[],
  holdings: readonly { contract: Contract; qty: number }[],
  spotFor: (symbol: string, currency: string) => number | null,
): PlannedOrder[] {
  const state = new Map<ContractKey, { contract: Contract; qty: number }>();
  for (const h of holdings) state.set(contractKey(h.contract), { contract: h.contract, qty: h.qty });
  const apply = (o: PlannedOrder, sign: 1 | -1): void => {
    for (const l of o.request.legs) {
      const k = contractKey(l.contract);
      const x = state.get(k) ?? { contract: l.contract, qty: 0 };
      x.qty += sign * legEffect(l, o.request.quantity);
      state.set(k, x);
    }
  };
  const exposure = (): Exposure => {
    const bySymbol = new Map<string, { shares: number; options: ExposureOption[]; currency: string }>();
    for (const { contract, qty } of state.values()) {
      const s = bySymbol.get(contract.symbol) ?? { shares: 0, options: [], currency: contract.currency };
      if (isOption(contract)) s.options.push(exposureOption(contract, qty));
      else s.shares += qty;
      bySymbol.set(contract.symbol, s);
    }
    let e = NO_EXPOSURE;
    for (const [symbol, s] of bySymbol) e = addExposure(e, exposureOf(s.shares, s.options, spotFor(symbol, s.currency)));
    return e;
  };
  const out: PlannedOrder[] = [];
  const left = [...orders];
  while (left.length > 0) {
    const at = left[0]!.notBefore;
    let best = 0;
    let bestE: Exposure | null = null;
    for (let i = 0; i < left.length && left[i]!.notBefore === at; i++) {
      apply(left[i]!, 1);
      const e = exposure();
      apply(left[i]!, -1);
      if (bestE === null || compareExposure(e, bestE) < 0) {
        best = i;
        bestE = e;
      }
    }
    const [next] = left.splice(best, 1);
    apply(next!, 1);
    out.push(next!);
  }
  return out;
}

function exposureOption(c: OptionContract, qty: number): ExposureOption {
  return { right: c.right, strike: c.strike, units: qty * c.multiplier };
}

/** The underlying's price from its quote: the mid, else whichever side or last there is. */
function spotOf(q: QuoteView | null): number | null {
  if (q === null) return null;
  if (q.bid !== null && q.ask !== null && q.bid > 0 && q.ask >= q.bid) return (q.bid + q.ask) / 2;
  const p = q.last ?? q.bid ?? q.ask;
  return p !== null && p > 0 ? p : null;
}

/** A long option caps a short one's risk: same underlying, right and multiplier, expiring no earlier. */
function covers_(long: OptionContract, short: OptionContract): boolean {
  return (
    long.symbol === short.symbol &&
    long.right === short.right &&
    long.multiplier === short.multiplier &&
    long.settlement === short.settlement &&
    long.expiry >= short.expiry
  );
}

function optionOrder(a: OptionContract, b: OptionContract): number {
  const ka = contractKey(a);
  const kb = contractKey(b);
  return a.expiry < b.expiry ? -1 : a.expiry > b.expiry ? 1 : a.strike - b.strike || (ka < kb ? -1 : ka > kb ? 1 : 0);
}

/** `P440.260130`: short, and free of characters an orderRef cannot carry. */
function optionCode(c: OptionContract): string {
  return `${c.right}${formatStrike(c.strike)}.${c.expiry.slice(2).replaceAll('-', '')}`;
}

function safe(s: string): string {
  return s.replace(/[^A-Za-z0-9._:-]/g, '_');
}

function single(tier: RiskTier, contract: Contract, action: 'BUY' | 'SELL', units: number, session: Part['session']): Part {
  const code = isOption(contract) ? `${safe(contract.symbol)}.${optionCode(contract)}` : `${safe(contract.symbol)}.STK`;
  return { tier, group: `t${tier}.${code}`, legs: [{ contract, action, ratio: 1 }], units, session };
}

function add(m: Map<ContractKey, { contract: OptionContract; units: number }>, c: OptionContract, units: number): void {
  const key = contractKey(c);
  const x = m.get(key);
  if (x) x.units += units;
  else m.set(key, { contract: c, units });
}

/** The signed holding a part closes (of its first leg), for `blocked` entries. */
function signedQty(p: Part): Qty {
  const l = p.legs[0]!;
  return Qty.unsafe((l.action === 'BUY' ? -1 : 1) * l.ratio * p.units);
}

/** The most units one order may carry under the gate's limits at `price`. */
function maxUnits(p: Part, price: number, limits: GateLimits | undefined): number {
  let most = p.units;
  if (!limits) return most;
  let mult = 1;
  for (const l of p.legs) {
    const isOpt = isOption(l.contract);
    const max = isOpt ? limits.maxContractsPerOrder : limits.maxSharesPerOrder;
    if (max !== null) most = Math.min(most, Math.floor(max / l.ratio));
    if (isOption(l.contract)) mult = Math.max(mult, l.contract.multiplier);
  }
  if (limits.maxNotionalPerOrder !== null && price !== 0) {
    const unit = Math.abs(price) * mult;
    most = Math.min(most, Math.floor(limits.maxNotionalPerOrder / unit + 1e-9));
    // The gate computes the notional the same way; step down past any float rounding it would refuse.
    while (most > 0 && unit * most > limits.maxNotionalPerOrder) most--;
  }
  return most;
}
