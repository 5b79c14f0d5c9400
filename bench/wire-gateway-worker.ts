// The wire bench's gateway thread: the TWS-protocol gateway in front of a simulator holding the put spreads, on a
// worker of its own, so what it reads and writes is timed on its own event loop (a commit that blocks the guard's
// thread does not hold back the gateway's reading of an order already on the socket, as it would not hold back TWS).
// Times are this thread's performance.now(); a wire figure is the difference of two of them.
import { parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { SimBroker } from '../src/adapters/sim/sim-broker.js';
import { SimMarket } from '../src/adapters/sim/sim-market.js';
import { simBackend } from '../src/adapters/tws-sim/sim-backend.js';
import { ClientMsg, ServerMsg } from '../src/adapters/tws-sim/message-ids.js';
import { TwsGateway } from '../src/adapters/tws-sim/tws-gateway.js';
import type { OptionContract } from '../src/core/contract.js';
import { LegguardError } from '../src/core/errors.js';
import { EpochMs } from '../src/core/quantity.js';
import { MessageWindow } from './message-window.js';
import { ACCOUNT, GUARD_CLIENT, MorningClock, spreads, START, SYMBOLS } from './wire-world.js';

/** What the bench asks this thread; each answered with the same `id`. */
export type GatewayAsk =
  | { readonly id: number; readonly kind: 'assign'; readonly contract: OptionContract }
  | { readonly id: number; readonly kind: 'room'; readonly need: number; readonly limit: number }
  | { readonly id: number; readonly kind: 'count' }
  | { readonly id: number; readonly kind: 'stop' };

/** The answers: `assign` answers with the wire time once the first PLACE_ORDER after its POSITION write is read. */
export type GatewayAnswer =
  | { readonly kind: 'ready'; readonly port: number }
  | { readonly id: number; readonly kind: 'wire'; readonly ms: number }
  | { readonly id: number; readonly kind: 'room'; readonly waitMs: number }
  | { readonly id: number; readonly kind: 'count'; readonly n: number }
  | { readonly id: number; readonly kind: 'stopped' }
  | { readonly id: number; readonly kind: 'failed'; readonly message: string };

const port = parentPort;
if (port === null) throw new LegguardError('INTERNAL', 'wire-gateway-worker runs on a worker thread');
const { count, origin } = workerData as { count: number; origin: number };

// The guard's thread set its clock to START at `origin`: this one reads the same instant.
const clock = new MorningClock(EpochMs.unsafe(START + (performance.timeOrigin + performance.now() - origin)));
const market = new SimMarket(clock, SYMBOLS.map((symbol) => ({ symbol, price: 436, volatility: 0.18 })));
const sim = new SimBroker({ account: ACCOUNT, clock, market, name: 'bench' });
for (const d of spreads(count)) for (const l of d.legs) sim.setPosition(l.contract, sim.position(l.contract) + l.qty);

const guardMessages = new MessageWindow(1000);
let guardCount = 0;
/** The assignment being timed: its id, and when its first POSITION went out. */
let lap: { id: number; from: number | null } | null = null;
const gateway = new TwsGateway({
  backend: simBackend(sim),
  trace: (dir, msgId, perf, clientId) => {
    if (dir === 'in' && clientId === GUARD_CLIENT) {
      guardMessages.add(perf);
      guardCount++;
    }
    if (lap === null) return;
    if (dir === 'out' && msgId === ServerMsg.POSITION && lap.from === null) lap.from = perf;
    else if (dir === 'in' && msgId === ClientMsg.PLACE_ORDER && lap.from !== null) {
      const answer: GatewayAnswer = { id: lap.id, kind: 'wire', ms: perf - lap.from };
      lap = null;
      port.postMessage(answer);
    }
  },
});
const { port: tcpPort } = await gateway.start();

port.on('message', (ask: GatewayAsk) => {
  const reply = (a: GatewayAnswer): void => port.postMessage(a);
  try {
    switch (ask.kind) {
      case 'assign':
        lap = { id: ask.id, from: null };
        sim.postAssignment(ask.contract, 1);
        return;
      case 'room': {
        const now = performance.now();
        reply({ id: ask.id, kind: 'room', waitMs: guardMessages.roomAt(now, ask.need, ask.limit) - now });
        return;
      }
      case 'count':
        reply({ id: ask.id, kind: 'count', n: guardCount });
        return;
      case 'stop':
        void gateway
          .stop()
          .then(() => sim.disconnect())
          .then(() => reply({ id: ask.id, kind: 'stopped' }));
        return;
    }
  } catch (e) {
    reply({ id: ask.id, kind: 'failed', message: e instanceof Error ? e.message : String(e) });
  }
});
port.postMessage({ kind: 'ready', port: tcpPort } satisfies GatewayAnswer);
