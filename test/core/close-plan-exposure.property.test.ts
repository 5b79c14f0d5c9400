import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Book } from '../../src/core/book.js';
import { nextOpen } from '../../src/core/calendar.js';
import { planClose, type ClosePlan, type PlannedOrder } from '../../src/core/close-plan.js';
import { contractKey, isOption, option, stock, type Contract } from '../../src/core/contract.js';
import { AccountId } from '../../src/core/ids.js';
import { legEffect } from '../../src/core/order.js';
import { EpochMs, Qty } from '../../src/core/quantity.js';
import type { QuoteView } from '../../src/core/quote-view.js';
import { compareRisk, describeRisk, riskOf, type OraclePosition, type OracleRisk } from './exposure.js';
import { quote, sid } from './fixtures.js';

/**
 * Random broken books in one underlying (stock long or short in any amount, calls and puts long or short at strikes
 * from deep in to far out of the money) planned in random sessions. The exposure each order leaves is measured by the
 * oracle in ./exposure.ts, not by the planner's own code.
 */
const XYZ = stock('XYZ');
const SPOT = 100.05;
const EXPIRY = '2026-03-20';
const quotes = (c: Contract): QuoteView => (isOption(c) ? quote(1, 1.2) : quote(100, 100.1));

const SESSIONS = {
  'pre-market': '2026-01-28T07:00:00-05:00',
  regular: '2026-01-28T11:00:00-05:00',
  'after-hours': '2026-01-28T17:00:00-05:00',
  'closed-night': '2026-01-28T21:00:00-05:00',
  'closed-weekend': '2026-01-31T12:00:00-05:00',
} as const;
type SessionName = keyof typeof SESSIONS;

const optionArb = fc.record({
  right: fc.constantFrom<'C' | 'P'>('C', 'P'),
  strike: fc.constantFrom(70, 90, 95, 105, 110, 130),
  qty: fc.integer({ min: -3, max: 3 }).filter((q) => q !== 0),
});
type OptionSpec = { right: 'C' | 'P'; strike: number; qty: number };

/** A book spec and the same options in another order (fast-check's shuffle): the plan must not depend on it. */
const bookArb = fc
  .record({ shares: fc.integer({ min: -350, max: 350 }), options: fc.array(optionArb, { maxLength: 4 }) })
  .chain((b) => fc.tuple(fc.constant(b), fc.shuffledSubarray(b.options, { minLength: b.options.length, maxLength: b.options.length })));

const policyArb = fc.record({
  session: fc.constantFrom<SessionName>('pre-market', 'regular', 'after-hours', 'closed-night', 'closed-weekend'),
  preMarketHedge: fc.boolean(),
  combos: fc.boolean(),
  mode: fc.constantFrom<'close' | 'hedge'>('close', 'close', 'close', 'hedge'),
});

function build(shares: number, options: readonly OptionSpec[]): Book {
  const b = new Book();
  b.addStrategy(sid('s'));
  if (shares !== 0) b.apply(sid('s'), XYZ, shares);
  for (const o of options) b.apply(sid('s'), option({ symbol: 'XYZ', right: o.right, strike: o.strike, expiry: EXPIRY }), o.qty);
  return b;
}

/** The strategy's holdings as the oracle's position, with `changes` (signed, per contract) applied. */
function position(book: Book, changes: ReadonlyMap<string, number> = new Map()): OraclePosition {
  let shares = 0;
  const options: OraclePosition['options'][number][] = [];
  const seen = new Set<string>();
  const qtyOf = (c: Contract): number => book.holding(sid('s'), contractKey(c)) + (changes.get(contractKey(c)) ?? 0);
  for (const h of book.holdings(sid('s'))) {
    seen.add(contractKey(h.contract));
    if (isOption(h.contract)) options.push({ right: h.contract.right, strike: h.contract.strike, qty: qtyOf(h.contract), multiplier: h.contract.multiplier });
    else shares += qtyOf(h.contract);
  }
  for (const k of changes.keys()) assert.ok(seen.has(k), `an order trades ${k}, which the strategy does not hold`);
  return { shares, options };
}

function after(book: Book, o: PlannedOrder): OracleRisk {
  const changes = new Map<string, number>();
  for (const l of o.request.legs) changes.set(contractKey(l.contract), (changes.get(contractKey(l.contract)) ?? 0) + legEffect(l, o.request.quantity));
  return riskOf(position(book, changes), SPOT);
}

function describe_(o: PlannedOrder): string {
  return `${o.request.legs.map((l) => `${l.action} ${l.ratio * o.request.quantity} ${isOption(l.contract) ? `${l.contract.strike}${l.contract.right}` : 'XYZ'}`).join('/')} @${new Date(o.notBefore).toISOString()}`;
}

describe('close plans by risk (oracle: test/core/exposure.ts)', () => {
  test('the first order removes the largest exposure the session allows; stock goes before the open only where that lowers the exposure', () => {
    fc.assert(
      fc.property(bookArb, policyArb, ([spec, shuffled], policy) => {
        const book = build(spec.shares, spec.options);
        fc.pre(book.holdings(sid('s')).length > 0);
        const now = EpochMs.unsafe(Date.parse(SESSIONS[policy.session]));
        const mk = (b: Book): ClosePlan =>
          planClose({
            strategyId: sid('s'),
            account: AccountId.unsafe('DU1'),
            incidentId: null,
            incidentKey: 'k',
            revision: 0,
            book: b,
            brokerPosition: (k) => Qty.unsafe(b.net(k)),
            quote: quotes,
            now,
            purpose: 'emergency',
            mode: policy.mode,
            combos: policy.combos,
            preMarketHedge: policy.preMarketHedge,
          });
        const plan = mk(book);
        assert.deepEqual(mk(build(spec.shares, shuffled)), plan, 'the order the legs were learned in does not matter');
        assert.deepEqual([plan.blocked, plan.clamped], [[], []]);

        const before = riskOf(position(book), SPOT);
        const holdings = book.holdings(sid('s'));
        const closeWhole = (c: Contract, q: number): OracleRisk => riskOf(position(book, new Map([[contractKey(c), -q]])), SPOT);
        const stockHolding = holdings.find((h) => !isOption(h.contract));
        const optionsOpen = nextOpen(now, 'option');
        // What the first moment anything can trade allows: stock alone when it may trade before the options open
        // (pre-market hedging, or a hedge that trades no options), else everything at once.
        const stockOnly = policy.mode === 'hedge' || (policy.preMarketHedge && nextOpen(now, 'stock-extended') < optionsOpen);
        const where = `book ${JSON.stringify(spec)} ${policy.session} ${JSON.stringify(policy)}: ${describeRisk(before)}; plan ${plan.orders.map(describe_).join(', ')}`;

        if (stockOnly) {
          const early = plan.orders.filter((o) => policy.mode === 'hedge' || o.notBefore < optionsOpen);
          for (const o of early) assert.ok(o.request.legs.every((l) => !isOption(l.contract)), `only stock before the options open: ${where}`);
          const wholeStock = stockHolding ? closeWhole(stockHolding.contract, stockHolding.qty) : null;
          if (early.length === 0) {
            // Nothing before the open: no stock trade would have lowered the exposure.
            if (wholeStock) assert.ok(compareRisk(wholeStock, before) >= 0, `the stock could have gone before the open (${describeRisk(wholeStock)}): ${where}`);
          } else {
            const first = after(book, early[0]!);
            assert.equal(early[0], plan.orders[0]);
            assert.ok(compareRisk(first, before) <= 0, `the first order adds exposure (${describeRisk(first)}): ${where}`);
            assert.ok(compareRisk(first, wholeStock!) <= 0, `selling all the stock would leave less (${describeRisk(wholeStock!)} < ${describeRisk(first)}): ${where}`);
          }
          return;
        }
        // Everything trades at once: the first order leaves no more exposure than closing any one holding would.
        assert.ok(plan.orders.length > 0, `nothing planned: ${where}`);
        const alts = holdings.map((h) => [h, closeWhole(h.contract, h.qty)] as const);
        // With combos a short and its cover close as one order, so all of one short is not always one of the planner's
        // orders, and a combo can be worth less than its short alone: whole legs are the yardstick only without them.
        if (policy.combos) return;
        const first = after(book, plan.orders[0]!);
        for (const [h, alt] of alts) {
          assert.ok(compareRisk(first, alt) <= 0, `closing ${contractKey(h.contract)} first would leave less (${describeRisk(alt)} < ${describeRisk(first)}): ${where}`);
        }
      }),
      { numRuns: 500, verbose: true },
    );
  });
});
