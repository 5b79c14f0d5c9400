// The rule pass's leg memo: strategies sharing a short contract share its assessment, and nothing the memo reuses may
// differ from what a fresh assessment finds. A random sequence of strategies, instants, prices, quotes and dividends
// (changing mid-sequence, as broker events do between slices) assessed with one memo and without: equal each time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Holding } from '../../src/core/book.js';
import { contractKey, type OptionContract } from '../../src/core/contract.js';
import { EpochMs, Price, Qty } from '../../src/core/quantity.js';
import type { Dividend, QuoteView } from '../../src/core/quote-view.js';
import { assessStrategy, LegRiskMemo, type RiskEnvironment } from '../../src/core/rules/assignment-risk.js';
import { DEFAULT_EARLY_ASSIGNMENT } from '../../src/core/rules/early-assignment-settings.js';
import type { StrategyKind } from '../../src/core/strategy.js';
import { opt } from './fixtures.js';
import { StrategyId } from '../../src/core/ids.js';

const EXPIRIES = ['2026-02-20', '2026-03-20'] as const;
const contracts: OptionContract[] = [];
for (const expiry of EXPIRIES) for (const right of ['P', 'C'] as const) for (const strike of [90, 100, 110]) contracts.push(opt('XYZ', right, strike, expiry));
const instants = [Date.parse('2026-02-18T15:00:00Z'), Date.parse('2026-02-19T20:30:00Z'), Date.parse('2026-02-20T19:30:00Z')];

const step = fc.record({
  kind: fc.constantFrom<StrategyKind>('iron-condor', 'vertical', 'covered-call', 'cash-secured-put', 'custom'),
  legs: fc.uniqueArray(fc.record({ c: fc.integer({ min: 0, max: contracts.length - 1 }), qty: fc.integer({ min: -3, max: 3 }).filter((q) => q !== 0) }), { minLength: 1, maxLength: 4, selector: (l) => l.c }),
  now: fc.integer({ min: 0, max: instants.length - 1 }),
  spot: fc.option(fc.constantFrom(85, 100, 100.5, 120), { nil: null }),
  quoteMid: fc.option(fc.constantFrom(0.05, 1.2, 12), { nil: null }),
  dividend: fc.option(fc.record({ exDate: fc.constantFrom('2026-02-19', '2026-03-10'), amount: fc.constantFrom(0.5, 1.5, 6) }), { nil: null }),
});

test('assessing with one memo across strategies equals assessing each afresh, whatever changes between them', () => {
  fc.assert(
    fc.property(fc.array(step, { minLength: 1, maxLength: 40 }), (steps) => {
      const memo = new LegRiskMemo();
      for (const s of steps) {
        const dividends: Dividend[] = s.dividend === null ? [] : [s.dividend];
        const env: RiskEnvironment = { settings: DEFAULT_EARLY_ASSIGNMENT, rate: 0.045, volatility: () => 0.3, dividends: () => dividends, steps: 50 };
        // Quotes differ per contract (by strike), as a market's do.
        const quote = (c: Holding['contract']): QuoteView | null => {
          if (s.quoteMid === null || c.secType !== 'OPT') return null;
          const m = s.quoteMid + c.strike / 1000;
          return { bid: Price.unsafe(Math.round((m - 0.05) * 100) / 100), ask: Price.unsafe(Math.round((m + 0.05) * 100) / 100), last: null };
        };
        const view = {
          strategy: { id: StrategyId.unsafe('s'), kind: s.kind },
          holdings: s.legs.map((l): Holding => ({ contract: contracts[l.c]!, qty: Qty.unsafe(l.qty) })),
          now: EpochMs.unsafe(instants[s.now]!),
          spot: () => s.spot,
          quote,
        };
        const fresh = assessStrategy(view, env);
        const memoized = assessStrategy(view, env, memo);
        assert.deepStrictEqual(memoized, fresh, `${s.kind} ${s.legs.map((l) => `${l.qty} ${contractKey(contracts[l.c]!)}`).join(', ')}`);
      }
    }),
    { numRuns: 150 },
  );
});

test('strategies short the same contract at the same instant and market share one assessment', () => {
  const env: RiskEnvironment = { settings: DEFAULT_EARLY_ASSIGNMENT, rate: 0.045, volatility: () => 0.3, dividends: () => [], steps: 50 };
  const memo = new LegRiskMemo();
  const view = (id: string) => ({
    strategy: { id: StrategyId.unsafe(id), kind: 'vertical' as StrategyKind },
    holdings: [{ contract: contracts[0]!, qty: Qty.unsafe(-1) }],
    now: EpochMs.unsafe(instants[0]!),
    spot: () => 95,
    quote: () => null,
  });
  const a = assessStrategy(view('a'), env, memo);
  const b = assessStrategy(view('b'), env, memo);
  assert.equal(a.legs[0]!.findings, b.legs[0]!.findings, 'the same findings object: priced once');
  assert.equal(a.strategyId, 'a');
  assert.equal(b.strategyId, 'b');
});

test('an announced dividend between two strategies at one instant: the call is assessed again, not taken from the memo', () => {
  let dividends: Dividend[] = [];
  const env: RiskEnvironment = { settings: DEFAULT_EARLY_ASSIGNMENT, rate: 0.045, volatility: () => 0.3, dividends: () => dividends, steps: 50 };
  const memo = new LegRiskMemo();
  const view = {
    strategy: { id: StrategyId.unsafe('cc'), kind: 'vertical' as StrategyKind },
    holdings: [{ contract: opt('XYZ', 'C', 90, '2026-03-20'), qty: Qty.unsafe(-1) }],
    now: EpochMs.unsafe(Date.parse('2026-03-05T15:00:00Z')),
    spot: () => 110,
    quote: () => null,
  };
  const before = assessStrategy(view, env, memo);
  assert.deepEqual(before.legs[0]!.findings.filter((f) => f.rule === 'ex-dividend-call'), [], 'no dividend: no ex-dividend finding');
  dividends = [{ exDate: '2026-03-06', amount: 3 }];
  const after = assessStrategy(view, env, memo);
  assert.deepStrictEqual(after, assessStrategy(view, env));
  assert.equal(after.legs[0]!.findings.find((f) => f.rule === 'ex-dividend-call')?.status, 'at-risk', 'deep in the money before a large dividend');
});
