// The SimBroker behind the pacing the IB adapter applies at its socket (adapters/ib/ib-connection.ts: one
// PriorityPacer for every outgoing message, the order's tier as its priority), on the same virtual clock, so a
// benchmark sees orders leave at IB's rate and can count them per second where the socket would.
import { LegguardError } from '../src/core/errors.js';
import type { Clock } from '../src/ports/clock.js';
import type { BrokerPort } from '../src/ports/broker.js';
import { PriorityPacer } from '../src/lib/priority-pacer.js';

/** Priority of a cancel and of an exercise request in the IB adapter's pacer: before any order. */
const CANCEL_PRIORITY = -1;

export interface PacedBroker {
  readonly broker: BrokerPort;
  /** Virtual times at which each message left, in order. */
  readonly sentAt: number[];
  /** Resolves once a message has to wait for its slot (the engine is then blocked until the clock moves on). */
  waiting(): Promise<void>;
  /** The most messages sent in any window of 1,000 ms. */
  maxPerSecond(): number;
}

export function pacedBroker(inner: BrokerPort, clock: Clock, perSecond: number): PacedBroker {
  const pacer = new PriorityPacer(clock, perSecond);
  const sentAt: number[] = [];
  let wake: (() => void) | null = null;
  let wait: Promise<void> | null = null;
  const paced = async <T>(priority: number, call: () => Promise<T>): Promise<T> => {
    let result: Promise<T> | null = null;
    const turn = pacer.submit(priority, () => {
      sentAt.push(clock.now());
      result = call();
    });
    if (pacer.pending > 0) {
      wake?.();
      wake = null;
      wait = null;
    }
    await turn;
    if (result === null) throw new LegguardError('INTERNAL', 'paced call did not run');
    return result;
  };
  const broker: BrokerPort = new Proxy(inner, {
    get(target, p, receiver) {
      if (p === 'placeOrder') return (o: Parameters<BrokerPort['placeOrder']>[0]) => paced(o.tier, () => target.placeOrder(o));
      if (p === 'cancelOrder') return (id: Parameters<BrokerPort['cancelOrder']>[0]) => paced(CANCEL_PRIORITY, () => target.cancelOrder(id));
      if (p === 'exerciseOptions') return (r: Parameters<BrokerPort['exerciseOptions']>[0]) => paced(CANCEL_PRIORITY, () => target.exerciseOptions(r));
      const v: unknown = Reflect.get(target, p, receiver);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  return {
    broker,
    sentAt,
    waiting: () => {
      wait ??= new Promise<void>((resolve) => {
        wake = resolve;
      });
      return pacer.pending > 0 ? Promise.resolve() : wait;
    },
    maxPerSecond: () => {
      let best = 0;
      let lo = 0;
      for (let hi = 0; hi < sentAt.length; hi++) {
        while (sentAt[hi]! - sentAt[lo]! >= 1000) lo++;
        best = Math.max(best, hi - lo + 1);
      }
      return best;
    },
  };
}
