import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IsoDate, stock, type OptionContract } from '../../src/core/contract.js';
import { incidentCost, midOf } from '../../src/core/incident-cost.js';

const opt = (right: 'C' | 'P', strike: number): OptionContract => ({
  secType: 'OPT',
  symbol: 'SPY',
  right,
  strike,
  expiry: IsoDate.unsafe('2026-01-30'),
  multiplier: 100,
  style: 'american',
  settlement: 'physical',
  currency: 'USD',
});

test('mid: both sides, half the ask when nothing is bid, the bid or the last otherwise', () => {
  assert.equal(midOf(1, 1.2), 1.1);
  assert.equal(midOf(0, 0.04), 0.02);
  assert.equal(midOf(null, 0.04), 0.02);
  assert.equal(midOf(2, null), 2);
  assert.equal(midOf(null, null, 3), 3);
  assert.equal(midOf(null, null), null);
});

test('an assigned condor: mark at detection, realized per order, slippage against the mid when sent, versus the mark', () => {
  const spy = stock('SPY');
  const c = incidentCost(
    'ic:assignment:1',
    'ic',
    [
      { contract: spy, qty: 200, mid: 436.1 },
      { contract: opt('C', 460), qty: -2, mid: 0.01 },
      { contract: opt('P', 435), qty: 2, mid: 2.055 },
      { contract: opt('C', 465), qty: 2, mid: 0.01 },
    ],
    [
      { ref: 'stk', contract: spy, qty: -200, price: 436.09, midAtSend: 436.1 },
      { ref: 'call', contract: opt('C', 460), qty: 2, price: 0.02, midAtSend: 0.01 },
      { ref: 'put', contract: opt('P', 435), qty: -1, price: 1.9, midAtSend: 1.95 },
      { ref: 'put', contract: opt('P', 435), qty: -1, price: 1.84, midAtSend: 1.95 },
    ],
  );
  assert.equal(c.markAtDetection, 87_220 - 2 + 411 + 2);
  assert.deepEqual(c.orders, [
    { ref: 'stk', realized: 87_218, slippage: 2, fills: 1 },
    { ref: 'call', realized: -4, slippage: 2, fills: 1 },
    { ref: 'put', realized: 374, slippage: 16, fills: 2 },
  ]);
  assert.equal(c.realized, 87_588);
  assert.equal(c.slippage, 20);
  assert.equal(c.commissions, null);
  // The 465 C wing was left to expire: it is in the mark, not in what the close is measured against.
  assert.equal(c.versusMark, 87_588 - (87_220 - 2 + 411));
});

test('an unknown mid makes the mark and the slippage unknown, never zero', () => {
  const c = incidentCost('i', 's', [{ contract: opt('P', 435), qty: 2, mid: null }], [{ ref: 'r', contract: opt('P', 435), qty: -2, price: 1, midAtSend: null }]);
  assert.equal(c.markAtDetection, null);
  assert.equal(c.slippage, null);
  assert.equal(c.versusMark, null);
  assert.equal(c.realized, 200);
});
