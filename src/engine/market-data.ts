import { contractKey, isOption, type Contract } from '../core/contract.js';
import type { QuoteReport } from '../core/events.js';
import type { ContractKey } from '../core/ids.js';
import type { Price } from '../core/quantity.js';
import type { BrokerPort, Quote } from '../ports/broker.js';
import type { LogLevel } from './engine-host.js';

/** The quotes and underlying prices the guard has seen, and the broker asked for more when a plan needs them. */
export class MarketData {
  readonly quotes = new Map<ContractKey, Quote>();
  readonly underlyingPrices = new Map<string, number>();

  constructor(
    private readonly broker: Pick<BrokerPort, 'quote' | 'underlying'>,
    private readonly log: (level: LogLevel, message: string) => void,
  ) {}

  /** A streamed quote from the broker. */
  onQuote(e: QuoteReport): void {
    this.quotes.set(contractKey(e.contract), { contract: e.contract, bid: e.bid, ask: e.ask, last: e.last, underlying: null, at: e.tsEvent });
    if (!isOption(e.contract)) {
      const mid = e.bid !== null && e.ask !== null ? (e.bid + e.ask) / 2 : e.last;
      if (mid !== null) this.underlyingPrices.set(e.contract.symbol, mid);
    }
  }

  async refreshUnderlying(symbol: string): Promise<void> {
    try {
      const u = await this.broker.underlying(symbol);
      if (u.price !== null) this.underlyingPrices.set(symbol, u.price);
    } catch (e) {
      this.log('warn', `no price for ${symbol}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /** Quotes for `contracts`, from the broker, cached. */
  async quotesFor(contracts: readonly Contract[]): Promise<Map<ContractKey, Quote | null>> {
    const out = new Map<ContractKey, Quote | null>();
    await Promise.all(
      contracts.map(async (c) => {
        const key = contractKey(c);
        let q: Quote | null = null;
        try {
          q = await this.broker.quote(c);
        } catch (e) {
          this.log('warn', `no quote for ${key}: ${e instanceof Error ? e.message : String(e)}`);
        }
        if (q) {
          this.quotes.set(key, q);
          if (q.underlying !== null) this.underlyingPrices.set(c.symbol, q.underlying);
          if (!isOption(c)) {
            const mid = q.bid !== null && q.ask !== null ? (q.bid + q.ask) / 2 : q.last;
            if (mid !== null) this.underlyingPrices.set(c.symbol, mid);
          }
        }
        out.set(key, q ?? this.quotes.get(key) ?? null);
      }),
    );
    return out;
  }

  priceOf(c: Contract): Price | null {
    const q = this.quotes.get(contractKey(c));
    if (!q) return null;
    return q.last ?? (q.bid !== null && q.ask !== null ? ((q.bid + q.ask) / 2) as Price : null);
  }
}
