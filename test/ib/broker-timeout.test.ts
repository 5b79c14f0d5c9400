// A TWS that takes a request and never answers: the adapter fails it with BROKER_TIMEOUT (the connection is up, TWS is
// slow), not BROKER_DISCONNECTED (which makes the engine skip its reconciliation as if the broker were gone). The
// adapter runs on a virtual clock: the timeout is reached by moving that clock, not by waiting.
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { VirtualClock } from '../../src/adapters/clock/virtual-clock.js';
import { IbBroker } from '../../src/adapters/ib/ib-broker.js';
import { LegguardError } from '../../src/core/errors.js';
import { AccountId } from '../../src/core/ids.js';
import { HostileTws, OutId } from '../support/hostile-tws.js';
import { MemoryBroker, t0 } from '../tws-sim/memory-broker.js';
import { OffsetClock, startGateway, type RunningGateway } from '../tws-sim/harness.js';
import { ACCT, put440 } from './ib-harness.js';

const TIMEOUT_MS = 15_000;

interface Rig {
  readonly clock: VirtualClock;
  readonly ib: IbBroker;
  readonly tws: HostileTws;
  readonly rg: RunningGateway;
}

async function rig(swallow: number[]): Promise<Rig> {
  const broker = new MemoryBroker(ACCT, new OffsetClock(t0));
  broker.setUnderlying('SPY', 445.1);
  broker.setPosition(put440, -2, 150);
  const rg = await startGateway(broker.backend());
  const tws = await HostileTws.start(rg.port);
  for (const id of swallow) tws.swallow.add(id);
  const clock = new VirtualClock(t0);
  const ib = new IbBroker({ host: '127.0.0.1', port: tws.port, clientId: 17, account: AccountId.unsafe(ACCT), clock, requestTimeoutMs: TIMEOUT_MS });
  await ib.connect();
  return { clock, ib, tws, rg };
}

/** The end-of-list message TWS sends for each of a snapshot's requests. */
const END_OF: Record<number, number> = { [OutId.REQ_POSITIONS]: 62, [OutId.REQ_ALL_OPEN_ORDERS]: 53, [OutId.REQ_EXECUTIONS]: 55 };

async function until(what: string, ok: () => boolean): Promise<void> {
  const end = Date.now() + 30_000;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`never happened: ${what}`);
    await sleep(5);
  }
}

/**
 * Lets the swallowed request go out (the pacer runs on the virtual clock), waits until the snapshot's other requests
 * have been answered AND read by the adapter (a current-time round trip behind them on the same ordered stream), then
 * moves past the timeout: only the swallowed request can time out, however busy the machine is.
 */
async function pastTimeout(r: Rig, id: number): Promise<void> {
  await until(`request ${id} sent`, () => r.tws.count(id) > 0);
  if (id !== OutId.REQ_CURRENT_TIME) {
    for (const [req, end] of Object.entries(END_OF)) {
      if (Number(req) === id) continue;
      await until(`answer ${end} to request ${req} passed on`, () => r.tws.received.includes(end));
    }
    await r.ib.currentTime();
  }
  await r.clock.advanceTo(r.clock.now() + TIMEOUT_MS + 1);
}

function isTimeout(request: RegExp): (e: unknown) => boolean {
  return (e) => {
    assert.ok(LegguardError.is(e), String(e));
    assert.equal(e.code, 'BROKER_TIMEOUT', e.message);
    assert.match(e.message, request);
    return true;
  };
}

describe('IB adapter: a request TWS never answers is a timeout, not a disconnect', () => {
  let r: Rig | null = null;
  afterEach(async () => {
    await r?.ib.disconnect();
    await r?.tws.stop();
    await r?.rg.gw.stop();
    r = null;
  });

  for (const [name, id, what] of [
    ['reqPositions', OutId.REQ_POSITIONS, /reqPositions/],
    ['reqAllOpenOrders', OutId.REQ_ALL_OPEN_ORDERS, /reqAllOpenOrders/],
    ['reqExecutions', OutId.REQ_EXECUTIONS, /reqExecutions/],
  ] as const) {
    test(`a snapshot whose ${name} goes unanswered: BROKER_TIMEOUT, the connection still up`, async () => {
      r = await rig([id]);
      const snap = r.ib.snapshot({ executionsSince: null });
      const settled = snap.then(
        () => 'resolved',
        (e: unknown) => e,
      );
      await pastTimeout(r, id);
      const outcome = await settled;
      isTimeout(what)(outcome);
      assert.equal(r.ib.isConnected(), true, 'the connection is up: TWS was slow, not gone');
    });
  }

  test('reqCurrentTime unanswered: BROKER_TIMEOUT', async () => {
    r = await rig([OutId.REQ_CURRENT_TIME]);
    const t = r.ib.currentTime().then(
      () => 'resolved',
      (e: unknown) => e,
    );
    await pastTimeout(r, OutId.REQ_CURRENT_TIME);
    isTimeout(/current time/)(await t);
  });

  test('answered in time: no timeout', async () => {
    r = await rig([]);
    const snap = await r.ib.snapshot({ executionsSince: null });
    assert.deepEqual(snap.positions.map((p) => p.qty), [-2]);
  });
});
