import type { Brand } from './brand.js';
import type { ContractKey } from './ids.js';
import { LegguardError } from './errors.js';

/** A calendar date, `YYYY-MM-DD`. Option expiries and ex-dividend dates are dates, not instants. */
export type IsoDate = Brand<string, 'IsoDate'>;
export const IsoDate = {
  parse(value: unknown, what = 'date'): IsoDate {
    if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(value) || !isRealDate(value)) {
      throw new LegguardError('INVALID_INPUT', `${what} must be a date YYYY-MM-DD; got ${JSON.stringify(value)}`);
    }
    return value as IsoDate;
  },
  unsafe(value: string): IsoDate {
    return value as IsoDate;
  },
};

function isRealDate(s: string): boolean {
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}

export type Right = 'C' | 'P';
export type ExerciseStyle = 'american' | 'european';
export type Settlement = 'physical' | 'cash';

export interface StockContract {
  readonly secType: 'STK';
  readonly symbol: string;
  readonly currency: string;
}

export interface OptionContract {
  readonly secType: 'OPT';
  /** The underlying's symbol: SPY, SPX ... */
  readonly symbol: string;
  readonly right: Right;
  readonly strike: number;
  readonly expiry: IsoDate;
  /** Shares (or index dollars) per contract; 100 for US equity and index options. */
  readonly multiplier: number;
  readonly style: ExerciseStyle;
  readonly settlement: Settlement;
  readonly currency: string;
  /** IB's trading class where it differs from the symbol (SPXW for SPX weeklies). */
  readonly tradingClass?: string;
}

export type Contract = StockContract | OptionContract;

/**
 * Underlyings whose options are European and cash-settled unless a scenario or contract details say otherwise.
 * SPY, QQQ and IWM options are American and physically settled; these are indices.
 */
export const INDEX_SYMBOLS: ReadonlySet<string> = new Set(['SPX', 'SPXW', 'XSP', 'NDX', 'NDXP', 'RUT', 'VIX', 'DJX', 'OEX', 'XEO', 'MRUT']);

export function stock(symbol: string, currency = 'USD'): StockContract {
  return { secType: 'STK', symbol: symbol.toUpperCase(), currency };
}

export interface OptionSpec {
  symbol: string;
  right: Right;
  strike: number;
  expiry: string;
  multiplier?: number;
  /** Defaults from the symbol: index symbols are European/cash, everything else American/physical. */
  index?: boolean;
  style?: ExerciseStyle;
  settlement?: Settlement;
  currency?: string;
  tradingClass?: string;
}

export function option(spec: OptionSpec): OptionContract {
  const symbol = spec.symbol.toUpperCase();
  const index = spec.index ?? INDEX_SYMBOLS.has(symbol);
  if (!Number.isFinite(spec.strike) || spec.strike <= 0) {
    throw new LegguardError('INVALID_INPUT', `option strike must be a positive number; got ${spec.strike}`);
  }
  const c: OptionContract = {
    secType: 'OPT',
    symbol,
    right: spec.right,
    strike: spec.strike,
    expiry: IsoDate.parse(spec.expiry, 'option expiry'),
    multiplier: spec.multiplier ?? 100,
    style: spec.style ?? (index ? 'european' : 'american'),
    settlement: spec.settlement ?? (index ? 'cash' : 'physical'),
    currency: spec.currency ?? 'USD',
    ...(spec.tradingClass !== undefined ? { tradingClass: spec.tradingClass } : {}),
  };
  return c;
}

/** Strikes print without float noise: 440, 432.5, 0.5. */
export function formatStrike(strike: number): string {
  // A book has a few thousand distinct strikes and formats them on every key (40,000 keys a reconciliation at 10,000
  // strategies): each is formatted once. The cache is bounded; past the bound it starts again.
  let s = strikeText.get(strike);
  if (s === undefined) {
    s = String(Number(strike.toFixed(4)));
    if (strikeText.size >= STRIKE_CACHE_MAX) strikeText.clear();
    strikeText.set(strike, s);
  }
  return s;
}

const STRIKE_CACHE_MAX = 50_000;
const strikeText = new Map<number, string>();

/**
 * The canonical key of a contract, used wherever positions, holdings and orders meet:
 * `STK:SPY`, `OPT:SPY:2026-01-30:P:440`. Two contracts with the same key are the same at the broker.
 */
export function contractKey(c: Contract): ContractKey {
  if (c.secType === 'STK') return `STK:${c.symbol}` as ContractKey;
  return `OPT:${c.symbol}:${c.expiry}:${c.right}:${formatStrike(c.strike)}` as ContractKey;
}

/** Human form for timelines and alerts: `SPY`, `SPY 2026-01-30 440 P`. */
export function describeContract(c: Contract): string {
  if (c.secType === 'STK') return c.symbol;
  return `${c.symbol} ${c.expiry} ${formatStrike(c.strike)} ${c.right}`;
}

export function isOption(c: Contract): c is OptionContract {
  return c.secType === 'OPT';
}

export function isStock(c: Contract): c is StockContract {
  return c.secType === 'STK';
}

/** The stock an option delivers on exercise or assignment; null for a cash-settled option. */
export function deliverable(c: OptionContract): StockContract | null {
  return c.settlement === 'physical' ? stock(c.symbol, c.currency) : null;
}

/**
 * Shares of stock that exercise (a long option, qty > 0) or assignment (a short option, qty < 0) of `optionQty`
 * contracts moves into the account. A call delivers stock to its holder; a put takes it away.
 *
 * @example
 *   stockFromSettlement(shortPut440, -2)  // +200: assigned on 2 short puts, we buy 200 shares
 *   stockFromSettlement(shortCall460, -1) // -100: assigned on 1 short call, we deliver 100 shares
 *   stockFromSettlement(longCall465, 1)   // +100: we exercise and buy 100 shares
 */
export function stockFromSettlement(c: OptionContract, optionQty: number): number {
  if (c.settlement === 'cash') return 0;
  const shares = (c.right === 'C' ? 1 : -1) * optionQty * c.multiplier;
  return shares === 0 ? 0 : shares;
}
