import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EventName } from '@stoqey/ib';
import { option, stock } from '../../src/core/contract.js';
import { VirtualClock } from '../../src/adapters/clock/virtual-clock.js';
import { NightlyReset, windowAt } from '../../src/adapters/tws-sim/nightly-reset.js';
import { OutgoingShaper } from '../../src/adapters/tws-sim/outgoing-shaper.js';
import { MemoryBroker, t0 } from './memory-broker.js';
import { OffsetClock, RawClient, startGateway, TestClient, type RunningGateway } from './harness.js';

const ACCT = 'DU0000001';
const spy = stock('SPY');
const put440 = option({ symbol: 'SPY', right: 'P', strike: 440, expiry: '2026-01-30' });
const iso = (t: number): string => new Date(t).toISOString();

describe('fault injection: shaping', () => {
  test('delay keeps order; duplicates and reorders are seeded and every frame still goes out whole', async () => {
    const clock = new VirtualClock(t0);
    const out: string[] = [];
    const s = new OutgoingShaper(clock, (f) => out.push(f.toString('latin1', 4, 5)));
    s.set({ delayMs: 100 });
    for (const x of 'abc') s.push(Buffer.from(`\0\0\0\x02${x}\0`, 'latin1'));
    assert.deepEqual(out, []);
    await clock.advanceTo(t0 + 100);
    assert.deepEqual(out, ['a', 'b', 'c']);

    const run = (seed: number): string[] => {
      const got: string[] = [];
      const sh = new OutgoingShaper(clock, (f) => got.push(f.toString('latin1', 4, 5)));
      sh.set({ duplicateRate: 0.5, reorderWindow: 4, seed });
      for (const x of 'abcdefgh') sh.push(Buffer.from(`\0\0\0\x02${x}\0`, 'latin1'));
      sh.flush();
      return got;
    };
    const a = run(7);
    assert.deepEqual(run(7), a, 'same seed, same faults');
    assert.ok(a.length > 8, 'some messages duplicated');
    assert.deepEqual([...new Set(a)].sort(), [...'abcdefgh'], 'nothing lost');
    assert.notDeepEqual(a.filter((x, i) => a.indexOf(x) === i), [...'abcdefgh'], 'some reordered');
    assert.throws(() => new OutgoingShaper(clock, () => undefined).set({ duplicateRate: 2 }), /duplicateRate must be between 0 and 1/);
  });
});

describe('fault injection: nightly reset window', () => {
  test('the window containing a time, or the next one, in New York time across midnight', () => {
    const w = { start: '23:45', minutes: 60, mode: 'drop' } as const;
    const at = (s: string): string => {
      const r = windowAt(Date.parse(s), w);
      return `${iso(r.start)} ${iso(r.end)}`;
    };
    assert.equal(at('2026-01-28T12:00:00-05:00'), '2026-01-29T04:45:00.000Z 2026-01-29T05:45:00.000Z');
    assert.equal(at('2026-01-29T00:30:00-05:00'), '2026-01-29T04:45:00.000Z 2026-01-29T05:45:00.000Z', 'inside, after midnight');
    assert.equal(at('2026-07-01T23:50:00-04:00'), '2026-07-02T03:45:00.000Z 2026-07-02T04:45:00.000Z', 'summer time');
    assert.throws(() => windowAt(0, { start: '25:00', minutes: 5, mode: 'drop' }), /HH:MM/);
  });

  test('enter and exit run at the window edges, every day', async () => {
    const clock = new VirtualClock(Date.parse('2026-01-28T23:00:00-05:00'));
    const seen: string[] = [];
    const r = new NightlyReset(clock, { start: '23:45', minutes: 60, mode: 'notice' }, {
      enter: () => seen.push(`enter ${iso(clock.now())}`),
      exit: () => seen.push(`exit ${iso(clock.now())}`),
    });
    r.start();
    await clock.advanceTo(Date.parse('2026-01-30T06:00:00Z'));
    r.stop();
    assert.deepEqual(seen, [
      'enter 2026-01-29T04:45:00.000Z',
      'exit 2026-01-29T05:45:00.000Z',
      'enter 2026-01-30T04:45:00.000Z',
      'exit 2026-01-30T05:45:00.000Z',
    ]);
  });

  test('drop mode on the gateway: connections closed and refused inside the window, accepted after', async () => {
    const clock = new VirtualClock(Date.parse('2026-01-28T23:44:00-05:00'));
    const broker = new MemoryBroker(ACCT, clock);
    const rg = await startGateway(broker.backend());
    try {
      rg.gw.setNightlyReset({ start: '23:45', minutes: 30, mode: 'drop' });
      const c = await TestClient.connect(rg.port, 1);
      await clock.advanceTo(Date.parse('2026-01-28T23:46:00-05:00'));
      await c.waitFor(EventName.disconnected);
      const refused = await RawClient.connect(rg.port);
      await refused.closed;
      await clock.advanceTo(Date.parse('2026-01-29T00:16:00-05:00'));
      const again = await TestClient.connect(rg.port, 1);
      again.close();
      c.close();
      assert.ok(rg.log.some((l) => /refused a connection/.test(l)));
    } finally {
      await rg.gw.stop();
    }
  });
});

describe('fault injection: on a live client', () => {
  let broker: MemoryBroker;
  let rg: RunningGateway;
  let c: TestClient;

  beforeEach(async () => {
    broker = new MemoryBroker(ACCT, new OffsetClock(t0));
    broker.setUnderlying('SPY', 445);
    broker.setPosition(put440, -2, 150);
    rg = await startGateway(broker.backend());
    c = await TestClient.connect(rg.port, 3);
    c.ib.reqPositions();
    await c.waitFor(EventName.positionEnd);
  });

  afterEach(async () => {
    const failures = c.decodeFailures();
    c.close();
    await rg.gw.stop();
    assert.deepEqual(failures, []);
  });

  test('drop: the client sees the connection close', async () => {
    rg.gw.dropConnections();
    await c.waitFor(EventName.disconnected);
    assert.deepEqual(rg.gw.sessionsInfo(), []);
  });

  test('1100 holds messages; 1102 delivers them; 1101 drops them and the subscriptions', async () => {
    let m = c.mark();
    rg.gw.notice(1100);
    await c.waitFor(EventName.info, (a) => a[1] === 1100, m);
    broker.setPosition(spy, 200, 440);
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(c.all(EventName.position, m).length, 0, 'held while the link is down');
    rg.gw.notice(1102);
    await c.waitFor(EventName.position, (a) => a[2] === 200, m);

    m = c.mark();
    rg.gw.notice(1100);
    broker.setPosition(spy, 300, 440);
    rg.gw.notice(1101);
    await c.waitFor(EventName.info, (a) => a[1] === 1101, m);
    broker.setPosition(spy, 400, 440);
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(c.all(EventName.position, m).length, 0, 'lost, and the subscription with them: the client must ask again');
    c.ib.reqPositions();
    await c.waitFor(EventName.positionEnd, () => true, m);
    assert.ok(c.all(EventName.position, m).some((a) => a[2] === 400));
  });

  test('the backend losing its link shows as 1100, and coming back as 1101/1102', async () => {
    const m = c.mark();
    broker.setConnected(false);
    broker.setConnected(true, true);
    await c.waitFor(EventName.info, (a) => a[1] === 1101, m);
    assert.deepEqual(c.all(EventName.info, m).map((a) => a[1]), [1100, 1101]);
  });

  test('duplicated and reordered messages still decode; every position arrives', async () => {
    rg.gw.shapeOutgoing({ duplicateRate: 0.5, reorderWindow: 3, delayMs: 2, seed: 11 });
    const m = c.mark();
    for (let i = 1; i <= 6; i++) broker.setPosition(spy, i * 100, 440);
    await new Promise((r) => setImmediate(r));
    // Switching shaping off sends the reorder window; what is still delayed goes out ahead of anything sent later,
    // so the answer to a request made now marks the end of the shaped traffic.
    rg.gw.shapeOutgoing(null);
    const marker = c.mark();
    c.ib.reqCurrentTime();
    await c.waitFor(EventName.currentTime, () => true, marker);
    const qty = c.all(EventName.position, m).map((a) => a[2] as number);
    assert.deepEqual([...new Set(qty)].sort((a, b) => a - b), [100, 200, 300, 400, 500, 600]);
    assert.ok(qty.length > 6, 'duplicates arrived');
  });
});
