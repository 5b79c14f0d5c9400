import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Holding } from './book.js';
import { option, stock } from './contract.js';
import { Qty } from './quantity.js';
import { nakedShorts } from './naked-shorts.js';

const h = (c: Holding['contract'], q: number): Holding => ({ contract: c, qty: Qty.unsafe(q) });
const opt = (right: 'C' | 'P', strike: number, expiry = '2026-01-30') => option({ symbol: 'SPY', right, strike, expiry });
const before = Date.parse('2026-01-28T10:00:00-05:00');
const afterExpiry = Date.parse('2026-01-31T02:30:00-05:00');

test('a condor with one wing gone leaves that side naked', () => {
  const rest = [h(opt('P', 435), 2), h(opt('C', 460), -2), h(opt('C', 465), 2)];
  assert.deepEqual(nakedShorts(rest, before), []);
  const noCallWing = [h(opt('P', 440), -2), h(opt('P', 435), 2), h(opt('C', 460), -2)];
  assert.deepEqual(nakedShorts(noCallWing, before).map((x) => x.qty), [-2]);
});

test('stock covers calls (long) and puts (short); a shortfall is naked', () => {
  assert.deepEqual(nakedShorts([h(stock('SPY'), 100), h(opt('C', 460), -1)], before), []);
  assert.equal(nakedShorts([h(stock('SPY'), 100), h(opt('C', 460), -2)], before).length, 1);
  assert.deepEqual(nakedShorts([h(stock('SPY'), -100), h(opt('P', 440), -1)], before), []);
  assert.equal(nakedShorts([h(stock('SPY'), 100), h(opt('P', 440), -1)], before).length, 1);
});

test('a long expiring before the short does not cover it; expired shorts are not at risk', () => {
  const diagonal = [h(opt('C', 460, '2026-02-20'), -1), h(opt('C', 455, '2026-01-30'), 1)];
  assert.equal(nakedShorts(diagonal, before).length, 1);
  assert.deepEqual(nakedShorts([h(opt('P', 440), -2)], afterExpiry), []);
});
