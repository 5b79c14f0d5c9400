import { AccountId } from '../../src/core/ids.js';
import type { BrokerEvent } from '../../src/core/events.js';
import type { Clock } from '../../src/ports/clock.js';
import { IbBroker, type IbBrokerOptions } from '../../src/adapters/ib/ib-broker.js';
import { option, stock } from '../../src/core/contract.js';
import { MemoryBroker, t0 } from '../tws-sim/memory-broker.js';
import { OffsetClock, startGateway, type RunningGateway } from '../tws-sim/harness.js';
import type { TwsGatewayOptions } from '../../src/adapters/tws-sim/tws-gateway.js';

export const ACCT = 'DU0000001';
export const spy = stock('SPY');
export const put440 = option({ symbol: 'SPY', right: 'P', strike: 440, expiry: '2026-01-30' });
export const put435 = option({ symbol: 'SPY', right: 'P', strike: 435, expiry: '2026-01-30' });
export const call460 = option({ symbol: 'SPY', right: 'C', strike: 460, expiry: '2026-01-30' });

/** Every event the adapter emitted, with waiting by predicate (a deadline for failure, never a timing assertion). */
export class Recorder {
  readonly events: BrokerEvent[] = [];
  private waiters: { pred: (e: BrokerEvent) => boolean; from: number; resolve: (e: BrokerEvent) => void }[] = [];

  readonly listener = (e: BrokerEvent): void => {
    this.events.push(e);
    const idx = this.events.length - 1;
    this.waiters = this.waiters.filter((w) => {
      if (idx >= w.from && w.pred(e)) {
        w.resolve(e);
        return false;
      }
      return true;
    });
  };

  mark(): number {
    return this.events.length;
  }

  of<K extends BrokerEvent['kind']>(kind: K, from = 0): Extract<BrokerEvent, { kind: K }>[] {
    return this.events.slice(from).filter((e): e is Extract<BrokerEvent, { kind: K }> => e.kind === kind);
  }

  waitFor<K extends BrokerEvent['kind']>(kind: K, pred: (e: Extract<BrokerEvent, { kind: K }>) => boolean = () => true, from = 0, ms = 5000): Promise<Extract<BrokerEvent, { kind: K }>> {
    const test = (e: BrokerEvent): boolean => e.kind === kind && pred(e as Extract<BrokerEvent, { kind: K }>);
    const hit = this.events.slice(from).find(test);
    if (hit) return Promise.resolve(hit as Extract<BrokerEvent, { kind: K }>);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${kind}; saw ${this.events.slice(from).map((e) => e.kind).join(', ')}`)), ms);
      this.waiters.push({
        pred: test,
        from,
        resolve: (e) => {
          clearTimeout(timer);
          resolve(e as Extract<BrokerEvent, { kind: K }>);
        },
      });
    });
  }
}

export interface Rig {
  readonly broker: MemoryBroker;
  readonly rg: RunningGateway;
  readonly ib: IbBroker;
  readonly rec: Recorder;
  readonly log: string[];
  stop(): Promise<void>;
}

/** A memory broker behind the sim gateway, and the IB adapter connected to it over loopback. */
export async function rig(
  opts: { clock?: Clock; ib?: Partial<IbBrokerOptions>; gateway?: Partial<TwsGatewayOptions>; setup?: (b: MemoryBroker) => void; connect?: boolean } = {},
): Promise<Rig> {
  const gwClock = new OffsetClock(t0);
  const broker = new MemoryBroker(ACCT, gwClock);
  broker.setUnderlying('SPY', 445.1, [{ exDate: '2026-03-20', amount: 1.74 }]);
  broker.setUnderlying('SPX', 5010);
  broker.setQuote(spy, 445.0, 445.02, 445.01);
  broker.setQuote(put440, 1.2, 1.3, 1.25, 445.01);
  broker.setQuote(put435, 0.6, 0.7, 0.65, 445.01);
  opts.setup?.(broker);
  const rg = await startGateway(broker.backend(['SPX']), opts.gateway);
  const log: string[] = [];
  const ib = new IbBroker({
    host: '127.0.0.1',
    port: rg.port,
    clientId: 17,
    account: AccountId.unsafe(ACCT),
    clock: opts.clock ?? new OffsetClock(t0),
    backoff: { initialMs: 20, maxMs: 200 },
    connectTimeoutMs: 3000,
    requestTimeoutMs: 3000,
    dividendWaitMs: 200,
    log: (l) => log.push(l),
    ...opts.ib,
  });
  const rec = new Recorder();
  ib.subscribe(rec.listener);
  if (opts.connect ?? true) await ib.connect();
  return {
    broker,
    rg,
    ib,
    rec,
    log,
    stop: async () => {
      await ib.disconnect();
      await rg.gw.stop();
    },
  };
}
