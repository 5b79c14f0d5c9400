import type { Contract } from './contract.js';

/**
 * Contracts as records keep them: without the fields that hold their usual values (multiplier 100, American exercise,
 * physical settlement, USD), which most of a US equity options book has. A stored strategy, holding, order and plan
 * each name their contracts, and a burst of a thousand breaks commits some twenty per strategy: these fields were a
 * fifth of its bytes. The usual values are constants, not derived from the symbol (SPX's European cash settlement
 * is written out), so a record reads back the same whatever a later version assumes about symbols.
 *
 * @example
 *   compactContract(option({ symbol: 'SPY', right: 'P', strike: 440, expiry: '2026-01-30' }))
 *   // { secType: 'OPT', symbol: 'SPY', right: 'P', strike: 440, expiry: '2026-01-30' }
 *   expandContract(that) // the option again, every field in place
 */
export const CONTRACT_DEFAULTS = { multiplier: 100, style: 'american', settlement: 'physical', currency: 'USD' } as const;

const STOCK_KEYS: ReadonlySet<string> = new Set(['secType', 'symbol', 'currency']);

/**
 * `c` without the fields at their usual value. A value that is not a contract of the known shape (an unknown field,
 * a field missing) is returned as it is: written in full, it reads back in full.
 */
export function compactContract(x: unknown): unknown {
  if (typeof x !== 'object' || x === null) return x;
  const c = x as Contract;
  // Built field by field (a thousand-strategy commit compacts some twenty thousand): the fields known, and the count
  // of keys, which proves there is no other.
  if (c.secType === 'STK') {
    if (typeof c.currency !== 'string' || !('symbol' in c) || Object.keys(c).length !== 3) return c;
    return c.currency === CONTRACT_DEFAULTS.currency ? { secType: 'STK', symbol: c.symbol } : c;
  }
  if (c.secType !== 'OPT' || c.multiplier === undefined || c.style === undefined || c.settlement === undefined || c.currency === undefined) return c;
  if (!('symbol' in c && 'right' in c && 'strike' in c && 'expiry' in c) || Object.keys(c).length !== (c.tradingClass === undefined ? 9 : 10)) return c;
  const out: Record<string, unknown> = { secType: 'OPT', symbol: c.symbol, right: c.right, strike: c.strike, expiry: c.expiry };
  if (c.multiplier !== CONTRACT_DEFAULTS.multiplier) out['multiplier'] = c.multiplier;
  if (c.style !== CONTRACT_DEFAULTS.style) out['style'] = c.style;
  if (c.settlement !== CONTRACT_DEFAULTS.settlement) out['settlement'] = c.settlement;
  if (c.currency !== CONTRACT_DEFAULTS.currency) out['currency'] = c.currency;
  if (c.tradingClass !== undefined) out['tradingClass'] = c.tradingClass;
  return out;
}

/**
 * A contract read back: the fields left out filled with their usual values, in the order `option()` and `stock()`
 * give them. A contract written in full comes back as it is. Whether the result is a well-formed contract is the
 * reader's to check.
 */
export function expandContract(x: unknown): unknown {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return x;
  const c = x as Record<string, unknown>;
  if (c.secType === 'STK') {
    if ('currency' in c) return x;
    return { secType: 'STK', symbol: c.symbol, currency: CONTRACT_DEFAULTS.currency, ...withoutKnown(c, STOCK_KEYS) };
  }
  if (c.secType !== 'OPT') return x;
  if ('multiplier' in c && 'style' in c && 'settlement' in c && 'currency' in c) return x;
  return {
    secType: 'OPT',
    symbol: c.symbol,
    right: c.right,
    strike: c.strike,
    expiry: c.expiry,
    multiplier: c.multiplier ?? CONTRACT_DEFAULTS.multiplier,
    style: c.style ?? CONTRACT_DEFAULTS.style,
    settlement: c.settlement ?? CONTRACT_DEFAULTS.settlement,
    currency: c.currency ?? CONTRACT_DEFAULTS.currency,
    ...('tradingClass' in c ? { tradingClass: c.tradingClass } : {}),
  };
}

/** Fields of `c` outside `known` (none in a contract `compactContract` shortened). */
function withoutKnown(c: Record<string, unknown>, known: ReadonlySet<string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(c)) if (!known.has(k)) out[k] = v;
  return out;
}
