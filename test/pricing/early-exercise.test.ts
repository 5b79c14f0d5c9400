import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { exDividendCallDecision, exDividendCallRule, putEarlyExerciseDecision, timeValue } from '../../src/core/pricing/early-exercise.js';
import { binomial } from '../../src/core/pricing/binomial.js';
import { blackScholes } from '../../src/core/pricing/black-scholes.js';

const near = (a: number, b: number, tol: number, what: string): void =>
  assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} is not within ${tol} of ${b}`);

describe('early exercise of a call before an ex-dividend date', () => {
  // `days` counts from the last cum-dividend day to expiry; the table's tau is the time left after the ex-date, one
  // day less (K(1 - e^{-r tau}) reproduces 0.1109 with 9 days, not 10).
  const rows = [
    { s: 100, k: 90, vol: 0.25, days: 10, d: 2.0, put: 0.018, interest: 0.1109, threshold: 0.1289, exercise: true },
    { s: 100, k: 80, vol: 0.25, days: 60, d: 1.0, put: 0.0434, interest: 0.644, threshold: 0.6874, exercise: true },
    { s: 100, k: 90, vol: 0.25, days: 60, d: 1.0, put: 0.7447, interest: 0.7245, threshold: 1.4691, exercise: false },
    { s: 100, k: 95, vol: 0.3, days: 45, d: 0.5, put: 1.9888, interest: 0.5709, threshold: 2.5597, exercise: false },
  ];
  for (const r of rows) {
    test(`S ${r.s} K ${r.k} sigma ${r.vol} ${r.days} days D ${r.d}: ${r.exercise ? 'exercise' : 'hold'}`, () => {
      const x = exDividendCallDecision({ spot: r.s, strike: r.k, vol: r.vol, rate: 0.05, dividend: r.d, tau: (r.days - 1) / 365 });
      near(x.putValue, r.put, 5e-5, 'P_E(S - D)');
      near(x.interest, r.interest, 5e-5, 'K(1 - e^{-r tau})');
      near(x.threshold, r.threshold, 1e-4, 'threshold');
      assert.equal(x.exercise, r.exercise);
      assert.equal(x.exercise, r.d > x.threshold);
    });
  }

  // The ASX sheet quotes simple interest (26 x 5.25% x 17/365 = 0.0636 prints as 0.064; continuous gives 0.0635).
  test('ASX, NAB ex-date 7 June 2004 (D 0.83, S 30.31, 17 days, r 5.25%): 26.00 and 30.00 exercised, 30.50 not', () => {
    const tau = 17 / 365;
    const compounding = 'simple' as const;
    const c26 = exDividendCallRule({ dividend: 0.83, putPrice: 0, strike: 26, rate: 0.0525, tau, compounding });
    near(c26.interest, 0.064, 5e-4, 'interest 26.00');
    assert.equal(c26.exercise, true);
    const c30 = exDividendCallRule({ dividend: 0.83, putPrice: 0.68, strike: 30, rate: 0.0525, tau, compounding });
    near(c30.interest, 0.073, 5e-4, 'interest 30.00');
    near(c30.threshold, 0.753, 5e-4, 'threshold 30.00');
    assert.equal(c30.exercise, true);
    const c305 = exDividendCallRule({ dividend: 0.83, putPrice: 1.09, strike: 30.5, rate: 0.0525, tau, compounding });
    // The decisions do not depend on the compounding convention here.
    for (const [k, p] of [[26, 0], [30, 0.68], [30.5, 1.09]] as const) {
      const simple = exDividendCallRule({ dividend: 0.83, putPrice: p, strike: k, rate: 0.0525, tau, compounding });
      assert.equal(exDividendCallRule({ dividend: 0.83, putPrice: p, strike: k, rate: 0.0525, tau }).exercise, simple.exercise);
    }
    near(c305.interest, 0.075, 5e-4, 'interest 30.50');
    near(c305.threshold, 1.165, 5e-4, 'threshold 30.50');
    assert.equal(c305.exercise, false);
  });

  test('tastylive form: at risk when the dividend exceeds the same-strike put (interest is extra)', () => {
    const x = exDividendCallRule({ dividend: 0.5, putPrice: 0.6, strike: 50, rate: 0.05, tau: 0.05 });
    assert.equal(x.exercise, false);
  });

  test('an out-of-the-money call is never exercised, however large the dividend', () => {
    const x = exDividendCallDecision({ spot: 100, strike: 105, vol: 0.2, rate: 0.05, dividend: 5, tau: 0.1 });
    assert.equal(x.exerciseValue, 0);
    assert.equal(x.exercise, false);
  });

  test('the decision agrees with a tree that holds the whole problem (dividend an instant away), later dividends too', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 70, max: 130, noNaN: true }),
        fc.double({ min: 0.1, max: 0.5, noNaN: true }),
        fc.double({ min: 0.1, max: 3, noNaN: true }),
        fc.integer({ min: 5, max: 120 }),
        fc.option(fc.double({ min: 0.1, max: 3, noNaN: true }), { nil: undefined }),
        (strike, vol, d, days, later) => {
          const tau = days / 365;
          const laterDividends = later === undefined ? [] : [{ time: tau / 2, amount: later }];
          const x = exDividendCallDecision({ spot: 100, strike, vol, rate: 0.05, dividend: d, tau, laterDividends, steps: 600 });
          // The same decision as one American tree started just before the ex-date (one step = tau / 600).
          const eps = tau / 6000;
          const tree = binomial(
            {
              right: 'C',
              spot: 100,
              strike,
              time: tau + eps,
              rate: 0.05,
              vol,
              dividends: [{ time: eps, amount: d }, ...laterDividends.map((l) => ({ time: l.time + eps, amount: l.amount }))],
            },
            { steps: 600 },
          );
          // Close to the boundary the two discretisations may differ; away from it they must agree.
          fc.pre(Math.abs(x.exerciseValue - x.holdValue) > 0.02);
          assert.equal(x.exercise, tree.exerciseNow, JSON.stringify({ strike, vol, d, days, later, x }));
        },
      ),
      { numRuns: 40 },
    );
  });

  test('a later dividend makes holding worth less than the European call on S - D', () => {
    const base = { spot: 100, strike: 90, vol: 0.25, rate: 0.05, dividend: 1, tau: 59 / 365 };
    const without = exDividendCallDecision(base);
    const withLater = exDividendCallDecision({ ...base, laterDividends: [{ time: 30 / 365, amount: 1 }] });
    assert.ok(withLater.holdValue < without.holdValue, 'withLater.holdValue < without.holdValue');
    // Same threshold, different decision inputs: the rule alone is not the whole story with later dividends.
    near(withLater.threshold, without.threshold, 1e-12, 'threshold');
  });
});

describe('early exercise of a deep in-the-money put', () => {
  const rows = [
    { s: 60, k: 100, vol: 0.3, days: 91, call: 0.0013, carry: 1.2388, american: 40.0, exercise: true },
    { s: 80, k: 100, vol: 0.25, days: 30, call: 0.002, carry: 0.4101, american: 20.0, exercise: true },
  ];
  for (const r of rows) {
    test(`S ${r.s} K ${r.k} sigma ${r.vol} ${r.days} days: exercise (American value = intrinsic)`, () => {
      const x = putEarlyExerciseDecision({ spot: r.s, strike: r.k, vol: r.vol, rate: 0.05, time: r.days / 365 });
      near(x.callValue, r.call, 5e-5, 'C_E');
      near(x.carry, r.carry, 5e-5, 'carry');
      assert.equal(x.screen, true);
      near(x.americanValue!, r.american, 5e-5, 'American value');
      assert.equal(x.exercise, r.exercise);
    });
  }

  test('S 90 K 100 sigma 30% 91 days: call 2.30 > carry 1.24, American 11.36: hold', () => {
    const x = putEarlyExerciseDecision({ spot: 90, strike: 100, vol: 0.3, rate: 0.05, time: 91 / 365 });
    near(x.callValue, 2.3, 5e-3, 'C_E');
    near(x.carry, 1.24, 5e-3, 'carry');
    assert.equal(x.screen, false);
    assert.equal(x.exercise, false);
    const tree = binomial({ right: 'P', spot: 90, strike: 100, time: 91 / 365, rate: 0.05, vol: 0.3 });
    near(tree.price, 11.36, 5e-3, 'American value');
  });

  test('S 100 K 110 56 days sigma 20% r 8%: the screen passes (call 0.61) but the American value 10.0126 > 10: hold', () => {
    const x = putEarlyExerciseDecision({ spot: 100, strike: 110, vol: 0.2, rate: 0.08, time: 56 / 365 });
    near(x.callValue, 0.61, 5e-3, 'C_E');
    // The reference prints carry 1.35, which is simple interest K r tau = 1.3501; continuous compounding gives 1.3419.
    near(x.carry, 110 * (1 - Math.exp((-0.08 * 56) / 365)), 1e-12, 'carry');
    near(110 * 0.08 * (56 / 365), 1.35, 5e-3, 'simple-interest carry');
    assert.equal(x.screen, true);
    near(x.americanValue!, 10.0126, 5e-5, 'American value');
    assert.equal(x.exercise, false);
  });

  test('dividends before expiry weigh against exercising: a large one turns the screen off', () => {
    const plain = putEarlyExerciseDecision({ spot: 60, strike: 100, vol: 0.3, rate: 0.05, time: 91 / 365 });
    const withDiv = putEarlyExerciseDecision({
      spot: 60,
      strike: 100,
      vol: 0.3,
      rate: 0.05,
      time: 91 / 365,
      dividends: [{ time: 30 / 365, amount: 2 }],
    });
    assert.equal(plain.exercise, true);
    assert.equal(withDiv.screen, false);
    assert.equal(withDiv.exercise, false);
  });

  test('the screen is necessary: whenever the tree says exercise, the screen passed', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 40, max: 100, noNaN: true }),
        fc.double({ min: 0.1, max: 0.5, noNaN: true }),
        fc.integer({ min: 5, max: 200 }),
        (spot, vol, days) => {
          const time = days / 365;
          const tree = binomial({ right: 'P', spot, strike: 100, time, rate: 0.05, vol }, { steps: 400 });
          const c = blackScholes({ right: 'C', spot, strike: 100, time, rate: 0.05, vol }).price;
          if (tree.exerciseNow) assert.ok(100 * (1 - Math.exp(-0.05 * time)) >= c - 1e-9, '100 * (1 - Math.exp(-0.05 * time)) >= c - 1e-9');
        },
      ),
      { numRuns: 40 },
    );
  });

  test('time value', () => {
    assert.equal(timeValue(5.5, 'C', 105, 100), 0.5);
    assert.equal(timeValue(1.2, 'P', 105, 100), 1.2);
    assert.equal(timeValue(4.9, 'P', 95, 100), 0);
  });
});
