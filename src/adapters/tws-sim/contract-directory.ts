import { contractKey, formatStrike, INDEX_SYMBOLS, type Contract, type OptionContract } from '../../core/contract.js';
import { LegguardError } from '../../core/errors.js';
import type { ContractSpec } from './gateway-backend.js';
import type { WireContract } from './wire-contract.js';

/** IB's fields for a contract the gateway reports (positions, executions, orders, contract details). */
export interface ReportedContract {
  readonly conId: number;
  readonly symbol: string;
  /** `STK`, `OPT`, or `BAG` for a combo order's contract. */
  readonly secType: string;
  /** `YYYYMMDD`, empty for stock. */
  readonly lastTradeDate: string;
  /** 0 for stock. */
  readonly strike: number;
  /** `C`/`P`, empty for stock. */
  readonly right: string;
  /** `100` for options, empty for stock. */
  readonly multiplier: string;
  readonly exchange: string;
  readonly primaryExch: string;
  readonly currency: string;
  readonly localSymbol: string;
  readonly tradingClass: string;
}

/** 32-bit FNV-1a: a stable number for a string, so conIds survive a gateway restart. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * IB contract ids for legguard contracts. A conId is derived from the contract's key, so the same contract has the
 * same conId in every gateway run (a client that cached conIds before a restart still finds its contracts); a
 * collision, which the registry detects, moves to the next free id.
 */
export class ContractDirectory {
  private readonly byConId = new Map<number, string>();
  private readonly byKey = new Map<string, number>();
  private readonly contracts = new Map<number, Contract>();

  /** The conId for a key (`STK:SPY`, `OPT:...`, or `IND:SPX` for an index that is not a legguard contract). */
  conIdOfKey(key: string): number {
    const known = this.byKey.get(key);
    if (known !== undefined) return known;
    // Keep clear of 0 (unset) and of IB's Integer.MAX_VALUE (also "unset" on the wire).
    let id = (fnv1a(key) % 2_000_000_000) + 1;
    while (this.byConId.has(id)) id = (id % 2_000_000_000) + 1;
    this.byConId.set(id, key);
    this.byKey.set(key, id);
    return id;
  }

  conIdOf(c: Contract): number {
    const id = this.conIdOfKey(contractKey(c));
    if (!this.contracts.has(id)) this.contracts.set(id, c);
    return id;
  }

  contractOf(conId: number): Contract | undefined {
    return this.contracts.get(conId);
  }

  /** How IB reports the contract. Options carry an OCC-style local symbol: `SPY   260130P00440000`. */
  report(c: Contract): ReportedContract {
    const conId = this.conIdOf(c);
    if (c.secType === 'STK') {
      return {
        conId,
        symbol: c.symbol,
        secType: 'STK',
        lastTradeDate: '',
        strike: 0,
        right: '',
        multiplier: '',
        exchange: 'SMART',
        primaryExch: 'ARCA',
        currency: c.currency,
        localSymbol: c.symbol,
        tradingClass: c.symbol,
      };
    }
    return {
      conId,
      symbol: c.symbol,
      secType: 'OPT',
      lastTradeDate: c.expiry.replaceAll('-', ''),
      strike: c.strike,
      right: c.right,
      multiplier: String(c.multiplier),
      exchange: 'SMART',
      primaryExch: '',
      currency: c.currency,
      localSymbol: occSymbol(c),
      tradingClass: c.tradingClass ?? c.symbol,
    };
  }

  /**
   * The contract a client means: by conId when it names one the gateway has reported, else by its fields, which
   * `resolver` (the backend) completes or refuses. Throws INVALID_INPUT naming what is missing or unknown; the caller
   * answers with IB's 200.
   */
  resolve(w: WireContract, resolver: (spec: ContractSpec) => Contract | null): Contract {
    if (w.conId > 0) {
      const c = this.contracts.get(w.conId);
      if (c) return c;
      if (w.symbol === '') throw new LegguardError('INVALID_INPUT', `unknown conId ${w.conId}`);
    }
    const spec = this.specOf(w);
    const c = resolver(spec);
    if (!c) throw new LegguardError('INVALID_INPUT', `the simulator does not trade ${describeWire(w)}`);
    this.conIdOf(c);
    return c;
  }

  /** A client's contract fields as a spec; throws INVALID_INPUT naming what is missing. */
  specOf(w: WireContract): ContractSpec {
    const secType = w.secType.toUpperCase();
    const symbol = w.symbol.toUpperCase();
    const currency = w.currency === '' ? 'USD' : w.currency.toUpperCase();
    if (symbol === '') throw new LegguardError('INVALID_INPUT', 'the contract has neither a known conId nor a symbol');
    if (secType === 'STK') return { secType: 'STK', symbol, currency };
    if (secType !== 'OPT') {
      throw new LegguardError('INVALID_INPUT', `secType ${JSON.stringify(w.secType)}: the sim gateway trades STK and OPT`);
    }
    const date = w.lastTradeDateOrContractMonth.trim();
    if (!/^\d{8}$/.test(date)) {
      throw new LegguardError(
        'INVALID_INPUT',
        `an option needs lastTradeDateOrContractMonth as YYYYMMDD; got ${JSON.stringify(date)} (the sim gateway has no option chains)`,
      );
    }
    const right = w.right.toUpperCase();
    const r = right === 'C' || right === 'CALL' ? 'C' : right === 'P' || right === 'PUT' ? 'P' : null;
    if (r === null) throw new LegguardError('INVALID_INPUT', `an option needs right C or P; got ${JSON.stringify(w.right)}`);
    if (!(w.strike > 0)) throw new LegguardError('INVALID_INPUT', `an option needs a positive strike; got ${w.strike}`);
    const multiplier = w.multiplier === '' ? null : Number(w.multiplier);
    if (multiplier !== null && !(multiplier > 0)) {
      throw new LegguardError('INVALID_INPUT', `multiplier ${JSON.stringify(w.multiplier)} is not a positive number`);
    }
    return {
      secType: 'OPT',
      symbol,
      right: r,
      strike: w.strike,
      expiry: `${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 8)}`,
      multiplier,
      tradingClass: w.tradingClass === '' ? null : w.tradingClass.toUpperCase(),
      currency,
    };
  }
}

/** OCC option symbol: root padded to 6, YYMMDD, C/P, strike x 1000 in 8 digits. */
export function occSymbol(c: OptionContract): string {
  const root = (c.tradingClass ?? c.symbol).padEnd(6, ' ');
  const date = c.expiry.slice(2).replaceAll('-', '');
  const strike = String(Math.round(c.strike * 1000)).padStart(8, '0');
  return `${root}${date}${c.right}${strike}`;
}

/** The underlying's secType as IB reports it in option contract details. */
export function underlyingSecType(c: OptionContract): 'IND' | 'STK' {
  return c.settlement === 'cash' || INDEX_SYMBOLS.has(c.symbol) ? 'IND' : 'STK';
}

export function describeWire(w: WireContract): string {
  const parts = [w.symbol, w.secType, w.lastTradeDateOrContractMonth, w.strike > 0 ? formatStrike(w.strike) : '', w.right];
  return parts.filter((p) => p !== '').join(' ') || (w.conId > 0 ? `conId ${w.conId}` : '(empty contract)');
}
