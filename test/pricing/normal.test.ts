import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { bivariateNormCdf, normCdf, normPdf } from '../../src/core/pricing/normal.js';

// A reference N(x) from the Taylor series of erf, independent of the rational approximation under test; exact to
// about 1e-15 for |x| <= 5.
function seriesCdf(x: number): number {
  const z = x / Math.SQRT2;
  let term = z;
  let sum = z;
  for (let n = 1; n < 200; n++) {
    term *= (-z * z) / n;
    const add = term / (2 * n + 1);
    sum += add;
    if (Math.abs(add) < 1e-18) break;
  }
  return 0.5 + sum / Math.sqrt(Math.PI);
}

describe('normal distribution', () => {
  test('known values of N(x)', () => {
    assert.ok(Math.abs(normCdf(0) - 0.5) < 1e-15, 'Math.abs(normCdf(0) - 0.5) < 1e-15');
    assert.ok(Math.abs(normCdf(1.96) - 0.9750021048517795) < 1e-14, 'Math.abs(normCdf(1.96) - 0.9750021048517795) < 1e-14');
    assert.ok(Math.abs(normCdf(-1) - 0.15865525393145707) < 1e-14, 'Math.abs(normCdf(-1) - 0.15865525393145707) < 1e-14');
    assert.ok(Math.abs(normCdf(3) - 0.9986501019683699) < 1e-14, 'Math.abs(normCdf(3) - 0.9986501019683699) < 1e-14');
    assert.ok(Math.abs(normCdf(-8) / 6.22096057427178e-16 - 1) < 1e-6, 'Math.abs(normCdf(-8) / 6.22096057427178e-16 - 1) < 1e-6');
    assert.equal(normCdf(-40), 0);
    assert.equal(normCdf(40), 1);
    assert.ok(Number.isNaN(normCdf(Number.NaN)), 'Number.isNaN(normCdf(Number.NaN))');
  });

  test('N(x) agrees with the erf series and is symmetric', () => {
    fc.assert(
      fc.property(fc.double({ min: -5, max: 5, noNaN: true }), (x) => {
        assert.ok(Math.abs(normCdf(x) - seriesCdf(x)) < 1e-12, `N(${x})`);
        assert.ok(Math.abs(normCdf(x) + normCdf(-x) - 1) < 1e-14, 'Math.abs(normCdf(x) + normCdf(-x) - 1) < 1e-14');
      }),
    );
  });

  test('the density integrates to the distribution', () => {
    // Simpson's rule from -1 to 2.
    const n = 2000;
    const h = 3 / n;
    let s = normPdf(-1) + normPdf(2);
    for (let i = 1; i < n; i++) s += (i % 2 === 0 ? 2 : 4) * normPdf(-1 + i * h);
    assert.ok(Math.abs((s * h) / 3 - (normCdf(2) - normCdf(-1))) < 1e-12, 'Math.abs((s * h) / 3 - (normCdf(2) - normCdf(-1))) < 1e-12');
  });

  test('bivariate N at the origin has the closed form 1/4 + asin(rho)/(2 pi)', () => {
    for (const rho of [-0.95, -0.786, -0.5, 0, 0.3, 0.786, 0.95]) {
      const exact = 0.25 + Math.asin(rho) / (2 * Math.PI);
      assert.ok(Math.abs(bivariateNormCdf(0, 0, rho) - exact) < 1e-10, `rho ${rho}`);
    }
  });

  test('bivariate N: independence, symmetry in a and b, and the limits', () => {
    fc.assert(
      fc.property(
        fc.double({ min: -4, max: 4, noNaN: true }),
        fc.double({ min: -4, max: 4, noNaN: true }),
        fc.double({ min: -0.95, max: 0.95, noNaN: true }),
        (a, b, rho) => {
          assert.ok(Math.abs(bivariateNormCdf(a, b, 0) - normCdf(a) * normCdf(b)) < 1e-10, 'Math.abs(bivariateNormCdf(a, b, 0) - normCdf(a) * normCdf(b)) < 1e-10');
          assert.ok(Math.abs(bivariateNormCdf(a, b, rho) - bivariateNormCdf(b, a, rho)) < 1e-9, 'Math.abs(bivariateNormCdf(a, b, rho) - bivariateNormCdf(b, a, rho))...');
          // P(X <= a, Y <= b) + P(X <= a, Y > b) = N(a), and P(X <= a, -Y < -b) has correlation -rho.
          assert.ok(Math.abs(bivariateNormCdf(a, b, rho) + bivariateNormCdf(a, -b, -rho) - normCdf(a)) < 1e-9, 'Math.abs(bivariateNormCdf(a, b, rho) + bivariateNormCdf(a, -b, -rho...');
        },
      ),
      { numRuns: 60 },
    );
    assert.equal(bivariateNormCdf(1, 2, 1), normCdf(1));
    assert.ok(Math.abs(bivariateNormCdf(1, 2, -1) - (normCdf(1) - normCdf(-2))) < 1e-15, 'Math.abs(bivariateNormCdf(1, 2, -1) - (normCdf(1) - normCdf(-2))) <...');
    assert.equal(bivariateNormCdf(-20, 1, 0.5), 0);
  });
});
