import { contractKey, isOption, type Contract } from '../core/contract.js';
import { sameDividends } from '../core/dividends.js';
import type { QuoteReport } from '../core/events.js';
import type { ContractKey } from '../core/ids.js';
import type { Price } from '../core/quantity.js';
import type { Dividend } from '../core/quote-view.js';
import type { BrokerPort, Quote, UnderlyingInfo } from '../ports/broker.js';
import type { LogLevel } from './engine-host.js';

/** How long a quote asked for in a burst serves the plans of that burst (virtual or real time). */
const BURST_QUOTE_MS = 1_000;

/**
 * The quotes, underlying prices and dividends the guard has seen, and the broker asked for more when a plan needs
 * them. Every change of a symbol's price, of a quote on it or of its dividends is told to `changed` (the rule
 * triggers, rule-triggers.ts); the same figure again is not a change.
 */
export class MarketData {
  readonly quotes = new Map<ContractKey, Quote>();
  readonly underlyingPrices = new Map<string, number>();
  /** Dividends the broker announced per symbol (IB generic tick 456), from the last answer that named any. */
  private readonly brokerDividends = new Map<string, readonly Dividend[]>();
  /**
   * Quotes asked for during the current burst (until the engine's queue drains, and for at most `BURST_QUOTE_MS`), per
   * contract: a thousand strategies broken at once ask once for the stock they all hold, and a plan made a moment
   * after the prefetch (`prefetch`) does not ask again.
   */
  private readonly burst = new Map<ContractKey, { at: number; answer: Promise<Quote | null> }>();

  constructor(
    private readonly broker: Pick<BrokerPort, 'quote' | 'underlying'>,
    private readonly log: (level: LogLevel, message: string) => void,
    private readonly changed: (symbol: string) => void = () => {},
  ) {}

  /** A streamed quote from the broker. */
  onQuote(e: QuoteReport): void {
    this.setQuote({ contract: e.contract, bid: e.bid, ask: e.ask, last: e.last, underlying: null, at: e.tsEvent });
    if (!isOption(e.contract)) {
      const mid = e.bid !== null && e.ask !== null ? (e.bid + e.ask) / 2 : e.last;
      if (mid !== null) this.setPrice(e.contract.symbol, mid);
    }
  }

  /** The broker's dividends for `symbol`; empty when it never named any. */
  dividendsOf(symbol: string): readonly Dividend[] {
    return this.brokerDividends.get(symbol.toUpperCase()) ?? [];
  }

  /** Asks the broker for `symbol`'s price and dividends now, and keeps them. */
  async refreshUnderlying(symbol: string): Promise<void> {
    const u = await this.fetchUnderlying(symbol);
    if (u) this.applyUnderlying(u);
  }

  /** The broker's answer for `symbol`, or null (logged) when it has none. Changes nothing here. */
  async fetchUnderlying(symbol: string): Promise<UnderlyingInfo | null> {
    try {
      return await this.broker.underlying(symbol);
    } catch (e) {
      this.log('warn', `no price for ${symbol}: ${e instanceof Error ? e.message : String(e)}`);
      return null;
    }
  }

  /**
   * Keeps an answer of `underlying()`. An answer without dividends keeps the ones known: IB's tick 456 names only the
   * next dividend and may not come at all within the wait, and a declared dividend is seldom withdrawn.
   */
  applyUnderlying(u: UnderlyingInfo): void {
    const symbol = u.symbol.toUpperCase();
    if (u.price !== null) this.setPrice(symbol, u.price);
    if (u.dividends.length === 0) return;
    const now = u.dividends.map((d) => ({ exDate: d.exDate, amount: d.amount }));
    if (sameDividends(now, this.dividendsOf(symbol))) return;
    this.brokerDividends.set(symbol, now);
    this.changed(symbol);
  }

  /**
   * Quotes for `contracts`, from the broker, each asked for once per burst (see `burst`), all at once: a plan waits
   * for one round of requests, not one per contract.
   */
  async quotesFor(contracts: readonly Contract[], now: number): Promise<Map<ContractKey, Quote | null>> {
    const out = new Map<ContractKey, Quote | null>();
    const asked: Promise<void>[] = [];
    for (const c of contracts) {
      const key = contractKey(c);
      const answer = this.ask(c, key, now);
      asked.push(
        answer.then((q) => {
          out.set(key, q ?? this.quotes.get(key) ?? null);
        }),
      );
    }
    await Promise.all(asked);
    return out;
  }

  /** Asks for the quotes of `contracts` now, for the plans about to be made in this burst (deduplicated). */
  prefetch(contracts: Iterable<Contract>, now: number): Promise<void> {
    const asked: Promise<unknown>[] = [];
    for (const c of contracts) asked.push(this.ask(c, contractKey(c), now));
    return Promise.all(asked).then(() => undefined);
  }

  /** The burst is over (the engine's queue drained): the next plan asks the broker again. */
  endBurst(): void {
    this.burst.clear();
  }

  private ask(c: Contract, key: ContractKey, now: number): Promise<Quote | null> {
    const known = this.burst.get(key);
    if (known && now - known.at <= BURST_QUOTE_MS && now >= known.at) return known.answer;
    const answer = this.fetchQuote(c, key);
    this.burst.set(key, { at: now, answer });
    return answer;
  }

  private async fetchQuote(c: Contract, key: ContractKey): Promise<Quote | null> {
    let q: Quote | null = null;
    try {
      q = await this.broker.quote(c);
    } catch (e) {
      this.log('warn', `no quote for ${key}: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (q) {
      this.setQuote(q);
      if (q.underlying !== null) this.setPrice(c.symbol, q.underlying);
      if (!isOption(c)) {
        const mid = q.bid !== null && q.ask !== null ? (q.bid + q.ask) / 2 : q.last;
        if (mid !== null) this.setPrice(c.symbol, mid);
      }
    }
    return q;
  }

  priceOf(c: Contract): Price | null {
    const q = this.quotes.get(contractKey(c));
    if (!q) return null;
    return q.last ?? (q.bid !== null && q.ask !== null ? ((q.bid + q.ask) / 2) as Price : null);
  }

  private setQuote(q: Quote): void {
    const key = contractKey(q.contract);
    const before = this.quotes.get(key);
    this.quotes.set(key, q);
    // An option's quote moves its rules' numbers (the market put in the ex-dividend test); a stock's moves its price.
    if (isOption(q.contract) && (!before || before.bid !== q.bid || before.ask !== q.ask || before.last !== q.last)) this.changed(q.contract.symbol);
  }

  private setPrice(symbol: string, price: number): void {
    if (this.underlyingPrices.get(symbol) === price) return;
    this.underlyingPrices.set(symbol, price);
    this.changed(symbol);
  }
}
