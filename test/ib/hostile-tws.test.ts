// A hostile TWS: the real sim gateway behind a proxy that writes what no TWS writes into the stream the IB adapter
// reads, with the real guard engine on top, all in process over loopback. After each kind of hostile input the guard
// is up, has placed no order because of it, never took the bad position into its book, and still closes a real
// assignment that follows (an order crosses the wire). Waits are on conditions, bounded generously; nothing asserts
// how long anything took.
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { SystemClock } from '../../src/adapters/clock/system-clock.js';
import { IbBroker } from '../../src/adapters/ib/ib-broker.js';
import { parseScenario } from '../../src/adapters/sim/load-scenario.js';
import { ScenarioRun } from '../../src/adapters/sim/scenario-run.js';
import { MemoryStore } from '../../src/adapters/store/memory-store.js';
import { simBackend } from '../../src/adapters/tws-sim/sim-backend.js';
import { TwsGateway } from '../../src/adapters/tws-sim/tws-gateway.js';
import { parseGuardConfig } from '../../src/app/guard-config-schema.js';
import { CollectingAlerts, guardStrategies } from '../../src/app/replay.js';
import { option } from '../../src/core/contract.js';
import { LegguardError } from '../../src/core/errors.js';
import type { BrokerEvent } from '../../src/core/events.js';
import { GuardEngine } from '../../src/engine/guard-engine.js';
import type { TimelineEntry } from '../../src/engine/timeline.js';
import { HostileTws, OutId } from '../support/hostile-tws.js';
import { mulberry32 } from '../../src/adapters/sim/seeded-random.js';

const ACCT = 'DU0000001';
const SCENARIO = `name: hostile tws
start: "2026-01-28T10:30:00-05:00"
account: ${ACCT}
underlyings: { SPY: { price: 436.10, volatility: 0.18 } }
strategies:
  - id: ic
    legs:
      - { symbol: SPY, right: P, strike: 440, expiry: "2026-02-20", qty: -2 }
      - { symbol: SPY, right: P, strike: 430, expiry: "2026-02-20", qty: 2 }
      - { symbol: SPY, right: C, strike: 450, expiry: "2026-02-20", qty: -2 }
      - { symbol: SPY, right: C, strike: 455, expiry: "2026-02-20", qty: 2 }
guard: { onAssignment: close, timeExitDte: 1 }
until: "2026-01-28T16:00:00-05:00"
`;
const put440 = option({ symbol: 'SPY', right: 'P', strike: 440, expiry: '2026-02-20' });

/** The short put as a POSITION / EXECUTION_DATA contract head writes it (conId .. tradingClass). */
const PUT440 = ['0', 'SPY', 'OPT', '20260220', '440', 'P', '100', 'SMART', 'USD', 'SPY   260220P00440000', 'SPY'];

/** POSITION (61, version 3): account, contract, quantity, average cost. */
function position(qty: string, o: { account?: string; contract?: string[] } = {}): string[] {
  return ['61', '3', o.account ?? ACCT, ...(o.contract ?? PUT440), qty, '1.25'];
}

/** EXECUTION_DATA (11) at server version 193, live (reqId -1), not an order of this client's. */
function execution(o: { shares?: string; price?: string; account?: string; side?: string; contract?: string[] } = {}): string[] {
  const shares = o.shares ?? '2';
  const price = o.price ?? '1.25';
  return [
    '11', '-1', '0', ...(o.contract ?? PUT440), '0000e1f2.hostile.01.01', '20260128 10:31:00 US/Eastern', o.account ?? ACCT, 'SMART',
    o.side ?? 'BOT', shares, price, '0', '0', '0', shares, price, '', '', '', '', '0', '0',
  ];
}

interface Guard {
  readonly run: ScenarioRun;
  readonly gw: TwsGateway;
  readonly tws: HostileTws;
  readonly ib: IbBroker;
  readonly engine: GuardEngine;
  readonly events: BrokerEvent[];
  readonly timeline: TimelineEntry[];
  readonly engineErrors: string[];
  readonly log: string[];
  stop(): Promise<void>;
}

/** The sim gateway, the hostile proxy in front of it, the IB adapter through the proxy and the engine on top. */
async function guard(): Promise<Guard> {
  const scenario = parseScenario(SCENARIO, 'hostile.yaml');
  const run = new ScenarioRun(scenario);
  const gw = new TwsGateway({ backend: simBackend(run.broker) });
  const { port } = await gw.start();
  const tws = await HostileTws.start(port);
  const log: string[] = [];
  const ib = new IbBroker({
    host: '127.0.0.1',
    port: tws.port,
    clientId: 17,
    account: scenario.account,
    clock: new SystemClock(),
    eventClock: run.clock,
    backoff: { initialMs: 10, maxMs: 100 },
    log: (l) => log.push(l),
  });
  const events: BrokerEvent[] = [];
  ib.subscribe((e) => events.push(e));
  const store = new MemoryStore();
  await store.init();
  await guardStrategies(store, scenario.strategies, scenario.start);
  const engineErrors: string[] = [];
  const engine = new GuardEngine({
    account: scenario.account,
    broker: ib,
    store,
    alerts: new CollectingAlerts(),
    clock: run.clock,
    config: parseGuardConfig(scenario.guard, scenario.file),
    log: (level, message) => {
      if (level === 'error') engineErrors.push(message);
    },
  });
  const timeline: TimelineEntry[] = [];
  engine.onTimeline((e) => timeline.push(e));
  await ib.connect();
  await engine.start();
  await engine.idle();
  return {
    run,
    gw,
    tws,
    ib,
    engine,
    events,
    timeline,
    engineErrors,
    log,
    stop: async () => {
      await engine.stop();
      await ib.disconnect();
      await tws.stop();
      await gw.stop();
    },
  };
}

async function until(what: string, cond: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`not reached in ${ms / 1000} s: ${what}`);
    await sleep(5);
  }
}

/**
 * Everything injected so far has been read: a current time asked after it is answered (TWS answers in order, behind
 * what was already written). When the hostile input cost the connection, waits for the new one and asks again.
 */
async function caughtUp(g: Guard): Promise<void> {
  for (let i = 0; i < 50; i++) {
    await until('the adapter connected', () => g.ib.isConnected());
    try {
      await g.ib.currentTime();
      await g.engine.idle();
      return;
    } catch (e) {
      if (!LegguardError.is(e, 'BROKER_DISCONNECTED')) throw e;
    }
  }
  throw new Error('the connection never held long enough to answer the time');
}

/** The guard survived the hostile input untouched, then closes a real assignment. */
async function survivesAndCloses(g: Guard, what: string): Promise<void> {
  await caughtUp(g);
  assert.equal(g.engine.failure, null, `${what}: the engine is running`);
  assert.deepEqual(g.engineErrors, [], `${what}: no engine step failed`);
  assert.equal(g.tws.count(OutId.PLACE_ORDER), 0, `${what}: no order was placed because of it`);
  assert.deepEqual(g.timeline.filter((e) => e.kind === 'detection'), [], `${what}: nothing was detected`);
  for (const e of g.events) {
    if (e.kind === 'position') assert.ok(Number.isSafeInteger(e.qty), `${what}: a position of ${e.qty} reached the engine`);
    if (e.kind === 'execution') assert.ok(Number.isSafeInteger(e.qty) && e.qty > 0 && Number.isFinite(e.price), `${what}: an execution of ${e.qty} @ ${e.price} reached the engine`);
  }
  assert.ok(
    g.events.filter((e) => e.kind === 'position' && e.contract.secType === 'OPT' && e.contract.strike === 440).every((e) => e.kind === 'position' && e.qty === -2),
    `${what}: the short put was never reported at anything but -2`,
  );
  // The real thing: both short puts assigned at the broker.
  g.run.broker.postAssignment(put440, 2);
  // Scenario time moves on a second per look (the sim posts its events, and the engine its steps, on that clock).
  const end = Date.now() + 30_000;
  while (g.tws.count(OutId.PLACE_ORDER) === 0) {
    if (Date.now() > end) throw new Error(`${what}: the assignment that followed was not closed (no order placed)`);
    await g.run.clock.advanceTo(g.run.clock.now() + 1000, () => g.engine.idle());
    await sleep(5);
  }
  assert.ok(g.timeline.some((e) => e.kind === 'detection'), `${what}: the assignment was detected`);
  assert.equal(g.engine.failure, null);
}

interface Case {
  readonly name: string;
  /** What the hostile TWS does to the guard's connection. */
  readonly act: (t: HostileTws) => void;
  /** The connection is dropped and made again because of it. */
  readonly reconnects?: boolean;
  /** A drop warning naming this message and field is said. */
  readonly dropped?: RegExp;
}

function lengthPrefix(n: number, body: Buffer = Buffer.from('61\0', 'latin1')): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(n >>> 0, 0);
  return Buffer.concat([b, body]);
}

const CASES: Case[] = [
  { name: 'an unknown message id', act: (t) => t.injectFrame(['999', '1', 'x', 'y']) },
  { name: 'POSITION with too few fields', act: (t) => t.injectFrame(['61', '3', ACCT]), reconnects: true },
  { name: 'POSITION with too many fields', act: (t) => t.injectFrame([...position('0'), 'extra', 'more']), reconnects: true },
  { name: 'POSITION with a word for a strike (quantity 0)', act: (t) => t.injectFrame(position('0', { contract: ['0', 'SPY', 'OPT', '20260220', 'abc', 'P', '100', 'SMART', 'USD', '', 'SPY'] })), dropped: /position message from TWS: contract\.strike/ },
  { name: 'POSITION with a negative strike', act: (t) => t.injectFrame(position('0', { contract: ['0', 'SPY', 'OPT', '20260220', '-440', 'P', '100', 'SMART', 'USD', '', 'SPY'] })), dropped: /contract\.strike/ },
  { name: 'POSITION with an unknown right', act: (t) => t.injectFrame(position('0', { contract: ['0', 'SPY', 'OPT', '20260220', '440', 'X', '100', 'SMART', 'USD', '', 'SPY'] })), dropped: /contract\.right/ },
  { name: 'POSITION quantity nan', act: (t) => t.injectFrame(position('nan')), dropped: /position message from TWS: pos/ },
  { name: 'POSITION quantity abc', act: (t) => t.injectFrame(position('abc')), dropped: /position message from TWS: pos/ },
  { name: 'POSITION quantity 1e309', act: (t) => t.injectFrame(position('1e309')) },
  { name: 'POSITION quantity Infinity', act: (t) => t.injectFrame(position('-Infinity')) },
  { name: 'POSITION quantity huge', act: (t) => t.injectFrame(position('-123456789012345')), dropped: /pos is out of range/ },
  { name: 'POSITION of half a contract', act: (t) => t.injectFrame(position('-1.5')), dropped: /whole number of contracts/ },
  { name: 'POSITION of an account not guarded (quantity 0)', act: (t) => t.injectFrame(position('0', { account: 'DU9999999' })) },
  { name: 'EXECUTION_DATA shares nan', act: (t) => t.injectFrame(execution({ shares: 'nan' })), dropped: /execDetails message from TWS: shares/ },
  { name: 'EXECUTION_DATA shares 1e309', act: (t) => t.injectFrame(execution({ shares: '1e309' })), dropped: /execDetails message from TWS: shares/ },
  { name: 'EXECUTION_DATA shares abc', act: (t) => t.injectFrame(execution({ shares: 'abc' })), dropped: /shares/ },
  { name: 'EXECUTION_DATA shares -2', act: (t) => t.injectFrame(execution({ shares: '-2' })), dropped: /shares/ },
  { name: 'EXECUTION_DATA price Infinity', act: (t) => t.injectFrame(execution({ price: 'Infinity' })), dropped: /execDetails message from TWS: price/ },
  { name: 'EXECUTION_DATA side XYZ', act: (t) => t.injectFrame(execution({ side: 'XYZ' })), dropped: /execDetails message from TWS: side/ },
  { name: 'EXECUTION_DATA of an account not guarded', act: (t) => t.injectFrame(execution({ account: 'DU9999999' })) },
  { name: 'a negative count in id 97', act: (t) => t.injectFrame(['97', '1', '-1']), reconnects: true },
  { name: 'a negative count in id 96', act: (t) => t.injectFrame(['96', '1', '-1']), reconnects: true },
  { name: 'a negative count in id 98', act: (t) => t.injectFrame(['98', '1', '-1']), reconnects: true },
  { name: 'a length prefix of 0x7fffffff', act: (t) => t.inject(lengthPrefix(0x7fffffff)), reconnects: true },
  { name: 'a length prefix that is negative as a signed int', act: (t) => t.inject(lengthPrefix(0xfffffffc)), reconnects: true },
  { name: 'a length prefix of 0', act: (t) => t.inject(lengthPrefix(0, Buffer.alloc(0))), reconnects: true },
  { name: 'a frame whose last field has no NUL', act: (t) => t.inject(lengthPrefix(6, Buffer.from('61\0abc', 'latin1'))), reconnects: true },
  { name: 'the connection dropped mid-frame', act: (t) => t.cutMidFrame(position('0'), 12), reconnects: true },
];

describe('a hostile TWS: the guard stays up, places nothing because of it, and still closes a real assignment', () => {
  let g: Guard | null = null;
  afterEach(async () => {
    await g?.stop();
    g = null;
  });

  for (const c of CASES) {
    test(c.name, async () => {
      g = await guard();
      const connections = g.tws.accepted;
      const connects = g.events.filter((e) => e.kind === 'connection' && e.state === 'connected').length;
      c.act(g.tws);
      await caughtUp(g);
      if (c.reconnects) {
        assert.ok(g.tws.accepted > connections, 'the connection was made again');
        assert.ok(g.events.filter((e) => e.kind === 'connection' && e.state === 'connected').length > connects, 'the engine was told to reconcile');
      } else assert.equal(g.tws.accepted, connections, 'the connection held');
      if (c.dropped) assert.ok(g.log.some((l) => c.dropped!.test(l)), `a drop warning: ${g.log.filter((l) => /dropped/.test(l)).join(' | ') || 'none'}`);
      await survivesAndCloses(g, c.name);
    });
  }

  test('a thousand random frames (seeded): the guard stays up and closes the assignment that follows', async () => {
    g = await guard();
    const rnd = mulberry32(20261205);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
    const tokens = ['', '0', '1', '-1', '2', '3', '-2', 'nan', 'NaN', 'abc', '1e309', '-1e309', 'Infinity', '2147483647', '-2147483648', '99999999999', '0.5', ACCT, 'DU9999999', 'SPY', 'OPT', 'STK', 'BAG', 'P', 'C', '440', '20260220', 'SMART', 'USD', 'BOT', 'SLD', '1.7976931348623157E308'];
    // Ids TWS uses, and some it does not; 4 (ERR_MSG) is left out: a 1100 with no 1102 after it is a TWS that says it
    // lost IB for good, and the guard then rightly places nothing.
    const ids = [1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 17, 18, 19, 21, 45, 46, 49, 50, 52, 53, 55, 56, 57, 58, 59, 61, 62, 63, 64, 67, 75, 79, 80, 81, 96, 97, 98, 99, 102, 105, 0, 250, -3];
    for (let i = 0; i < 1000; i++) {
      const r = rnd();
      if (r < 0.1) {
        // Raw bytes, framed: anything at all in the payload, NUL-terminated.
        const body = Buffer.from(Array.from({ length: 1 + Math.floor(rnd() * 40) }, () => Math.floor(rnd() * 256)));
        body[body.length - 1] = 0;
        g.tws.inject(lengthPrefix(body.length, body));
      } else {
        const fields = [String(pick(ids)), ...Array.from({ length: Math.floor(rnd() * 30) }, () => (rnd() < 0.1 ? String(Math.floor(rnd() * 1e6)) : pick(tokens)))];
        g.tws.injectFrame(fields);
      }
      if (i % 100 === 99) await caughtUp(g);
    }
    await survivesAndCloses(g, 'random frames');
  });
});
