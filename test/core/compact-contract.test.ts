import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compactContract, expandContract } from '../../src/core/compact-contract.js';
import { option, stock } from '../../src/core/contract.js';

const roundTrip = (x: unknown): unknown => expandContract(JSON.parse(JSON.stringify(compactContract(x))) as unknown);

test('an American physically settled USD option with multiplier 100 keeps only what names it, and reads back whole', () => {
  const c = option({ symbol: 'SPY', right: 'P', strike: 440, expiry: '2026-01-30' });
  assert.deepEqual(compactContract(c), { secType: 'OPT', symbol: 'SPY', right: 'P', strike: 440, expiry: '2026-01-30' });
  assert.deepEqual(roundTrip(c), c);
  assert.equal(JSON.stringify(roundTrip(c)), JSON.stringify(c), 'in the order option() gives');
});

test('fields away from the usual values are kept: an index option, a mini, another currency, a trading class', () => {
  const spxw = option({ symbol: 'SPX', right: 'C', strike: 5432.5, expiry: '2026-02-20', tradingClass: 'SPXW' });
  assert.deepEqual(compactContract(spxw), { secType: 'OPT', symbol: 'SPX', right: 'C', strike: 5432.5, expiry: '2026-02-20', style: 'european', settlement: 'cash', tradingClass: 'SPXW' });
  for (const c of [spxw, option({ symbol: 'AAPL', right: 'C', strike: 190, expiry: '2026-02-20', multiplier: 10 }), option({ symbol: 'SHOP', right: 'P', strike: 90, expiry: '2026-02-20', currency: 'CAD' }), stock('VOD', 'GBP')]) {
    assert.deepEqual(roundTrip(c), c);
  }
});

test('a stock in USD is its symbol', () => {
  assert.deepEqual(compactContract(stock('SPY')), { secType: 'STK', symbol: 'SPY' });
  assert.deepEqual(roundTrip(stock('SPY')), stock('SPY'));
});

test('what is not a contract of the known shape is written and read as it is', () => {
  const odd = { secType: 'OPT', symbol: 'SPY', right: 'P', strike: 440, expiry: '2026-01-30', multiplier: 100, style: 'american', settlement: 'physical', currency: 'USD', exchange: 'CBOE' };
  assert.equal(compactContract(odd), odd);
  assert.equal(expandContract(odd), odd);
  // As many fields as a contract, one of them unknown in place of one it must have.
  const swapped = { secType: 'OPT', symbol: 'SPY', right: 'P', strike: 440, exchange: 'CBOE', multiplier: 100, style: 'american', settlement: 'physical', currency: 'USD' };
  assert.equal(compactContract(swapped), swapped);
  const stockSwapped = { secType: 'STK', exchange: 'SMART', currency: 'USD' };
  assert.equal(compactContract(stockSwapped), stockSwapped);
  for (const x of [null, 7, 'SPY', [1], { secType: 'FUT', symbol: 'ES' }]) {
    assert.equal(compactContract(x), x);
    assert.equal(expandContract(x), x);
  }
});
