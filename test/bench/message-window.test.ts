import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { MessageWindow } from '../../bench/message-window.js';
import { LegguardError } from '../../src/core/errors.js';

function windowOf(times: readonly number[], ms = 1000): MessageWindow {
  const w = new MessageWindow(ms);
  for (const t of times) w.add(t);
  return w;
}

describe('MessageWindow (the wire bench waits for room in the pacing budget)', () => {
  test('room now when the last second leaves it; otherwise when enough of the oldest have left', () => {
    assert.equal(windowOf([0, 10, 20]).roomAt(30, 1, 4), 30);
    assert.equal(windowOf([0, 10, 20]).roomAt(30, 2, 4), 1000);
    assert.equal(windowOf([0, 10, 20]).roomAt(30, 3, 4), 1010);
    assert.equal(windowOf([0, 10, 20]).roomAt(30, 4, 4), 1020);
  });

  test('a message read exactly a window ago no longer counts (as the pacer frees its slot)', () => {
    assert.equal(windowOf([0, 500]).countAt(999), 2);
    assert.equal(windowOf([0, 500]).countAt(1000), 1);
    assert.equal(windowOf([0, 500]).roomAt(1000, 1, 2), 1000);
  });

  test('several messages read at the same instant leave together', () => {
    assert.equal(windowOf([5, 5, 5, 7]).roomAt(10, 2, 4), 1005);
    assert.equal(windowOf([5, 5, 5, 7]).roomAt(10, 4, 4), 1007);
  });

  test('refuses a need above the limit, out-of-order or non-finite times and an empty window', () => {
    assert.throws(() => windowOf([]).roomAt(0, 5, 4), LegguardError);
    assert.throws(() => windowOf([]).roomAt(0, 1.5, 4), LegguardError);
    assert.throws(() => windowOf([10, 5]), LegguardError);
    assert.throws(() => windowOf([Number.NaN]), LegguardError);
    assert.throws(() => new MessageWindow(0), LegguardError);
  });

  test('the answer is the earliest instant at which the need fits (random traffic)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 400 }), { maxLength: 60 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 0, max: 40 }),
        fc.integer({ min: 0, max: 2000 }),
        (gaps, limit, needRaw, after) => {
          const need = Math.min(needRaw, limit);
          const times: number[] = [];
          let t = 0;
          for (const g of gaps) times.push((t += g));
          const now = t + after;
          const at = windowOf(times).roomAt(now, need, limit);
          assert.ok(at >= now);
          assert.ok(windowOf(times).countAt(at) + need <= limit, `room at ${at}`);
          if (at > now) assert.ok(windowOf(times).countAt(at - 1) + need > limit, `no room before ${at}`);
        },
      ),
      { numRuns: 300 },
    );
  });
});
