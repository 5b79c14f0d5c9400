import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Holding } from '../../src/core/book.js';
import { AccountId, StrategyId } from '../../src/core/ids.js';
import { EpochMs, Qty } from '../../src/core/quantity.js';
import type { Dividend } from '../../src/core/quote-view.js';
import { assessStrategy, strategyAtRisk, type RiskEnvironment } from '../../src/core/rules/assignment-risk.js';
import { deepItmPutRisk } from '../../src/core/rules/deep-itm-put-risk.js';
import { DEFAULT_EARLY_ASSIGNMENT, type EarlyAssignmentSettings } from '../../src/core/rules/early-assignment-settings.js';
import { earlyAssignmentRules } from '../../src/core/rules/early-assignment-rule.js';
import { exDividendCallRisk } from '../../src/core/rules/ex-dividend-call-risk.js';
import { expirationRisk } from '../../src/core/rules/expiration-risk.js';
import { evaluateRules, type RuleContext } from '../../src/core/rules/rule.js';
import type { StrategyKind } from '../../src/core/strategy.js';
import { opt, SPY } from './fixtures.js';

const near = (a: number | null, b: number, tol: number, what: string): void =>
  assert.ok(a !== null && Math.abs(a - b) <= tol, `${what}: ${a} is not within ${tol} of ${b}`);
const at = (iso: string): EpochMs => EpochMs.unsafe(Date.parse(iso));
const h = (c: Holding['contract'], q: number): Holding => ({ contract: c, qty: Qty.unsafe(q) });

describe('ex-dividend call rule against the reference table (r = 5%)', () => {
  // tau is the time left after the ex-date: the table's days less the cum-dividend day (as in test/pricing).
  const rows = [
    { s: 100, k: 90, vol: 0.25, days: 10, d: 2.0, put: 0.018, carry: 0.1109, threshold: 0.1289, risk: true },
    { s: 100, k: 80, vol: 0.25, days: 60, d: 1.0, put: 0.0434, carry: 0.644, threshold: 0.6874, risk: true },
    { s: 100, k: 90, vol: 0.25, days: 60, d: 1.0, put: 0.7447, carry: 0.7245, threshold: 1.4691, risk: false },
    { s: 100, k: 95, vol: 0.3, days: 45, d: 0.5, put: 1.9888, carry: 0.5709, threshold: 2.5597, risk: false },
  ];
  for (const r of rows) {
    test(`S ${r.s} K ${r.k} sigma ${r.vol} ${r.days} days D ${r.d}: ${r.risk ? 'at risk' : 'clear'}`, () => {
      const x = exDividendCallRisk({ spot: r.s, strike: r.k, rate: 0.05, dividend: r.d, tau: (r.days - 1) / 365, vol: r.vol });
      assert.ok(x);
      near(x.numbers.putValue, r.put, 5e-5, 'put');
      near(x.numbers.carry, r.carry, 5e-5, 'carry');
      near(x.numbers.threshold, r.threshold, 1e-4, 'threshold');
      assert.equal(x.numbers.putSource, 'model');
      assert.equal(x.atRisk, r.risk);
      assert.equal(Math.sign(x.numbers.distance) > 0, r.risk);
      assert.ok(x.numbers.americanValue !== null);
    });
  }

  test('ASX, NAB (D 0.83, 17 days, r 5.25%), puts from the market: 26.00 and 30.00 at risk, 30.50 not', () => {
    const tau = 17 / 365;
    const one = (k: number, put: number) => exDividendCallRisk({ spot: 30.31, strike: k, rate: 0.0525, dividend: 0.83, tau, vol: null, putQuote: put });
    const c26 = one(26, 0);
    const c30 = one(30, 0.68);
    const c305 = one(30.5, 1.09);
    assert.equal(c26?.atRisk, true);
    assert.equal(c30?.atRisk, true);
    near(c30.numbers.threshold, 0.753, 1e-3, 'threshold 30.00');
    assert.equal(c30.numbers.putSource, 'market');
    assert.equal(c305?.atRisk, false, '30.50 is out of the money and the put is dear');
  });

  test('nothing to price with: null; a dividend not below the spot: null', () => {
    assert.equal(exDividendCallRisk({ spot: 100, strike: 90, rate: 0.05, dividend: 1, tau: 0.1, vol: null }), null);
    assert.equal(exDividendCallRisk({ spot: 1, strike: 0.5, rate: 0.05, dividend: 1, tau: 0.1, vol: 0.2 }), null);
  });
});

describe('deep in-the-money put rule against the reference boundaries', () => {
  test('S 60, K 100, sigma .30, 91 days: American 40.0000, at risk', () => {
    const x = deepItmPutRisk({ spot: 60, strike: 100, rate: 0.05, time: 91 / 365, vol: 0.3 });
    assert.equal(x?.atRisk, true);
    near(x.numbers.americanValue, 40, 2e-3, 'American value');
    near(x.numbers.callValue, 0.0013, 5e-4, 'call');
    near(x.numbers.carry, 1.2388, 5e-4, 'carry');
  });
  test('S 80, K 100, sigma .25, 30 days: American 20.0000, at risk', () => {
    const x = deepItmPutRisk({ spot: 80, strike: 100, rate: 0.05, time: 30 / 365, vol: 0.25 });
    assert.equal(x?.atRisk, true);
    near(x.numbers.americanValue, 20, 2e-3, 'American value');
    near(x.numbers.carry, 0.4101, 5e-4, 'carry');
  });
  test('S 90, K 100, sigma .30, 91 days: the screen says hold (call 2.30 > carry 1.24)', () => {
    const x = deepItmPutRisk({ spot: 90, strike: 100, rate: 0.05, time: 91 / 365, vol: 0.3 });
    assert.equal(x?.atRisk, false);
    near(x.numbers.callValue, 2.3, 0.01, 'call');
    near(x.numbers.carry, 1.24, 0.01, 'carry');
  });
  test('S 100, K 110, 56 days, sigma .20, r 8%: the screen passes, American 10.0126 > 10: not yet', () => {
    const x = deepItmPutRisk({ spot: 100, strike: 110, rate: 0.08, time: 56 / 365, vol: 0.2 });
    assert.equal(x?.atRisk, false);
    near(x.numbers.americanValue, 10.0126, 3e-3, 'American value');
    assert.ok(x.numbers.carry > x.numbers.callValue!);
  });
  test('without a volatility the market mid decides', () => {
    assert.equal(deepItmPutRisk({ spot: 60, strike: 100, rate: 0.05, time: 0.25, vol: null, putQuote: 40.002 })?.atRisk, true);
    assert.equal(deepItmPutRisk({ spot: 60, strike: 100, rate: 0.05, time: 0.25, vol: null, putQuote: 40.2 })?.atRisk, false);
    assert.equal(deepItmPutRisk({ spot: 60, strike: 100, rate: 0.05, time: 0.25, vol: null }), null);
  });
});

describe('expiration rule', () => {
  const t = 1 / (365 * 12); // two hours
  test('in the money by a cent or more, or within the pin band, is at risk', () => {
    assert.equal(expirationRisk({ right: 'C', spot: 101, strike: 100, time: t, vol: 0.2 }).atRisk, true);
    assert.equal(expirationRisk({ right: 'P', spot: 100.3, strike: 100, time: t, vol: 0.2 }).atRisk, true, 'pinned');
    const far = expirationRisk({ right: 'P', spot: 103, strike: 100, time: t, vol: 0.2 });
    assert.equal(far.atRisk, false);
    near(far.numbers.band, 0.515, 1e-9, 'band: 0.5% of S beats one sd (0.2 x sqrt(2h) x 103 = 0.31)');
  });
  test('the band is one standard deviation when that is larger', () => {
    const x = expirationRisk({ right: 'C', spot: 100, strike: 101, time: t, vol: 0.8 });
    near(x.numbers.band, 100 * 0.8 * Math.sqrt(t), 1e-9, 'band');
    assert.equal(x.atRisk, true);
  });
});

// ----------------------------------------------------------------------------------------------- the date layer

const XOM_DIV: Dividend[] = [{ exDate: '2026-02-13', amount: 1.03 }];
const call120 = opt('XOM', 'C', 120, '2026-02-20');
const put100 = opt('XOM', 'P', 100, '2026-02-20');

function env(settings: Partial<EarlyAssignmentSettings> = {}, divs: Dividend[] = XOM_DIV, vol: number | null = 0.22): RiskEnvironment {
  return { settings: { ...DEFAULT_EARLY_ASSIGNMENT, ...settings }, rate: 0.045, volatility: () => vol, dividends: () => divs, steps: 400 };
}

function ctx(now: EpochMs, holdings: readonly Holding[], spot: number, kind: StrategyKind = 'strangle'): RuleContext {
  return {
    strategy: { id: StrategyId.unsafe('s1'), account: AccountId.unsafe('DU1'), kind, legs: [], createdAt: EpochMs.unsafe(0) },
    state: 'OPEN',
    holdings,
    now,
    quote: () => null,
    underlyingPrice: () => spot,
  };
}

function view(c: RuleContext) {
  return { strategy: c.strategy, holdings: c.holdings, now: c.now, spot: c.underlyingPrice, quote: c.quote };
}

const STRANGLE = [h(call120, -1), h(put100, -1)];

describe('assessStrategy: the XOM strangle before its 1.03 ex-date (Friday 2026-02-13)', () => {
  test('Wednesday: watch, the guard will close at Thursday 09:30', () => {
    const r = assessStrategy(view(ctx(at('2026-02-11T11:00:00-05:00'), STRANGLE, 128)), env());
    const f = r.legs.find((l) => l.contract.right === 'C')!.findings[0]!;
    assert.equal(f.rule, 'ex-dividend-call');
    assert.equal(f.status, 'watch');
    assert.equal(f.action, 'close');
    assert.equal(f.actAt, at('2026-02-12T09:30:00-05:00'));
    assert.equal(f.numbers['decisionDay'], '2026-02-12');
    assert.ok(strategyAtRisk(r));
  });
  test('Thursday 10:00: at risk, CLOSE decided before the time exit, with the numbers', () => {
    const d = evaluateRules(earlyAssignmentRules(env()), ctx(at('2026-02-12T10:00:00-05:00'), STRANGLE, 128));
    assert.ok(d);
    assert.equal(d.action, 'CLOSE');
    assert.equal(d.rule, 'ExDividendCall');
    for (const k of ['S', 'K', 'tau', 'D', 'putValue', 'carry', 'americanValue', 'distance']) assert.ok(d.metadata[k] !== undefined && d.metadata[k] !== null, k);
    assert.equal(d.metadata['S'], 128);
    assert.equal(d.metadata['D'], 1.03);
    assert.ok((d.metadata['distance'] as number) > 0);
  });
  test('Thursday 15:45, past actBy 15:30: a warning only', () => {
    const d = evaluateRules(earlyAssignmentRules(env()), ctx(at('2026-02-12T15:45:00-05:00'), STRANGLE, 128));
    assert.equal(d?.action, 'ALERT_ONLY');
    assert.match(d.reason, /past the act-by time/);
  });
  test('policy alert: ALERT_ONLY with the suggested action; off: nothing', () => {
    const d = evaluateRules(earlyAssignmentRules(env({ exDividend: 'alert' })), ctx(at('2026-02-12T10:00:00-05:00'), STRANGLE, 128));
    assert.equal(d?.action, 'ALERT_ONLY');
    assert.match(d.reason, /suggested: close or roll the call/);
    assert.equal(evaluateRules(earlyAssignmentRules(env({ exDividend: 'off' })), ctx(at('2026-02-12T10:00:00-05:00'), STRANGLE, 128)), null);
  });
  test('the call at the money: clear (the put on S - D is worth more than the dividend)', () => {
    const r = assessStrategy(view(ctx(at('2026-02-12T10:00:00-05:00'), STRANGLE, 119)), env());
    assert.equal(r.legs[0]!.findings[0]!.status, 'clear');
    assert.equal(strategyAtRisk(r), false);
  });
  test('no price for the underlying: unknown, never a close', () => {
    const c = { ...ctx(at('2026-02-12T10:00:00-05:00'), STRANGLE, 128), underlyingPrice: () => null };
    assert.equal(assessStrategy(view(c), env()).legs[0]!.findings[0]!.status, 'unknown');
    assert.equal(evaluateRules(earlyAssignmentRules(env()), c), null);
  });
  test('a covered call is reported, never closed', () => {
    const cc = [h(call120, -1), h({ ...SPY, symbol: 'XOM' }, 100)];
    const d = evaluateRules(earlyAssignmentRules(env()), ctx(at('2026-02-12T10:00:00-05:00'), cc, 128, 'covered-call'));
    assert.equal(d?.action, 'ALERT_ONLY');
    assert.equal(d?.metadata['action'], 'report');
  });
});

describe('assessStrategy: deep ITM puts, index options, expiration day', () => {
  const spyPut = opt('SPY', 'P', 500, '2026-06-19');
  test('a deep ITM SPY put in the session: CLOSE; at night: watch for the open', () => {
    const day = evaluateRules(earlyAssignmentRules(env({}, [], 0.15)), ctx(at('2026-03-02T11:00:00-05:00'), [h(spyPut, -1)], 300));
    assert.equal(d0(day), 'CLOSE DeepItmPut');
    const r = assessStrategy(view(ctx(at('2026-03-02T20:00:00-05:00'), [h(spyPut, -1)], 300)), env({}, [], 0.15));
    assert.equal(r.legs[0]!.findings[0]!.status, 'watch');
    assert.equal(r.legs[0]!.findings[0]!.actAt, at('2026-03-03T09:30:00-05:00'));
  });
  test('a cash-secured put deep ITM: reported, not acted on', () => {
    const d = evaluateRules(earlyAssignmentRules(env({}, [], 0.15)), ctx(at('2026-03-02T11:00:00-05:00'), [h(spyPut, -1)], 300, 'cash-secured-put'));
    assert.equal(d0(d), 'ALERT_ONLY DeepItmPut');
  });
  test('index options (SPX, XSP, NDX, RUT) are never flagged, however deep', () => {
    for (const sym of ['SPX', 'XSP', 'NDX', 'RUT']) {
      const p = opt(sym, 'P', 6000, '2026-06-26');
      const r = assessStrategy(view(ctx(at('2026-03-02T11:00:00-05:00'), [h(p, -1)], 3000)), env({}, [], 0.15));
      assert.match(r.legs[0]!.exempt ?? '', /european, cash-settled/);
      assert.deepEqual(r.legs[0]!.findings, []);
      assert.equal(evaluateRules(earlyAssignmentRules(env({}, [], 0.15)), ctx(at('2026-06-26T15:10:00-04:00'), [h(p, -1)], 6000.5)), null, `${sym} at expiry`);
    }
  });
  test('expiration day: 14:00 watch, 15:10 close, OTM far away clear; the day before nothing', () => {
    const c = opt('SPY', 'C', 600, '2026-06-26');
    const e = env({}, [], 0.15);
    const watch = assessStrategy(view(ctx(at('2026-06-26T14:00:00-04:00'), [h(c, -1)], 600.5)), e).legs[0]!.findings;
    assert.deepEqual(watch.map((f) => [f.rule, f.status]), [['expiration', 'watch']]);
    assert.equal(d0(evaluateRules(earlyAssignmentRules(e), ctx(at('2026-06-26T15:10:00-04:00'), [h(c, -1)], 600.5))), 'CLOSE ExpirationRisk');
    assert.equal(evaluateRules(earlyAssignmentRules(e), ctx(at('2026-06-26T15:10:00-04:00'), [h(c, -1)], 590)), null);
    assert.deepEqual(assessStrategy(view(ctx(at('2026-06-25T15:10:00-04:00'), [h(c, -1)], 600.5)), e).legs[0]!.findings, []);
  });
  test('long legs are not listed; all rules off: no rules at all', () => {
    const r = assessStrategy(view(ctx(at('2026-03-02T11:00:00-05:00'), [h(spyPut, 1)], 300)), env());
    assert.deepEqual(r.legs, []);
    assert.deepEqual(earlyAssignmentRules(env({ exDividend: 'off', deepItmPut: 'off', expiration: 'off' })), []);
  });
});

function d0(d: { action: string; rule: string } | null): string {
  return d === null ? 'null' : `${d.action} ${d.rule}`;
}
