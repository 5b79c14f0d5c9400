// TWS answers every reqPositions with the whole list again, on the stream that carries live updates. Each snapshot
// asks, so each snapshot used to put every position back on the event stream as a "live" report of the level when it
// was sent: queued behind a busy engine and overtaken by a later reconciliation, such an echo reported a short put at
// -2 again after its assignment had made it 0. The adapter now passes on changes only; the snapshot keeps every
// report.
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EpochMs } from '../../src/core/quantity.js';
import { t0 } from '../tws-sim/memory-broker.js';
import { put435, put440, rig, spy, type Rig } from './ib-harness.js';

describe('position reports from the IB adapter', () => {
  let r: Rig | null = null;
  afterEach(async () => {
    await r?.stop();
    r = null;
  });

  test('a snapshot lists every position but puts no unchanged level back on the event stream', async () => {
    r = await rig({
      setup: (b) => {
        b.setPosition(put440, -2, 150);
        b.setPosition(put435, 2, 60);
      },
    });
    await r.rec.waitFor('position', (p) => p.contract.secType === 'OPT' && p.contract.strike === 435);
    const m = r.rec.mark();
    for (let i = 0; i < 3; i++) {
      const snap = await r.ib.snapshot({ executionsSince: EpochMs.unsafe(t0) });
      assert.deepEqual(snap.positions.map((p) => p.qty).sort(), [-2, 2], `snapshot ${i} lists both positions`);
    }
    assert.deepEqual(r.rec.of('position', m), [], 'no echo of an unchanged position');

    // A change goes on, once, however many snapshots repeat it.
    r.broker.setPosition(put440, 0);
    r.broker.setPosition(spy, 200, 440);
    await r.rec.waitFor('position', (p) => p.contract.secType === 'STK', m);
    await r.ib.snapshot({ executionsSince: EpochMs.unsafe(t0) });
    await r.ib.snapshot({ executionsSince: EpochMs.unsafe(t0) });
    assert.deepEqual(
      r.rec.of('position', m).map((p) => [p.contract.secType, p.qty]),
      [['OPT', 0], ['STK', 200]],
      'each change once, in order',
    );
  });

  test('after a reconnect each position is reported once again (the engine reconciles from there)', async () => {
    r = await rig({ setup: (b) => b.setPosition(put440, -2, 150) });
    await r.rec.waitFor('position', (p) => p.qty === -2);
    const m = r.rec.mark();
    r.rg.gw.dropConnections();
    await r.rec.waitFor('connection', (c) => c.state === 'connected', m);
    const again = await r.rec.waitFor('position', (p) => p.contract.secType === 'OPT', m);
    assert.equal(again.qty, -2, 'the level as it stands after the reconnect');
    assert.equal(r.rec.of('position', m).length, 1, 'reported once');
  });
});
