import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { baroneAdesiWhaley } from '../../src/core/pricing/barone-adesi-whaley.js';
import { bjerksundStensland } from '../../src/core/pricing/bjerksund-stensland.js';
import { binomial } from '../../src/core/pricing/binomial.js';
import { LegguardError } from '../../src/core/errors.js';

const near = (a: number, b: number, tol: number, what: string): void =>
  assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} is not within ${tol} of ${b}`);

// Haug's BAW table as the QuantLib test suite uses it: K = 100, r = q = 10%, S = 90 / 100 / 110 per volatility.
const BAW: { right: 'C' | 'P'; t: number; values: Record<string, [number, number, number]> }[] = [
  { right: 'C', t: 0.1, values: { '0.15': [0.0206, 1.8771, 10.0089], '0.25': [0.3159, 3.128, 10.3919], '0.35': [0.9495, 4.3777, 11.1679] } },
  { right: 'C', t: 0.5, values: { '0.15': [0.8208, 4.0842, 10.8087], '0.25': [2.7437, 6.8015, 13.017], '0.35': [5.0063, 9.5106, 15.5689] } },
  { right: 'P', t: 0.1, values: { '0.15': [10.0, 1.877, 0.041], '0.25': [10.2533, 3.1277, 0.4562], '0.35': [10.8787, 4.3777, 1.2402] } },
  { right: 'P', t: 0.5, values: { '0.15': [10.5595, 4.0842, 1.0822], '0.25': [12.4419, 6.8014, 3.3226], '0.35': [14.6945, 9.5104, 5.8823] } },
];
const SPOTS = [90, 100, 110] as const;

describe('American approximations', () => {
  test('Barone-Adesi-Whaley matches Haug / QuantLib within 3e-3', () => {
    for (const row of BAW) {
      for (const [vol, values] of Object.entries(row.values)) {
        SPOTS.forEach((spot, i) => {
          const x = { right: row.right, spot, strike: 100, time: row.t, rate: 0.1, dividendYield: 0.1, vol: Number(vol) };
          near(baroneAdesiWhaley(x), values[i]!, 3e-3, `BAW ${row.right} T ${row.t} sigma ${vol} S ${spot}`);
        });
      }
    }
  });

  test('Bjerksund-Stensland 2002 matches Haug on the T = 0.5 row', () => {
    const calls = [0.8099, 4.0628, 10.7898];
    SPOTS.forEach((spot, i) => {
      const x = { right: 'C' as const, spot, strike: 100, time: 0.5, rate: 0.1, dividendYield: 0.1, vol: 0.15 };
      near(bjerksundStensland(x), calls[i]!, 5e-5, `BS2002 call S ${spot}`);
    });
    const puts: [number, number][] = [
      [0.15, 10.54],
      [0.25, 12.4097],
      [0.35, 14.6445],
    ];
    for (const [vol, value] of puts) {
      const x = { right: 'P' as const, spot: 90, strike: 100, time: 0.5, rate: 0.1, dividendYield: 0.1, vol };
      near(bjerksundStensland(x), value, 5e-5, `BS2002 put sigma ${vol}`);
    }
  });

  test('both approximations stay within about 0.04 of a 1,000-step tree on the grid', () => {
    for (const row of BAW) {
      for (const vol of [0.15, 0.25, 0.35]) {
        for (const spot of SPOTS) {
          const x = { right: row.right, spot, strike: 100, time: row.t, rate: 0.1, dividendYield: 0.1, vol };
          const tree = binomial(x, { steps: 1000 }).price;
          near(baroneAdesiWhaley(x), tree, 0.04, `BAW vs tree ${JSON.stringify(x)}`);
          near(bjerksundStensland(x), tree, 0.04, `BS2002 vs tree ${JSON.stringify(x)}`);
          // Both are lower bounds in practice: never more than a cent above the tree here.
          assert.ok(bjerksundStensland(x) <= tree + 0.01, 'bjerksundStensland(x) <= tree + 0.01');
        }
      }
    }
  });

  test('cash dividends are refused: the approximations take a yield', () => {
    const x = { right: 'C' as const, spot: 100, strike: 100, time: 0.5, rate: 0.05, vol: 0.2, dividends: [{ time: 0.2, amount: 1 }] };
    assert.throws(() => baroneAdesiWhaley(x), (e: unknown) => LegguardError.is(e, 'INVALID_INPUT') && /binomial/.test(e.message));
    assert.throws(() => bjerksundStensland(x), (e: unknown) => LegguardError.is(e, 'INVALID_INPUT') && /binomial/.test(e.message));
  });
});
