import { INDEX_SYMBOLS, option, stock, type Contract, type Right } from '../../core/contract.js';
import type { BrokerPort } from '../../ports/broker.js';
import type { Clock } from '../../ports/clock.js';

/** A stock or option as a client described it, fully: what `GatewayBackend.resolve` turns into a contract. */
export type ContractSpec =
  | { readonly secType: 'STK'; readonly symbol: string; readonly currency: string }
  | {
      readonly secType: 'OPT';
      readonly symbol: string;
      readonly right: Right;
      readonly strike: number;
      /** `YYYY-MM-DD`. */
      readonly expiry: string;
      readonly multiplier: number | null;
      readonly tradingClass: string | null;
      readonly currency: string;
    };

/**
 * What the gateway bridges to: a legguard broker (the simulator's `BrokerPort`, in practice) and the little more a
 * TWS client expects that the port does not carry. The gateway assigns IB conIds itself; it asks the backend only
 * whether a described contract exists and what it is (an index option is European and cash-settled, and only the
 * backend knows which underlyings are indices).
 */
export interface GatewayBackend {
  readonly broker: BrokerPort;
  /** The gateway's time: connection time, current time, the nightly reset window, fault delays. */
  readonly clock: Clock;
  /** The contract for a full description, or null when the backend does not trade it (IB error 200). */
  resolve(spec: ContractSpec): Contract | null;
  /**
   * The accounts of this login (REQ_MANAGED_ACCTS), when it manages several (`LoginBroker`); absent: the broker's
   * one account.
   */
  readonly accounts?: readonly string[];
}

/** The accounts a backend's login manages: its list, or its broker's one account. */
export function managedAccounts(backend: Pick<GatewayBackend, 'broker' | 'accounts'>): readonly string[] {
  return backend.accounts ?? [backend.broker.account];
}

/**
 * A resolver for backends that know their underlyings by symbol: index symbols (SPX, XSP ... or any in `indices`)
 * get European, cash-settled options, everything else American, physically settled. Unknown symbols resolve to null.
 */
export function symbolResolver(symbols: Iterable<string>, indices: Iterable<string> = []): (spec: ContractSpec) => Contract | null {
  const known = new Set([...symbols].map((s) => s.toUpperCase()));
  const idx = new Set([...indices].map((s) => s.toUpperCase()));
  return (spec) => {
    const symbol = spec.symbol.toUpperCase();
    if (!known.has(symbol)) return null;
    if (spec.secType === 'STK') return stock(symbol, spec.currency || 'USD');
    return option({
      symbol,
      right: spec.right,
      strike: spec.strike,
      expiry: spec.expiry,
      ...(spec.multiplier !== null ? { multiplier: spec.multiplier } : {}),
      index: idx.has(symbol) || INDEX_SYMBOLS.has(symbol),
      currency: spec.currency || 'USD',
      ...(spec.tradingClass !== null && spec.tradingClass !== symbol ? { tradingClass: spec.tradingClass } : {}),
    });
  };
}
