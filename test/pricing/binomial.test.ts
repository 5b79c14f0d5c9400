import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { binomial } from '../../src/core/pricing/binomial.js';
import { blackScholes } from '../../src/core/pricing/black-scholes.js';
import { LegguardError } from '../../src/core/errors.js';

const near = (a: number, b: number, tol: number, what: string): void =>
  assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} is not within ${tol} of ${b}`);

// Figures from /work/shared/reference/american-options.md; 4-decimal figures are checked to half a unit in the last
// place.
describe('binomial tree (CRR)', () => {
  test('Hull: American put, S = K = 50, r = 10%, sigma = 40%, 5 months, 5 steps: 4.4885 (European 4.3190)', () => {
    const x = { right: 'P' as const, spot: 50, strike: 50, time: 5 / 12, rate: 0.1, vol: 0.4 };
    near(binomial(x, { steps: 5 }).price, 4.4885, 5e-5, 'American');
    near(binomial(x, { steps: 5, style: 'european' }).price, 4.319, 5e-5, 'European');
  });

  test('Hull: the same put on S = 52 with a 2.06 dividend at 3.5 months (escrowed): 4.4404', () => {
    const x = {
      right: 'P' as const,
      spot: 52,
      strike: 50,
      time: 5 / 12,
      rate: 0.1,
      vol: 0.4,
      dividends: [{ time: 3.5 / 12, amount: 2.06 }],
    };
    near(binomial(x, { steps: 5 }).price, 4.4404, 5e-5, 'American with dividend');
  });

  test('1,000+ steps agree with the near-exact American calls within 0.002 (K 100, r = q = 10%, sigma 15%, T 0.5)', () => {
    const exact: [number, number][] = [
      [90, 0.8114],
      [100, 4.0685],
      [110, 10.8108],
    ];
    for (const [spot, value] of exact) {
      const x = { right: 'C' as const, spot, strike: 100, time: 0.5, rate: 0.1, vol: 0.15, dividendYield: 0.1 };
      near(binomial(x, { steps: 1000 }).price, value, 0.002, `S = ${spot}, 1000 steps`);
      near(binomial(x, { steps: 1001 }).price, value, 0.002, `S = ${spot}, 1001 steps`);
    }
  });

  test('the European tree converges to Black-Scholes', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('C' as const, 'P' as const),
        fc.double({ min: 60, max: 140, noNaN: true }),
        fc.double({ min: 0.05, max: 1, noNaN: true }),
        fc.double({ min: 0.1, max: 0.6, noNaN: true }),
        (right, spot, time, vol) => {
          const x = { right, spot, strike: 100, time, rate: 0.05, vol, dividendYield: 0.01 };
          near(binomial(x, { steps: 800, style: 'european' }).price, blackScholes(x).price, 0.01, 'tree vs BS');
        },
      ),
      { numRuns: 20 },
    );
  });

  test('American value is at least the European value and the intrinsic value; a call without dividends is European', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('C' as const, 'P' as const),
        fc.double({ min: 50, max: 150, noNaN: true }),
        fc.double({ min: 0.02, max: 1, noNaN: true }),
        fc.double({ min: 0.1, max: 0.6, noNaN: true }),
        fc.double({ min: 0, max: 3, noNaN: true }),
        (right, spot, time, vol, div) => {
          const x = { right, spot, strike: 100, time, rate: 0.05, vol, dividends: [{ time: time / 2, amount: div }] };
          const am = binomial(x, { steps: 300 });
          const eu = binomial(x, { steps: 300, style: 'european' });
          assert.ok(am.price >= eu.price - 1e-12, 'am.price >= eu.price - 1e-12');
          assert.ok(am.price >= am.intrinsic - 1e-12, 'am.price >= am.intrinsic - 1e-12');
          const plain = { right: 'C' as const, spot, strike: 100, time, rate: 0.05, vol };
          near(binomial(plain, { steps: 300 }).price, binomial(plain, { steps: 300, style: 'european' }).price, 1e-9, 'call');
        },
      ),
      { numRuns: 30 },
    );
  });

  test('delta and gamma from the tree are close to Black-Scholes for a European option', () => {
    const x = { right: 'P' as const, spot: 95, strike: 100, time: 0.5, rate: 0.04, vol: 0.25 };
    const t = binomial(x, { steps: 1000, style: 'european' });
    const b = blackScholes(x);
    near(t.delta, b.delta, 2e-3, 'delta');
    near(t.gamma, b.gamma, 2e-3, 'gamma');
  });

  test('refuses too few steps, and dividends worth more than the spot', () => {
    assert.throws(
      () => binomial({ right: 'C', spot: 100, strike: 100, time: 1, rate: 0.05, vol: 0.2 }, { steps: 1 }),
      (e: unknown) => LegguardError.is(e, 'INVALID_INPUT') && /steps/.test(e.message),
    );
    assert.throws(
      () => binomial({ right: 'C', spot: 100, strike: 100, time: 10, rate: 0.9, vol: 0.01 }, { steps: 2 }),
      (e: unknown) => LegguardError.is(e, 'INVALID_INPUT') && /too few/.test(e.message),
    );
    assert.throws(
      () => binomial({ right: 'C', spot: 1, strike: 1, time: 1, rate: 0.05, vol: 0.2, dividends: [{ time: 0.5, amount: 2 }] }),
      (e: unknown) => LegguardError.is(e, 'INVALID_INPUT') && /exceed the spot/.test(e.message),
    );
  });
});
