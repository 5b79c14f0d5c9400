import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { LegguardError } from '../../src/core/errors.js';
import { Backoff, retryDelayMs } from '../../src/lib/backoff.js';

describe('retryDelayMs (the alert outbox)', () => {
  const p = { initialMs: 5000, factor: 2, maxMs: 900_000 };
  test('doubles from the initial delay up to the cap', () => {
    assert.deepEqual([1, 2, 3, 4, 8, 9, 10, 1000].map((n) => retryDelayMs(n, p)), [5000, 10_000, 20_000, 40_000, 640_000, 900_000, 900_000, 900_000]);
  });
  test('a failure count below 1, fractional or not finite counts as the first failure', () => {
    assert.deepEqual([0, -3, 1.9, Number.NaN, Number.POSITIVE_INFINITY].map((n) => retryDelayMs(n, p)), [5000, 5000, 5000, 5000, 5000]);
  });
  test('whole ms, at least 1: a fractional factor rounds, a cap below the first wait wins', () => {
    assert.deepEqual([1, 2, 3].map((n) => retryDelayMs(n, { initialMs: 100, factor: 1.5, maxMs: 1000 })), [100, 150, 225]);
    assert.equal(retryDelayMs(4, { initialMs: 100, factor: 1.5, maxMs: 1000 }), 338);
    assert.equal(retryDelayMs(1, { initialMs: 5000, factor: 2, maxMs: 1000 }), 1000);
    assert.equal(retryDelayMs(1, { initialMs: 0.2, factor: 2, maxMs: 1000 }), 1);
  });
  test('property: never below 1 ms or above the cap, never shrinking as failures grow', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5000 }), fc.double({ min: 0.1, max: 1e6, noNaN: true }), fc.double({ min: 1, max: 10, noNaN: true }), fc.integer({ min: 1, max: 1e7 }), (n, initialMs, factor, maxMs) => {
        const q = { initialMs, factor, maxMs };
        const d = retryDelayMs(n, q);
        return d >= 1 && d <= Math.max(1, Math.round(maxMs)) && retryDelayMs(n + 1, q) >= d;
      }),
    );
  });
});

describe('Backoff (the IB reconnect)', () => {
  test('doubles to the cap, resets after success', () => {
    const b = new Backoff({ initialMs: 500, factor: 2, maxMs: 4000 });
    assert.deepEqual([b.next(), b.next(), b.next(), b.next(), b.next()], [500, 1000, 2000, 4000, 4000]);
    b.reset();
    assert.equal(b.next(), 500);
  });
  test('property: its n-th wait is retryDelayMs(n), whatever resets came before', () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { maxLength: 60 }), fc.integer({ min: 1, max: 10_000 }), fc.double({ min: 1, max: 4, noNaN: true }), fc.integer({ min: 0, max: 100_000 }), (ops, initialMs, factor, extra) => {
        const policy = { initialMs, factor, maxMs: initialMs + extra };
        const b = new Backoff(policy);
        let failures = 0;
        for (const reset of ops) {
          if (reset) {
            b.reset();
            failures = 0;
          } else {
            failures++;
            if (b.next() !== retryDelayMs(failures, policy)) return false;
          }
        }
        return true;
      }),
    );
  });
  test('refuses a policy that makes no sense for waiting, naming it', () => {
    const bad = [
      { initialMs: 0, factor: 2, maxMs: 1000 },
      { initialMs: 2000, factor: 2, maxMs: 1000 },
      { initialMs: 100, factor: 0.5, maxMs: 1000 },
      { initialMs: 100, factor: 2, maxMs: Number.POSITIVE_INFINITY },
      { initialMs: Number.NaN, factor: 2, maxMs: 1000 },
    ];
    for (const p of bad) {
      assert.throws(() => new Backoff(p, 'reconnect backoff'), (e) => LegguardError.is(e, 'INVALID_INPUT') && /^reconnect backoff needs 0 < initialMs <= maxMs/.test(e.message));
    }
  });
});
