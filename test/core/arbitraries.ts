import fc from 'fast-check';
import { Book } from '../../src/core/book.js';
import { contractKey, isOption, stock, stockFromSettlement, type Contract } from '../../src/core/contract.js';
import type { Detection } from '../../src/core/detection.js';
import type { ContractKey, StrategyId } from '../../src/core/ids.js';
import { Qty } from '../../src/core/quantity.js';
import type { QuoteView } from '../../src/core/quote-view.js';
import { call, put, quote, sid, SPY } from './fixtures.js';

/**
 * Random books for property tests: a few strategies on two underlyings drawing legs from a small universe of
 * contracts, so that strategies often share contracts, sometimes with opposite signs that net at the broker, and
 * positions outside any strategy sit in the same contracts.
 */
export const QQQ = stock('QQQ');
export const UNIVERSE: readonly Contract[] = [
  put(430),
  put(435),
  put(440),
  call(460),
  call(465),
  call(470),
  call(460, '2026-02-27'),
  put(440, '2026-02-27'),
  SPY,
  put(400, '2026-01-30', 'QQQ'),
  call(420, '2026-01-30', 'QQQ'),
  QQQ,
];

export interface BookSpec {
  readonly strategies: readonly (readonly [number, number][])[];
  readonly outside: readonly [number, number][];
}

const legArb = fc.tuple(fc.integer({ min: 0, max: UNIVERSE.length - 1 }), fc.integer({ min: -3, max: 3 }).filter((q) => q !== 0));

export const bookSpecArb: fc.Arbitrary<BookSpec> = fc.record({
  strategies: fc.array(fc.array(legArb, { minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 4 }),
  outside: fc.array(legArb, { maxLength: 3 }),
});

/** Stock legs are in round lots: a drawn 2 is 200 shares. */
export function legQty(c: Contract, q: number): number {
  return isOption(c) ? q : q * 100;
}

export const strategyName = (i: number): StrategyId => sid(`s${i}`);

export function buildBook(spec: BookSpec): Book {
  const b = new Book();
  spec.strategies.forEach((legs, i) => {
    b.addStrategy(strategyName(i), i);
    for (const [ci, q] of legs) b.apply(strategyName(i), UNIVERSE[ci]!, legQty(UNIVERSE[ci]!, q));
  });
  for (const [ci, q] of spec.outside) b.apply(null, UNIVERSE[ci]!, legQty(UNIVERSE[ci]!, q));
  return b;
}

/** Which option contracts settle and how many: indexes into UNIVERSE and a count, clamped to the net position. */
export const settleArb = fc.array(fc.tuple(fc.integer({ min: 0, max: UNIVERSE.length - 1 }), fc.integer({ min: 1, max: 6 })), { maxLength: 5 });

export interface Settlement {
  /** The broker's positions after the settlement, for every contract that changed (stock included, even at 0 change). */
  readonly broker: Map<ContractKey, { contract: Contract; qty: number }>;
  /** Settled option quantity per contract (signed like the position: -2 for two shorts assigned). */
  readonly settled: Map<ContractKey, number>;
}

/**
 * What the clearing house does to the account: `k` of the net position in each chosen option settle (shorts
 * assigned, longs exercised when `longsToo`), and the stock moves by what they deliver, netted per underlying.
 */
export function settle(book: Book, picks: readonly (readonly [number, number])[], longsToo: boolean): Settlement {
  const broker = new Map<ContractKey, { contract: Contract; qty: number }>();
  const settled = new Map<ContractKey, number>();
  for (const [ci, want] of picks) {
    const c = UNIVERSE[ci]!;
    if (!isOption(c)) continue;
    const key = contractKey(c);
    if (settled.has(key)) continue;
    const net = book.net(key);
    if (net === 0 || (!longsToo && net > 0)) continue;
    const k = Math.min(Math.abs(net), want);
    const q = Math.sign(net) * k;
    settled.set(key, q);
    broker.set(key, { contract: c, qty: net - q });
    const s = stock(c.symbol);
    const sk = contractKey(s);
    const prev = broker.get(sk) ?? { contract: book.contract(sk) ?? s, qty: book.net(sk) };
    broker.set(sk, { contract: prev.contract, qty: prev.qty + stockFromSettlement(c, q) });
  }
  for (const [k, v] of broker) if (!isOption(v.contract) && v.qty === book.net(k)) broker.delete(k);
  return { broker, settled };
}

export function applyDetections(book: Book, ds: readonly Detection[]): void {
  for (const d of ds) book.apply(d.strategyId, d.contract, d.change);
}

/** Quotes for every contract: options 1.00 / 1.20, SPY 440.00 / 440.10, QQQ 400.00 / 400.10. */
export function quoteAll(c: Contract): QuoteView {
  if (isOption(c)) return quote(1, 1.2);
  return c.symbol === 'SPY' ? quote(440, 440.1) : quote(400, 400.1);
}

/** Every (holder, contract) holding of a book, as a sorted list of strings, for before/after comparisons. */
export function holdingsOf(book: Book, holder: StrategyId | null): string[] {
  return book
    .holdings(holder)
    .map((h) => `${contractKey(h.contract)}=${h.qty}`)
    .sort();
}

export const Q = (n: number): Qty => Qty.unsafe(n);

/**
 * Sort keys for a permutation fast-check can shrink: `permute(xs, keys)` orders `xs` by them, so shrinking the keys
 * toward zero shrinks the order toward the original. Long enough for any list the properties shuffle.
 */
export const permutationKeysArb = fc.array(fc.nat({ max: 1000 }), { minLength: 64, maxLength: 64 });

export function permute<T>(xs: readonly T[], keys: readonly number[]): T[] {
  if (xs.length > keys.length) throw new Error(`permute: ${xs.length} items, only ${keys.length} keys`);
  return xs.map((x, i) => ({ x, k: keys[i]!, i })).sort((a, b) => a.k - b.k || a.i - b.i).map((e) => e.x);
}
