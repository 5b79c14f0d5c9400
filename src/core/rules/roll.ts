import type { Holding } from '../book.js';
import { addDays, expiryClose, nyInstant, previousTradingDay, weekday } from '../calendar.js';
import { describeContract, IsoDate, isOption, type Contract, type OptionContract } from '../contract.js';
import type { EpochMs } from '../quantity.js';
import { binomial } from '../pricing/binomial.js';
import { blackScholes } from '../pricing/black-scholes.js';
import type { CashDividend, OptionInput } from '../pricing/option-input.js';
import type { Dividend, QuoteView } from '../quote-view.js';
import { flagged, type StrategyRisk } from './assignment-risk.js';

const YEAR_MS = 365 * 86_400_000;
/** Tree steps for a leg the market does not quote: a price to about the cent is all a suggestion needs. */
const DEFAULT_STEPS = 100;

/**
 * The monthly expiry of a month (`2026-03`): its third Friday, or the trading day before when that is a holiday
 * (Good Friday), as the exchanges list it.
 */
export function monthlyExpiry(year: number, month: number): IsoDate {
  const first = `${year}-${String(month).padStart(2, '0')}-01`;
  const toFriday = (5 - weekday(first) + 7) % 7;
  return previousTradingDay(addDays(first, toFriday + 14));
}

/**
 * The expiry a roll out of `from` goes to: the first listed one after it when the expiries listed for the underlying
 * are known, else the next standard monthly expiry after it (every optionable US underlying lists those; weeklies
 * are not assumed). Null when the list names none later.
 *
 * @example
 *   nextExpiry('2026-02-20', null)                          // '2026-03-20' (the third Friday of March)
 *   nextExpiry('2026-02-20', ['2026-02-27', '2026-03-20'])  // '2026-02-27'
 */
export function nextExpiry(from: string, listed: readonly string[] | null): IsoDate | null {
  if (listed !== null) {
    const later = [...listed].filter((e) => e > from).sort();
    return later[0] === undefined ? null : IsoDate.unsafe(later[0]);
  }
  let y = Number(from.slice(0, 4));
  let m = Number(from.slice(5, 7));
  for (;;) {
    const e = monthlyExpiry(y, m);
    if (e > from) return e;
    m = m === 12 ? 1 : m + 1;
    if (m === 1) y++;
  }
}

/** What a roll prices with: the market first, else the model on the config's rate, volatility and dividends. */
export interface RollMarket {
  readonly now: EpochMs;
  readonly spot: (symbol: string) => number | null;
  readonly quote: (contract: Contract) => QuoteView | null;
  readonly rate: number;
  readonly volatility: (symbol: string) => number | null;
  readonly dividends: (symbol: string) => readonly Dividend[];
  /** Expiries listed for an underlying (the broker's option chain) when known; null: the standard monthly cycle. */
  readonly expiries?: (symbol: string) => readonly string[] | null;
  /** Tree steps for model prices (default 100). */
  readonly steps?: number;
}

export type PriceSource = 'market' | 'model';

/** One option leg rolled: `close` bought or sold back at its price, `open` the same leg at the later expiry. */
export interface RollLeg {
  readonly close: OptionContract;
  readonly open: OptionContract;
  /** Held, signed: the same quantity is held after the roll. */
  readonly qty: number;
  /** Per share: the side the trade would take (buying at the ask, selling at the bid), else the model's value. */
  readonly closePrice: number | null;
  readonly closeSource: PriceSource | null;
  readonly openPrice: number | null;
  readonly openSource: PriceSource | null;
}

/** The roll that would keep a position: shown, never sent. */
export type Roll =
  | {
      readonly kind: 'roll';
      readonly from: IsoDate;
      readonly to: IsoDate;
      readonly legs: readonly RollLeg[];
      /** In money, for the whole position: positive a credit, negative a debit; null when a leg has no price. */
      readonly net: number | null;
      /** `market` when every price is quoted, `model` when none is, `mixed` otherwise; null without a net. */
      readonly netSource: PriceSource | 'mixed' | null;
      /** One line: `roll XOM 2026-02-20 -> 2026-03-20: buy 1 XOM 2026-02-20 120 C at 8.10, sell 1 ... : net credit 85.00 (market)`. */
      readonly text: string;
    }
  | { readonly kind: 'none'; readonly reason: string };

/** The quote's side a trade takes; a quote with no bid sells for nothing (0), one with no ask cannot be bought (null). */
function side(q: QuoteView | null, buying: boolean): number | null {
  if (q === null) return null;
  const p = buying ? q.ask : q.bid;
  if (p !== null && Number.isFinite(p) && p > 0) return p;
  return buying ? null : 0;
}

function modelPrice(c: OptionContract, m: RollMarket): number | null {
  const S = m.spot(c.symbol);
  const vol = m.volatility(c.symbol);
  const close = expiryClose(c.expiry);
  if (S === null || !(S > 0) || vol === null || !(vol > 0) || close <= m.now) return null;
  const dividends: CashDividend[] = m
    .dividends(c.symbol)
    .map((d) => ({ at: nyInstant(d.exDate, 0, 0), amount: d.amount }))
    .filter((d) => d.amount > 0 && d.at > m.now && d.at <= close)
    .map((d) => ({ time: (d.at - m.now) / YEAR_MS, amount: d.amount }));
  if (dividends.reduce((s, d) => s + d.amount, 0) >= S) return null;
  const input: OptionInput = { right: c.right, spot: S, strike: c.strike, time: (close - m.now) / YEAR_MS, rate: m.rate, vol, dividends };
  const v = c.style === 'american' ? binomial(input, { steps: m.steps ?? DEFAULT_STEPS }).price : blackScholes(input).price;
  return Number.isFinite(v) ? Math.max(0, v) : null;
}

function price(c: OptionContract, buying: boolean, m: RollMarket): { price: number | null; source: PriceSource | null } {
  const quoted = side(m.quote(c), buying);
  if (quoted !== null) return { price: quoted, source: 'market' };
  const model = modelPrice(c, m);
  return model === null ? { price: null, source: null } : { price: Math.round(model * 100) / 100, source: 'model' };
}

const money = (v: number): string => Math.abs(v).toFixed(2);

/**
 * The roll that would keep a position through a threatened expiry: every option leg expiring `from` closed and the
 * same leg (right, strike, quantity) opened at the next expiry (`nextExpiry`); stock and legs of other expiries stay.
 * Each leg is priced on the side its trade would take (a short leg bought back at the ask and sold again at the bid, a
 * long one the other way round; a quoted option nobody bids sells for 0), from the market's quote, else from the model (American tree, or Black-Scholes for a
 * European option). The net is for the whole position, in money: what the new legs bring less what closing the old
 * ones costs. Pure: the caller supplies quotes (for the new contracts too, when it can) and the model's inputs.
 *
 * @example
 *   // -1 XOM 2026-02-20 120 C, ask 8.10; XOM 2026-03-20 120 C bid 8.95
 *   rollPosition([{ contract: c120feb, qty: -1 }], '2026-02-20', market)
 *   // { kind: 'roll', to: '2026-03-20', net: 85, netSource: 'market', text: 'roll XOM 2026-02-20 -> 2026-03-20: ...' }
 */
export function rollPosition(holdings: readonly Holding[], from: string, m: RollMarket): Roll {
  const rolling = holdings.filter((h): h is Holding & { contract: OptionContract } => isOption(h.contract) && h.contract.expiry === from && h.qty !== 0);
  if (rolling.length === 0) return { kind: 'none', reason: `no option leg expiring ${from}` };
  const symbols = [...new Set(rolling.map((h) => h.contract.symbol))];
  const targets = symbols.map((s) => nextExpiry(from, m.expiries?.(s) ?? null));
  const to = targets[0] ?? null;
  if (to === null || targets.some((t) => t !== to)) {
    return { kind: 'none', reason: `no common later expiry listed for ${symbols.join(', ')} after ${from}` };
  }
  const legs: RollLeg[] = rolling.map((h) => {
    const open: OptionContract = { ...h.contract, expiry: to };
    const c = price(h.contract, h.qty < 0, m);
    const o = price(open, h.qty > 0, m);
    return { close: h.contract, open, qty: h.qty, closePrice: c.price, closeSource: c.source, openPrice: o.price, openSource: o.source };
  });
  const priced = legs.every((l) => l.closePrice !== null && l.openPrice !== null);
  const net = priced ? Math.round(legs.reduce((s, l) => s + l.qty * (l.closePrice! - l.openPrice!) * l.close.multiplier, 0) * 100) / 100 : null;
  const sources = new Set(legs.flatMap((l) => [l.closeSource, l.openSource]));
  const netSource: PriceSource | 'mixed' | null = !priced ? null : sources.size === 1 ? [...sources][0]! : 'mixed';
  const trade = (verb: (q: number) => string, c: OptionContract, q: number, p: number | null): string => `${verb(q)} ${Math.abs(q)} ${describeContract(c)} at ${p === null ? '?' : p.toFixed(2)}`;
  const steps = legs.flatMap((l) => [
    trade((q) => (q < 0 ? 'buy' : 'sell'), l.close, l.qty, l.closePrice),
    trade((q) => (q < 0 ? 'sell' : 'buy'), l.open, l.qty, l.openPrice),
  ]);
  const missing = legs.flatMap((l) => [...(l.closePrice === null ? [l.close] : []), ...(l.openPrice === null ? [l.open] : [])]).map(describeContract);
  const tail =
    net === null
      ? `net unknown: no market price and no volatility for ${missing.join(', ')}`
      : `net ${net >= 0 ? 'credit' : 'debit'} ${money(net)} (${netSource === 'model' ? 'model prices' : netSource === 'mixed' ? 'market and model prices' : 'market prices'})`;
  return { kind: 'roll', from: IsoDate.unsafe(from), to, legs, net, netSource, text: `roll ${symbols.join(', ')} ${from} -> ${to}: ${steps.join(', ')}; ${tail}` };
}

/**
 * The roll shown for a strategy the look-ahead rules flag (at risk now, or when its window opens): out of the expiry
 * of the first flagged short leg. Null when nothing is flagged.
 */
export function rollForRisk(risk: StrategyRisk, holdings: readonly Holding[], m: RollMarket): Roll | null {
  const leg = risk.legs.find((l) => l.findings.some(flagged));
  return leg === undefined ? null : rollPosition(holdings, leg.contract.expiry, m);
}

/** A roll for JSON and journal readers: contracts as their description. */
export function rollJson(r: Roll): Record<string, unknown> {
  if (r.kind === 'none') return { ...r };
  return {
    ...r,
    legs: r.legs.map((l) => ({ ...l, close: describeContract(l.close), open: describeContract(l.open) })),
  };
}

/** A roll flattened into a decision's metadata (journal, alert facts, `replay --json` risks). */
export function rollMetadata(r: Roll | null): Record<string, string | number | null> {
  if (r === null) return {};
  if (r.kind === 'none') return { roll: `no roll: ${r.reason}` };
  return { roll: r.text, rollTo: r.to, rollNet: r.net, rollNetSource: r.netSource };
}
