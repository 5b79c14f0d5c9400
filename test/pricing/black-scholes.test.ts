import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { blackScholes, gbsPrice } from '../../src/core/pricing/black-scholes.js';
import { LegguardError } from '../../src/core/errors.js';
import type { OptionInput } from '../../src/core/pricing/option-input.js';

const near = (a: number, b: number, tol: number, what: string): void =>
  assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} is not within ${tol} of ${b}`);

const inputs = fc.record({
  spot: fc.double({ min: 20, max: 200, noNaN: true }),
  strike: fc.double({ min: 20, max: 200, noNaN: true }),
  time: fc.double({ min: 0.01, max: 2, noNaN: true }),
  rate: fc.double({ min: -0.01, max: 0.1, noNaN: true }),
  vol: fc.double({ min: 0.05, max: 0.9, noNaN: true }),
  dividendYield: fc.double({ min: 0, max: 0.06, noNaN: true }),
});

describe('Black-Scholes', () => {
  test('Hull: European call with two cash dividends (escrowed) is 3.67', () => {
    const c = blackScholes({
      right: 'C',
      spot: 40,
      strike: 40,
      time: 0.5,
      rate: 0.09,
      vol: 0.3,
      dividends: [
        { time: 2 / 12, amount: 0.5 },
        { time: 5 / 12, amount: 0.5 },
      ],
    });
    near(c.price, 3.67, 0.005, 'Hull European call');
  });

  test('put-call parity with a dividend yield', () => {
    fc.assert(
      fc.property(inputs, (x) => {
        const c = blackScholes({ ...x, right: 'C' }).price;
        const p = blackScholes({ ...x, right: 'P' }).price;
        const parity = x.spot * Math.exp(-x.dividendYield * x.time) - x.strike * Math.exp(-x.rate * x.time);
        near(c - p, parity, 1e-9 * x.spot, 'C - P');
      }),
    );
  });

  test('greeks agree with finite differences of the price', () => {
    fc.assert(
      fc.property(inputs, fc.constantFrom('C' as const, 'P' as const), (x, right) => {
        const base: OptionInput = { ...x, right };
        const g = blackScholes(base);
        const px = (over: Partial<OptionInput>): number => blackScholes({ ...base, ...over }).price;
        const h = 1e-4 * x.spot;
        // A small step for delta (truncation error grows with h squared times the third derivative, large near expiry).
        const hd = 1e-6 * x.spot;
        near(g.delta, (px({ spot: x.spot + hd }) - px({ spot: x.spot - hd })) / (2 * hd), 1e-6, 'delta');
        // The difference quotient's error grows with the curvature: relative tolerance for gamma.
        near(g.gamma, (px({ spot: x.spot + h }) - 2 * g.price + px({ spot: x.spot - h })) / (h * h), 1e-4 * Math.max(1, g.gamma), 'gamma');
        near(g.vega, (px({ vol: x.vol + 1e-5 }) - px({ vol: x.vol - 1e-5 })) / 2e-5, 1e-4 * x.spot, 'vega');
        near(g.rho, (px({ rate: x.rate + 1e-6 }) - px({ rate: x.rate - 1e-6 })) / 2e-6, 1e-3 * x.spot, 'rho');
        // Theta is minus the derivative in time to expiry.
        near(g.theta, -(px({ time: x.time + 1e-6 }) - px({ time: x.time - 1e-6 })) / 2e-6, 1e-3 * x.spot, 'theta');
      }),
      { numRuns: 60 },
    );
  });

  test('the generalized form with carry b = r - q is the same price', () => {
    fc.assert(
      fc.property(inputs, fc.constantFrom('C' as const, 'P' as const), (x, right) => {
        const a = blackScholes({ ...x, right }).price;
        const b = gbsPrice(right, x.spot, x.strike, x.time, x.rate, x.rate - x.dividendYield, x.vol);
        near(a, b, 1e-9 * x.spot, 'gbs');
      }),
    );
  });

  test('at expiry an option is worth its intrinsic value', () => {
    assert.equal(blackScholes({ right: 'C', spot: 105, strike: 100, time: 0, rate: 0.05, vol: 0.2 }).price, 5);
    assert.equal(blackScholes({ right: 'P', spot: 105, strike: 100, time: 0, rate: 0.05, vol: 0.2 }).price, 0);
    assert.equal(blackScholes({ right: 'P', spot: 95, strike: 100, time: 0, rate: 0.05, vol: 0.2 }).delta, -1);
  });

  test('bad input is refused naming the field', () => {
    const base: OptionInput = { right: 'C', spot: 100, strike: 100, time: 1, rate: 0.05, vol: 0.2 };
    const cases: [Partial<OptionInput>, string][] = [
      [{ spot: -1 }, 'spot'],
      [{ strike: 0 }, 'strike'],
      [{ time: -0.1 }, 'time'],
      [{ vol: 0 }, 'vol'],
      [{ rate: Number.NaN }, 'rate'],
      [{ dividends: [{ time: 0.5, amount: -1 }] }, 'dividends[0].amount'],
    ];
    for (const [over, field] of cases) {
      assert.throws(
        () => blackScholes({ ...base, ...over }),
        (e: unknown) => LegguardError.is(e, 'INVALID_INPUT') && e.message.includes(field),
        field,
      );
    }
  });
});
