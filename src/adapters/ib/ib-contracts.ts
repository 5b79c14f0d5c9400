import { OptionType, SecType, type Contract as IbContract } from '@stoqey/ib';
import type { Contract, ExerciseStyle, Settlement } from '../../core/contract.js';
import type { DividendInfo } from '../../ports/broker.js';

/** How an underlying's options exercise and settle, as learned from contract details (`underSecType`). */
export interface OptionTerms {
  readonly style: ExerciseStyle;
  readonly settlement: Settlement;
}

/**
 * What IB says about option terms. TWS's contract details carry no exercise style; an option on an index
 * (`underSecType` IND) is European and cash-settled in the US market legguard guards, an option on a stock or ETF
 * American and physically settled.
 */
export function termsFromUnderlying(underSecType: string | undefined): OptionTerms | null {
  if (underSecType === 'IND') return { style: 'european', settlement: 'cash' };
  if (underSecType === 'STK') return { style: 'american', settlement: 'physical' };
  return null;
}

/** IB's contract for a legguard contract, routed SMART; with the conId when known. */
export function toIbContract(c: Contract, conId?: number): IbContract {
  const base: IbContract = { symbol: c.symbol, exchange: 'SMART', currency: c.currency, ...(conId !== undefined ? { conId } : {}) };
  if (c.secType === 'STK') return { ...base, secType: SecType.STK };
  return {
    ...base,
    secType: SecType.OPT,
    lastTradeDateOrContractMonth: c.expiry.replaceAll('-', ''),
    strike: c.strike,
    right: c.right === 'C' ? OptionType.Call : OptionType.Put,
    multiplier: c.multiplier,
    ...(c.tradingClass !== undefined ? { tradingClass: c.tradingClass } : {}),
  };
}

/** The underlying itself, for its price and dividends: an index trades on CBOE as IND, a stock SMART as STK. */
export function underlyingContract(symbol: string, index: boolean): IbContract {
  return index
    ? { symbol, secType: SecType.IND, exchange: 'CBOE', currency: 'USD' }
    : { symbol, secType: SecType.STK, exchange: 'SMART', currency: 'USD' };
}

/**
 * IB's dividend tick (generic tick 456, tick type 59): `past12,next12,nextDate,nextAmount`.
 *
 * @example parseDividendTick('0.83,0.92,20130219,0.23') // [{ exDate: '2013-02-19', amount: 0.23 }]
 */
export function parseDividendTick(value: string): DividendInfo[] {
  const parts = value.split(',');
  const date = (parts[2] ?? '').trim();
  const amount = Number(parts[3]);
  if (!/^\d{8}$/.test(date) || !Number.isFinite(amount) || amount <= 0) return [];
  return [{ exDate: `${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 8)}`, amount }];
}
