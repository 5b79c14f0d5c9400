import { contractKey, type Contract } from './contract.js';
import type { ContractKey } from './ids.js';

/**
 * `contractKey` for passes over many contracts, the same ones again and again (a reconciliation looks at 40,000 each
 * time): the key is found by the contract's fields (symbol, right, expiry, strike) rather than built and hashed as a
 * new string each time, and it is the same string each time, whose hash the runtime keeps. Equal to `contractKey`
 * always (it is what it stores); bounded: past `max` keys it starts again.
 */
export class ContractKeys {
  private readonly stocks = new Map<string, ContractKey>();
  /** symbol -> expiry -> [puts, calls]: strike -> key. */
  private readonly options = new Map<string, Map<string, [Map<number, ContractKey>, Map<number, ContractKey>]>>();
  private size = 0;

  constructor(private readonly max = 200_000) {}

  keyOf(c: Contract): ContractKey {
    if (c.secType === 'STK') {
      let k = this.stocks.get(c.symbol);
      if (k === undefined) {
        k = contractKey(c);
        this.remember();
        this.stocks.set(c.symbol, k);
      }
      return k;
    }
    let byExpiry = this.options.get(c.symbol);
    if (byExpiry === undefined) {
      byExpiry = new Map();
      this.options.set(c.symbol, byExpiry);
    }
    let series = byExpiry.get(c.expiry);
    if (series === undefined) {
      series = [new Map(), new Map()];
      byExpiry.set(c.expiry, series);
    }
    const byStrike = c.right === 'P' ? series[0] : series[1];
    let k = byStrike.get(c.strike);
    if (k === undefined) {
      k = contractKey(c);
      this.remember();
      byStrike.set(c.strike, k);
    }
    return k;
  }

  private remember(): void {
    if (++this.size <= this.max) return;
    this.stocks.clear();
    this.options.clear();
    this.size = 1;
  }
}
