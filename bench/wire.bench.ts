// Wire latency between the TWS-protocol gateway and the IB adapter, over loopback, in real time (performance.now):
//  - the gateway writing a position change -> the adapter's PositionReport reaching its listener (one way);
//  - the gateway writing a position change -> the gateway reading the first closing order (PLACE_ORDER) back, with a
//    reflex client standing in for the guard engine (it places the closing order the moment the report arrives; the
//    engine's detection and planning are not in this figure);
//  - a bare TCP round trip on loopback measured in the same run, for scale.
// The guard engine's figure (position change -> its first closing order on the wire) replaces the reflex once the
// engine can be wired to a broker here.
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { SystemClock } from '../src/adapters/clock/system-clock.js';
import { IbBroker } from '../src/adapters/ib/ib-broker.js';
import { SimBroker } from '../src/adapters/sim/sim-broker.js';
import { SimMarket } from '../src/adapters/sim/sim-market.js';
import { simBackend } from '../src/adapters/tws-sim/sim-backend.js';
import { ServerMsg, ClientMsg } from '../src/adapters/tws-sim/message-ids.js';
import { TwsGateway } from '../src/adapters/tws-sim/tws-gateway.js';
import { stock } from '../src/core/contract.js';
import type { PositionReport } from '../src/core/events.js';
import { AccountId, IncidentId, OrderRef, StrategyId } from '../src/core/ids.js';
import { Price, Qty } from '../src/core/quantity.js';
import { summarize, type BenchRow } from './bench-row.js';

const RUNS = 400;
const WARMUP = 30;
const ACCOUNT = AccountId.unsafe('DU0000001');
const SPY = stock('SPY');

async function loopbackRoundTrips(n: number): Promise<number[]> {
  const server: Server = createServer((s) => {
    s.setNoDelay(true);
    s.on('data', (d) => s.write(d));
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', () => res()));
  const port = (server.address() as { port: number }).port;
  const sock: Socket = createConnection({ host: '127.0.0.1', port });
  sock.setNoDelay(true);
  await new Promise<void>((res) => sock.once('connect', () => res()));
  const out: number[] = [];
  const payload = Buffer.alloc(64, 0x41);
  for (let i = 0; i < n + WARMUP; i++) {
    const t0 = performance.now();
    await new Promise<void>((res) => {
      sock.once('data', () => res());
      sock.write(payload);
    });
    if (i >= WARMUP) out.push(performance.now() - t0);
  }
  sock.destroy();
  await new Promise<void>((res) => server.close(() => res()));
  return out;
}

export async function run(): Promise<readonly BenchRow[]> {
  const clock = new SystemClock();
  const market = new SimMarket(clock, [{ symbol: 'SPY', price: 445, volatility: 0.18 }]);
  const sim = new SimBroker({ account: ACCOUNT, clock, market, name: 'bench' });
  let positionWritten = 0;
  let orderRead = 0;
  let onOrderRead: (() => void) | null = null;
  const gateway = new TwsGateway({
    backend: simBackend(sim),
    trace: (dir, msgId, perf) => {
      if (dir === 'out' && msgId === ServerMsg.POSITION) positionWritten = perf;
      if (dir === 'in' && msgId === ClientMsg.PLACE_ORDER) {
        orderRead = perf;
        onOrderRead?.();
      }
    },
  });
  const { port } = await gateway.start();
  const ib = new IbBroker({ host: '127.0.0.1', port, clientId: 1, account: ACCOUNT, clock, maxMessagesPerSecond: 10_000 });
  await ib.connect();

  const oneWay: number[] = [];
  const toOrder: number[] = [];
  let reflex = false;
  let seq = 0;
  let onReport: ((p: PositionReport, at: number) => void) | null = null;
  ib.subscribe((e) => {
    if (e.kind !== 'position' || e.contract.secType !== 'STK') return;
    const at = performance.now();
    onReport?.(e, at);
    if (!reflex) return;
    // The reflex: close what appeared, at once (no detection, no plan, no store): the wire path alone.
    seq++;
    void ib.placeOrder({
      ref: OrderRef.unsafe(`lg/bench/inc-${seq}/g0/1`),
      strategyId: StrategyId.unsafe('bench'),
      incidentId: IncidentId.unsafe(`inc-${seq}`),
      account: ACCOUNT,
      legs: [{ contract: SPY, action: e.qty > 0 ? 'SELL' : 'BUY', ratio: 1 }],
      quantity: Qty.unsafe(Math.max(1, Math.abs(e.qty))),
      orderType: 'LMT',
      limitPrice: Price.unsafe(445),
      outsideRth: true,
      purpose: 'emergency',
      tier: 1,
    });
  });

  // One way: the adapter hears each position change.
  for (let i = 0; i < RUNS + WARMUP; i++) {
    const heard = new Promise<number>((res) => (onReport = (_p, at) => res(at)));
    sim.setPosition(SPY, 100 + (i % 2) * 100);
    const at = await heard;
    if (i >= WARMUP) oneWay.push(at - positionWritten);
  }
  onReport = null;

  // Position change to the first closing order back on the wire.
  reflex = true;
  for (let i = 0; i < RUNS + WARMUP; i++) {
    const back = new Promise<void>((res) => (onOrderRead = res));
    sim.setPosition(SPY, 100 + (i % 2) * 100);
    await back;
    if (i >= WARMUP) toOrder.push(orderRead - positionWritten);
  }
  onOrderRead = null;
  reflex = false;
  await ib.disconnect();
  await gateway.stop();
  await sim.disconnect();

  const rtt = await loopbackRoundTrips(RUNS);
  return [
    { area: 'wire', name: 'position write -> adapter PositionReport (IBApi decode, loopback)', unit: 'ms', ...summarize(oneWay) },
    {
      area: 'wire',
      name: 'position write -> first closing order read back (reflex client, no engine)',
      unit: 'ms',
      ...summarize(toOrder),
      note: 'the guard engine replaces the reflex for the full figure',
    },
    { area: 'wire', name: 'bare loopback TCP round trip, 64 bytes', unit: 'ms', ...summarize(rtt) },
  ];
}
