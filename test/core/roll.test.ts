import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { expiryClose, nyInstant } from '../../src/core/calendar.js';
import { contractKey, option, stock, type Contract } from '../../src/core/contract.js';
import { EpochMs, Price, Qty } from '../../src/core/quantity.js';
import { binomial } from '../../src/core/pricing/binomial.js';
import { blackScholes } from '../../src/core/pricing/black-scholes.js';
import type { QuoteView } from '../../src/core/quote-view.js';
import { monthlyExpiry, nextExpiry, rollMetadata, rollPosition, type RollMarket } from '../../src/core/rules/roll.js';

const FEB = '2026-02-20';
const MAR = '2026-03-20';
const NOW = nyInstant('2026-02-12', 10, 0);
const YEAR_MS = 365 * 86_400_000;
const opt = (symbol: string, right: 'C' | 'P', strike: number, expiry: string): ReturnType<typeof option> => option({ symbol, right, strike, expiry });
const h = (contract: Contract, qty: number): { contract: Contract; qty: Qty } => ({ contract, qty: Qty.unsafe(qty) });
const q = (bid: number | null, ask: number | null): QuoteView => ({ bid: bid === null ? null : Price.unsafe(bid), ask: ask === null ? null : Price.unsafe(ask), last: null });

function market(quotes: [Contract, QuoteView][], extra: Partial<RollMarket> = {}): RollMarket {
  const byKey = new Map(quotes.map(([c, v]) => [contractKey(c), v]));
  return {
    now: EpochMs.unsafe(NOW),
    spot: (s) => ({ XOM: 128, SPY: 445, SPX: 5000 })[s] ?? null,
    quote: (c) => byKey.get(contractKey(c)) ?? null,
    rate: 0.045,
    volatility: () => null,
    dividends: () => [],
    ...extra,
  };
}

describe('nextExpiry', () => {
  test('table', () => {
    const cases: [string, readonly string[] | null, string | null][] = [
      [FEB, null, MAR],
      ['2026-02-13', null, FEB], // a weekly: the monthly of its month
      ['2026-12-18', null, '2027-01-15'],
      ['2025-03-21', null, '2025-04-17'], // April 2025's third Friday is Good Friday: the Thursday
      [FEB, ['2026-03-20', '2026-02-27', '2026-02-13'], '2026-02-27'],
      [FEB, ['2026-02-13', FEB], null],
    ];
    for (const [from, listed, want] of cases) assert.equal(nextExpiry(from, listed), want, `${from} ${JSON.stringify(listed)}`);
    assert.deepEqual([monthlyExpiry(2026, 3), monthlyExpiry(2026, 1), monthlyExpiry(2025, 4)], ['2026-03-20', '2026-01-16', '2025-04-17']);
  });
});

describe('rollPosition', () => {
  const c120 = opt('XOM', 'C', 120, FEB);
  const c120m = opt('XOM', 'C', 120, MAR);
  const p440 = opt('SPY', 'P', 440, FEB);
  const p435 = opt('SPY', 'P', 435, FEB);
  const p440m = opt('SPY', 'P', 440, MAR);
  const p435m = opt('SPY', 'P', 435, MAR);

  test('table: legs, prices from the side each trade takes, net credit or debit', () => {
    const cases: { name: string; holdings: ReturnType<typeof h>[]; m: RollMarket; net: number | null; source: string | null; legs: number; text: RegExp }[] = [
      {
        name: 'short call: bought back at the ask, sold again at the bid',
        holdings: [h(c120, -1)],
        m: market([[c120, q(8.0, 8.1)], [c120m, q(8.95, 9.1)]]),
        net: 85,
        source: 'market',
        legs: 1,
        text: /^roll XOM 2026-02-20 -> 2026-03-20: buy 1 XOM 2026-02-20 120 C at 8\.10, sell 1 XOM 2026-03-20 120 C at 8\.95; net credit 85\.00 \(market prices\)$/,
      },
      {
        name: 'put spread -2/+2: both legs, quantities kept',
        holdings: [h(p440, -2), h(p435, 2)],
        m: market([[p440, q(1.2, 1.3)], [p435, q(0.6, 0.7)], [p440m, q(3.0, 3.1)], [p435m, q(2.0, 2.1)]]),
        net: 40, // -2 (1.30 - 3.00) 100 + 2 (0.60 - 2.10) 100
        source: 'market',
        legs: 2,
        text: /sell 2 SPY 2026-02-20 435 P at 0\.60, buy 2 SPY 2026-03-20 435 P at 2\.10; net credit 40\.00/,
      },
      {
        name: 'a long call rolled is a debit',
        holdings: [h(c120, 1)],
        m: market([[c120, q(5, 5.2)], [c120m, q(5.8, 6)]]),
        net: -100,
        source: 'market',
        legs: 1,
        text: /sell 1 XOM 2026-02-20 120 C at 5\.00, buy 1 XOM 2026-03-20 120 C at 6\.00; net debit 100\.00/,
      },
      {
        name: 'covered call: the shares stay, the call rolls',
        holdings: [h(stock('XOM'), 100), h(c120, -1)],
        m: market([[c120, q(8.0, 8.1)], [c120m, q(8.95, 9.1)]]),
        net: 85,
        source: 'market',
        legs: 1,
        text: /net credit 85\.00/,
      },
      {
        name: 'calendar: only the threatened expiry rolls',
        holdings: [h(c120, -1), h(c120m, 1)],
        m: market([[c120, q(8.0, 8.1)], [c120m, q(8.95, 9.1)]]),
        net: 85,
        source: 'market',
        legs: 1,
        text: /net credit 85\.00/,
      },
      {
        name: 'no quote and no volatility: the net is unknown, said so',
        holdings: [h(c120, -1)],
        m: market([[c120, q(8.0, 8.1)]]),
        net: null,
        source: null,
        legs: 1,
        text: /sell 1 XOM 2026-03-20 120 C at \?; net unknown: no market price and no volatility for XOM 2026-03-20 120 C$/,
      },
      {
        name: 'quoted, nobody bids: it sells for nothing',
        holdings: [h(c120, -1)],
        m: market([[c120, q(8.0, 8.1)], [c120m, q(null, 9.1)]]),
        net: -810,
        source: 'market',
        legs: 1,
        text: /sell 1 XOM 2026-03-20 120 C at 0\.00; net debit 810\.00 \(market prices\)$/,
      },
      {
        name: 'quoted, no ask: cannot be bought back at a known price (model, here none)',
        holdings: [h(c120, -1)],
        m: market([[c120, q(8.0, null)], [c120m, q(8.95, 9.1)]]),
        net: null,
        source: null,
        legs: 1,
        text: /buy 1 XOM 2026-02-20 120 C at \?.*net unknown: no market price and no volatility for XOM 2026-02-20 120 C$/,
      },
    ];
    for (const c of cases) {
      const r = rollPosition(c.holdings, FEB, c.m);
      assert.equal(r.kind, 'roll', c.name);
      if (r.kind !== 'roll') continue;
      assert.equal(r.to, MAR, c.name);
      assert.equal(r.net, c.net, c.name);
      assert.equal(r.netSource, c.source, c.name);
      assert.equal(r.legs.length, c.legs, c.name);
      assert.match(r.text, c.text, c.name);
      for (const l of r.legs) assert.equal(l.open.expiry, MAR, c.name);
    }
  });

  test('the model where the market does not quote: American tree for an equity option, Black-Scholes for an index one', () => {
    const m = market([[c120, q(8.0, 8.1)]], { volatility: () => 0.22, dividends: () => [{ exDate: '2026-02-13', amount: 1.03 }] });
    const r = rollPosition([h(c120, -1)], FEB, m);
    assert.ok(r.kind === 'roll');
    const t = (expiryClose(MAR) - NOW) / YEAR_MS;
    const want = binomial({ right: 'C', spot: 128, strike: 120, time: t, rate: 0.045, vol: 0.22, dividends: [{ time: (nyInstant('2026-02-13', 0, 0) - NOW) / YEAR_MS, amount: 1.03 }] }, { steps: 100 }).price;
    assert.equal(r.legs[0]!.openPrice, Math.round(want * 100) / 100);
    assert.deepEqual([r.legs[0]!.closeSource, r.legs[0]!.openSource, r.netSource], ['market', 'model', 'mixed']);
    assert.match(r.text, /\(market and model prices\)$/);

    const spx = opt('SPX', 'P', 4900, FEB);
    const ix = rollPosition([h(spx, -1)], FEB, market([], { volatility: () => 0.16 }));
    assert.ok(ix.kind === 'roll');
    assert.equal(spx.style, 'european');
    const bs = blackScholes({ right: 'P', spot: 5000, strike: 4900, time: (expiryClose(MAR) - NOW) / YEAR_MS, rate: 0.045, vol: 0.16, dividends: [] }).price;
    assert.equal(ix.legs[0]!.openPrice, Math.round(bs * 100) / 100);
    assert.equal(ix.netSource, 'model');
  });

  test('no roll: nothing expires then; listed expiries that end, or differ per underlying', () => {
    assert.deepEqual(rollPosition([h(c120m, -1)], FEB, market([])), { kind: 'none', reason: 'no option leg expiring 2026-02-20' });
    const none = rollPosition([h(c120, -1)], FEB, market([], { expiries: () => [FEB] }));
    assert.equal(none.kind, 'none');
    const mixed = rollPosition([h(c120, -1), h(p440, -1)], FEB, market([], { expiries: (s) => (s === 'XOM' ? [MAR] : ['2026-02-27']) }));
    assert.match(mixed.kind === 'none' ? mixed.reason : '', /no common later expiry listed for XOM, SPY/);
  });

  test('metadata for the journal: flat, the text and the numbers', () => {
    const r = rollPosition([h(c120, -1)], FEB, market([[c120, q(8.0, 8.1)], [c120m, q(8.95, 9.1)]]));
    const md = rollMetadata(r);
    assert.deepEqual(Object.keys(md), ['roll', 'rollTo', 'rollNet', 'rollNetSource']);
    assert.deepEqual([md['rollTo'], md['rollNet'], md['rollNetSource']], [MAR, 85, 'market']);
    assert.deepEqual(rollMetadata(null), {});
  });
});
