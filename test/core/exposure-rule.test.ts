import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { compareExposure, exposureOf, stockToTrade } from '../../src/core/exposure.js';

describe('core/exposure: the planner\'s measure', () => {
  test('unbounded loss is net short upside; the loss per move is read from spot to any price', () => {
    // Short 100 XOM and a short 100 put, XOM at 127: a synthetic short call.
    assert.deepEqual(exposureOf(-100, [{ right: 'P', strike: 100, units: -100 }], 127), { unbounded: 100, perMove: 100 });
    // The put alone: bounded, worst at 0 (10,000 over a 127 move).
    const put = exposureOf(0, [{ right: 'P', strike: 100, units: -100 }], 127);
    assert.equal(put.unbounded, 0);
    assert.ok(Math.abs(put.perMove - 10_000 / 127) < 1e-9);
    // A covered call: nothing unbounded; the stock's full move on the way down.
    assert.deepEqual(exposureOf(100, [{ right: 'C', strike: 460, units: -100 }], 440), { unbounded: 0, perMove: 100 });
    // Without a spot only the unbounded part is known.
    assert.deepEqual(exposureOf(-100, [], null), { unbounded: 100, perMove: 0 });
    assert.ok(compareExposure({ unbounded: 1, perMove: 0 }, { unbounded: 0, perMove: 1e6 }) > 0, 'unbounded outranks any bounded loss');
  });

  test('how much stock may trade while the options wait', () => {
    assert.equal(stockToTrade(-100, [{ right: 'P', strike: 95, units: -100 }], 110), 100, 'short stock + short put: all');
    assert.equal(stockToTrade(150, [{ right: 'C', strike: 460, units: -100 }], 440), 50, 'the shares beyond the calls');
    assert.equal(stockToTrade(100, [{ right: 'C', strike: 460, units: -100 }], null), 0, 'no quote: the calls are still bounded');
    assert.equal(stockToTrade(-100, [{ right: 'C', strike: 400, units: 100 }], 440), 0, 'against a deep ITM long call: waits');
    assert.equal(stockToTrade(-100, [{ right: 'C', strike: 460, units: 100 }], 440), 100, 'against an OTM long call: goes');
    // The existing ex-dividend condor after one call: -100 SPY, -1 C460, +2 C465, SPY 473: near flat, waits.
    assert.equal(stockToTrade(-100, [{ right: 'C', strike: 460, units: -100 }, { right: 'C', strike: 465, units: 200 }], 473), 0);
  });
});
