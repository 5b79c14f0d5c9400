import type { BrokerReader } from '../../ports/broker.js';
import { IbBroker, type IbBrokerOptions } from './ib-broker.js';

/**
 * Interactive Brokers for a command that only reads (`legguard risk --config`). The `IbBroker` behind it is made
 * read-only (its order, cancel and exercise methods refuse before anything is sent) and is held in this closure
 * alone: the object returned has no method that could send one, and no way to reach the broker that has.
 *
 * @example
 *   const ib = ibReader({ host: '127.0.0.1', port: 7497, clientId: 1017, account, clock });
 *   await ib.connect();
 *   try { const positions = await ib.positions(); } finally { await ib.disconnect(); }
 */
export function ibReader(opts: Omit<IbBrokerOptions, 'readOnly'>): BrokerReader {
  const ib = new IbBroker({ ...opts, readOnly: true });
  return Object.freeze({
    name: ib.name,
    account: ib.account,
    connect: () => ib.connect(),
    disconnect: () => ib.disconnect(),
    currentTime: () => ib.currentTime(),
    // Executions since the broker's time now: none worth fetching; only the positions are read.
    positions: async () => {
      const t = await ib.currentTime();
      return (await ib.snapshot({ executionsSince: t })).positions;
    },
    quote: (c) => ib.quote(c),
    underlying: (s) => ib.underlying(s),
  } satisfies BrokerReader);
}
