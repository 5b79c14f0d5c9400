import { expiryClose, nyDate, nyInstant } from '../../core/calendar.js';
import type { Contract, IsoDate, OptionContract } from '../../core/contract.js';
import { LegguardError } from '../../core/errors.js';
import { Price, type EpochMs } from '../../core/quantity.js';
import { binomial } from '../../core/pricing/binomial.js';
import { blackScholes } from '../../core/pricing/black-scholes.js';
import type { CashDividend, OptionInput } from '../../core/pricing/option-input.js';
import type { Clock } from '../../ports/clock.js';
import type { Quote } from '../../ports/broker.js';

/** Milliseconds in the year that every pricing time is counted in (calendar days / 365). */
export const YEAR_MS = 365 * 86_400_000;

export interface UnderlyingSpec {
  readonly symbol: string;
  readonly price: number;
  /** Annual volatility; 0.20 when not given. */
  readonly volatility?: number;
  /** Cash dividends by ex-date. The price drops by the amount at the start (midnight New York) of each ex-date. */
  readonly dividends?: readonly { readonly exDate: IsoDate; readonly amount: number }[];
  /** `index`: options are European and cash-settled, no shares trade. */
  readonly kind?: 'stock' | 'index';
  /** A continuous dividend yield, for indices. */
  readonly dividendYield?: number;
}

export interface MarketSettings {
  /** Risk-free rate, continuously compounded. */
  readonly rate: number;
  /** Option quotes are `max(minWidth, fraction x value)` wide around the model value, on a 0.01 tick. */
  readonly optionSpread: { readonly fraction: number; readonly minWidth: number };
  /** Stock quotes are this wide around the price. */
  readonly stockSpread: number;
  /** Tree steps for American option quotes (a quote carries a spread far wider than the tree's error). */
  readonly quoteSteps: number;
}

export const DEFAULT_MARKET_SETTINGS: MarketSettings = {
  rate: 0.045,
  optionSpread: { fraction: 0.04, minWidth: 0.02 },
  stockSpread: 0.02,
  quoteSteps: 200,
};

export interface SimUnderlying {
  readonly symbol: string;
  price: number;
  volatility: number;
  readonly dividends: readonly { readonly exDate: IsoDate; readonly amount: number }[];
  readonly kind: 'stock' | 'index';
  readonly dividendYield: number;
}

export type MarketChange =
  | { readonly kind: 'price'; readonly symbol: string; readonly price: number; readonly reason: 'set' | 'ex-dividend' }
  | { readonly kind: 'volatility'; readonly symbol: string; readonly volatility: number };

/** When a dividend's ex-date starts: the price has dropped by then. */
export function exDateStart(exDate: string): EpochMs {
  return nyInstant(exDate, 0, 0);
}

/**
 * The simulated market: underlyings with a price, a volatility and dividends, and quotes for their options from the
 * pricing model (a CRR tree with the cash dividends escrowed for American options, Black-Scholes for European index
 * options) with a spread around the model value. Prices change when told (scenario events) and drop by the dividend
 * at each ex-date.
 */
export class SimMarket {
  readonly settings: MarketSettings;
  private readonly underlyings = new Map<string, SimUnderlying>();
  private readonly listeners: ((c: MarketChange) => void)[] = [];

  constructor(
    private readonly clock: Clock,
    specs: readonly UnderlyingSpec[],
    settings: Partial<MarketSettings> = {},
  ) {
    this.settings = { ...DEFAULT_MARKET_SETTINGS, ...settings };
    for (const s of specs) {
      const symbol = s.symbol.toUpperCase();
      checkPositive(s.price, `underlying ${symbol} price`);
      const u: SimUnderlying = {
        symbol,
        price: s.price,
        volatility: s.volatility ?? 0.2,
        dividends: [...(s.dividends ?? [])].sort((a, b) => (a.exDate < b.exDate ? -1 : a.exDate > b.exDate ? 1 : 0)),
        kind: s.kind ?? 'stock',
        dividendYield: s.dividendYield ?? 0,
      };
      checkPositive(u.volatility, `underlying ${symbol} volatility`);
      const coming = this.comingDividends(u);
      if (u.price <= coming) {
        throw new LegguardError('INVALID_INPUT', `underlying ${symbol} price ${u.price} is not above the ${coming.toFixed(2)} of dividends still to come`);
      }
      this.underlyings.set(symbol, u);
      const now = clock.now();
      for (const d of u.dividends) {
        const at = exDateStart(d.exDate);
        if (at > now) clock.setTimer(at, () => this.exDividend(u, d.amount));
      }
    }
  }

  onChange(fn: (c: MarketChange) => void): () => void {
    this.listeners.push(fn);
    return () => {
      const i = this.listeners.indexOf(fn);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  symbols(): string[] {
    return [...this.underlyings.keys()];
  }

  has(symbol: string): boolean {
    return this.underlyings.has(symbol.toUpperCase());
  }

  underlying(symbol: string): SimUnderlying {
    const u = this.underlyings.get(symbol.toUpperCase());
    if (!u) throw new LegguardError('INVALID_INPUT', `the simulated market has no underlying ${symbol}`, { symbol });
    return u;
  }

  isIndex(symbol: string): boolean {
    return this.underlyings.get(symbol.toUpperCase())?.kind === 'index';
  }

  price(symbol: string): number {
    return this.underlying(symbol).price;
  }

  setPrice(symbol: string, price: number): void {
    const u = this.underlying(symbol);
    checkPositive(price, `${u.symbol} price`);
    // The escrowed-dividend models need the spot above the dividends still to come; a price below them is nonsense.
    const coming = this.comingDividends(u);
    if (price <= coming) {
      throw new LegguardError('INVALID_INPUT', `${u.symbol} price ${price} is not above the ${coming.toFixed(2)} of dividends still to come`);
    }
    u.price = price;
    this.notify({ kind: 'price', symbol: u.symbol, price, reason: 'set' });
  }

  setVolatility(symbol: string, volatility: number): void {
    const u = this.underlying(symbol);
    checkPositive(volatility, `${u.symbol} volatility`);
    u.volatility = volatility;
    this.notify({ kind: 'volatility', symbol: u.symbol, volatility });
  }

  /** The sum of the dividends with an ex-date still ahead. */
  private comingDividends(u: SimUnderlying): number {
    const now = this.clock.now();
    return u.dividends.filter((d) => exDateStart(d.exDate) > now).reduce((sum, d) => sum + d.amount, 0);
  }

  private exDividend(u: SimUnderlying, amount: number): void {
    u.price = Math.max(0.01, Number((u.price - amount).toFixed(6)));
    this.notify({ kind: 'price', symbol: u.symbol, price: u.price, reason: 'ex-dividend' });
  }

  private notify(c: MarketChange): void {
    for (const l of [...this.listeners]) l(c);
  }

  /** Cash dividends with ex-dates after `from` and up to `to`, as pricing inputs in years from `from`. */
  cashDividends(symbol: string, from: number, to: number): CashDividend[] {
    const out: CashDividend[] = [];
    for (const d of this.underlying(symbol).dividends) {
      const at = exDateStart(d.exDate);
      if (at > from && at <= to) out.push({ time: (at - from) / YEAR_MS, amount: d.amount });
    }
    return out;
  }

  /** Dividends with an ex-date on or after today (New York), as the broker announces them. */
  upcomingDividends(symbol: string): { exDate: string; amount: number }[] {
    const today = nyDate(this.clock.now());
    return this.underlying(symbol).dividends.filter((d) => d.exDate >= today).map((d) => ({ exDate: d.exDate, amount: d.amount }));
  }

  /** The pricing input for an option now (or at `at`), with the underlying's current price. */
  optionInput(c: OptionContract, at: number = this.clock.now()): OptionInput | null {
    const u = this.underlying(c.symbol);
    const close = expiryClose(c.expiry);
    if (at >= close) return null;
    const input: OptionInput = {
      right: c.right,
      spot: u.price,
      strike: c.strike,
      time: (close - at) / YEAR_MS,
      rate: this.settings.rate,
      vol: u.volatility,
      dividendYield: u.dividendYield,
      dividends: this.cashDividends(u.symbol, at, close),
    };
    return input;
  }

  /** The model value of an option now; its intrinsic value once it has expired. */
  optionValue(c: OptionContract): number {
    const input = this.optionInput(c);
    const u = this.underlying(c.symbol);
    if (!input) return Math.max(0, c.right === 'C' ? u.price - c.strike : c.strike - u.price);
    if (c.style === 'european') return blackScholes(input).price;
    return binomial(input, { steps: this.settings.quoteSteps }).price;
  }

  /** A quote as the broker would show it; null for a contract the market does not know or an expired option. */
  quote(c: Contract): Quote | null {
    const u = this.underlyings.get(c.symbol.toUpperCase());
    const at = this.clock.now();
    if (!u) return null;
    if (c.secType === 'STK') {
      const last = Price.round(u.price);
      if (u.kind === 'index') return { contract: c, bid: null, ask: null, last, underlying: null, at };
      const half = this.settings.stockSpread / 2;
      return {
        contract: c,
        bid: Price.round(u.price - half, 0.01, 'down'),
        ask: Price.round(u.price + half, 0.01, 'up'),
        last,
        underlying: null,
        at,
      };
    }
    if (at >= expiryClose(c.expiry)) return null;
    const value = this.optionValue(c);
    const { fraction, minWidth } = this.settings.optionSpread;
    const half = Math.max(minWidth, fraction * value) / 2;
    const bid = Price.round(value - half, 0.01, 'down');
    const ask = Price.round(Math.max(0.01, value + half), 0.01, 'up');
    return {
      contract: c,
      bid: bid >= 0.01 ? bid : null,
      ask,
      last: Price.round(value),
      underlying: Price.round(u.price),
      at,
    };
  }
}

function checkPositive(v: number, what: string): void {
  if (!(Number.isFinite(v) && v > 0)) throw new LegguardError('INVALID_INPUT', `${what} must be a positive number; got ${v}`);
}
