import type { Holding } from '../core/book.js';
import { heldAtBroker } from '../core/broker-holdings.js';
import { contractKey, isOption, type Contract, type OptionContract } from '../core/contract.js';
import type { EpochMs } from '../core/quantity.js';
import type { Dividend, QuoteView } from '../core/quote-view.js';
import { assessStrategy, type RiskEnvironment, type StrategyRisk } from '../core/rules/assignment-risk.js';
import { formatMinute } from '../core/rules/early-assignment-settings.js';
import { rollForRisk, type Roll, type RollMarket } from '../core/rules/roll.js';
import type { StrategyDefinition } from '../core/strategy.js';
import type { BrokerReader } from '../ports/broker.js';
import type { LegguardConfig } from './config.js';

/** A strategy to assess, with what it should hold (the store's attributed holdings, or its legs when not yet guarded). */
export interface RiskSubject {
  readonly definition: Pick<StrategyDefinition, 'id' | 'kind'>;
  readonly holdings: readonly Holding[];
}

/** A strategy's risk and, when something is flagged, the roll that would keep the position (shown, never sent). */
export type AssessedStrategy = StrategyRisk & { readonly roll: Roll | null };

/** The risk of every strategy, as `legguard risk` prints it (from a scenario or from the broker). */
export interface RiskReport {
  readonly at: EpochMs;
  readonly actBy: string;
  readonly strategies: readonly AssessedStrategy[];
  /** What the assessment could not read (a leg not at the broker, a quote that did not come), one line each. */
  readonly notes: readonly string[];
}

/** Market data requests in flight at once: IB allows about 100 lines of market data; a read must not use them all. */
const CONCURRENT_REQUESTS = 10;

async function inBatches<T, R>(items: readonly T[], f: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += CONCURRENT_REQUESTS) out.push(...(await Promise.all(items.slice(i, i + CONCURRENT_REQUESTS).map(f))));
  return out;
}

function why(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The config's dividends and the broker's for one symbol; the config's amount wins on the same ex-date. */
function mergeDividends(config: readonly Dividend[], broker: readonly Dividend[]): Dividend[] {
  const byDate = new Map<string, Dividend>();
  for (const d of broker) byDate.set(d.exDate, { exDate: d.exDate, amount: d.amount });
  for (const d of config) byDate.set(d.exDate, { exDate: d.exDate, amount: d.amount });
  return [...byDate.values()].sort((a, b) => (a.exDate < b.exDate ? -1 : a.exDate > b.exDate ? 1 : 0));
}

/**
 * The early-assignment risk of the given strategies against a broker, read only: the broker's time, its positions
 * (each strategy assessed on what the broker shows of its holdings), the underlyings' prices and announced dividends
 * (with the config's), and quotes for the short legs (and, for a short call, the put of its strike, which the
 * ex-dividend rule reads). Rate and volatilities from the config. The caller connects and disconnects `reader`;
 * a failure to read a price or a quote is a note (the rule then says `unknown` or prices from the model), a failure
 * of the broker itself (positions, time) propagates.
 */
export async function brokerRisk(reader: BrokerReader, config: LegguardConfig, subjects: readonly RiskSubject[]): Promise<RiskReport> {
  const notes: string[] = [];
  const at = await reader.currentTime();
  const positions = await reader.positions();
  const held = heldAtBroker(
    subjects.map((s) => ({ id: s.definition.id, holdings: s.holdings })),
    positions,
  );
  for (const h of held) for (const m of h.missing) notes.push(`${h.id}: not at the broker as the guard holds it: ${m}`);

  const options = held.flatMap((h) => h.holdings.map((x) => x.contract)).filter(isOption);
  const symbols = [...new Set(options.map((c) => c.symbol.toUpperCase()))].sort();
  const wanted = new Map<string, Contract>();
  for (const c of options) {
    wanted.set(contractKey(c), c);
    if (c.right === 'C') {
      const put: OptionContract = { ...c, right: 'P' };
      wanted.set(contractKey(put), put);
    }
  }

  const underlyings = new Map<string, { price: number | null; dividends: readonly Dividend[] }>();
  await inBatches(symbols, async (s) => {
    try {
      const u = await reader.underlying(s);
      underlyings.set(s, { price: u.price, dividends: u.dividends });
      if (u.price === null) notes.push(`${s}: the broker has no price`);
    } catch (e) {
      notes.push(`${s}: no market data from the broker: ${why(e)}`);
    }
  });
  const quotes = new Map<string, QuoteView>();
  const fetchQuotes = (list: readonly [string, Contract][]): Promise<unknown> =>
    inBatches(list, async ([k, c]) => {
      try {
        const q = await reader.quote(c);
        if (q !== null) quotes.set(k, q);
      } catch (e) {
        notes.push(`no quote for ${k}: ${why(e)}`);
      }
    });
  await fetchQuotes([...wanted.entries()]);

  const env: RiskEnvironment = {
    settings: config.guard.earlyAssignment,
    rate: config.market.rate,
    volatility: (s) => config.market.volatility[s.toUpperCase()] ?? null,
    dividends: (s) => mergeDividends(config.dividends[s.toUpperCase()] ?? [], underlyings.get(s.toUpperCase())?.dividends ?? []),
  };
  const spot = (sym: string): number | null => underlyings.get(sym.toUpperCase())?.price ?? null;
  const risks = subjects.map((s, i) => assessStrategy({ strategy: s.definition, holdings: held[i]!.holdings, now: at, spot, quote: (c) => quotes.get(contractKey(c)) ?? null }, env));
  // The roll of a flagged strategy asks for contracts of the next expiry: a first pass finds which, they are fetched,
  // and the second prices the roll with their quotes (the model where the market has none).
  const asked = new Map<string, Contract>();
  const market = (quote: RollMarket['quote']): RollMarket => ({ now: at, spot, quote, rate: env.rate, volatility: env.volatility, dividends: env.dividends });
  for (const [i, r] of risks.entries()) {
    rollForRisk(r, held[i]!.holdings, market((c) => {
      const k = contractKey(c);
      if (!quotes.has(k) && !wanted.has(k)) asked.set(k, c);
      return null;
    }));
  }
  await fetchQuotes([...asked.entries()]);
  const strategies = risks.map((r, i) => ({ ...r, roll: rollForRisk(r, held[i]!.holdings, market((c) => quotes.get(contractKey(c)) ?? null)) }));
  return { at, actBy: formatMinute(config.guard.earlyAssignment.actByMinute), strategies, notes };
}
