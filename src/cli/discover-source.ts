import { IbBroker } from '../adapters/ib/ib-broker.js';
import { SystemClock } from '../adapters/clock/system-clock.js';
import type { Scenario } from '../adapters/sim/load-scenario.js';
import { ScenarioRun } from '../adapters/sim/scenario-run.js';
import type { LegguardConfig } from '../app/config.js';
import type { BrokerPort } from '../ports/broker.js';
import type { BrokerSnapshot } from '../core/broker-snapshot.js';

/** Opens the broker `strategies discover` reads (the live one by default; tests pass their own). */
export type OpenBroker = (config: LegguardConfig, log: (line: string) => void) => BrokerPort;

/** TWS / IB Gateway with the config's address and client id (the caller picks the id), real time. */
export const openIbBroker: OpenBroker = (config, log) => {
  const b = config.broker;
  return new IbBroker({
    host: b.host,
    port: b.port,
    clientId: b.clientId,
    account: config.account,
    clock: new SystemClock(),
    marketDataType: b.marketDataType,
    connectTimeoutMs: b.connectTimeoutSeconds * 1000,
    name: 'legguard strategies discover',
    log,
  });
};

/**
 * What the broker shows now: its positions and the executions it still reports (the day's, for IB), read-only. No
 * order is placed, nothing is subscribed beyond what a snapshot needs, and the connection is closed after.
 */
export async function brokerBook(broker: BrokerPort): Promise<BrokerSnapshot> {
  await broker.connect();
  try {
    return await broker.snapshot({ executionsSince: null });
  } finally {
    await broker.disconnect().catch(() => undefined);
  }
}

/** A scenario's starting book as its simulated broker shows it (strategies' legs and outside positions, netted). */
export function scenarioBook(scenario: Scenario): Promise<BrokerSnapshot> {
  return brokerBook(new ScenarioRun(scenario).broker);
}
