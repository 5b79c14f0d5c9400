import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { SystemClock } from '../adapters/clock/system-clock.js';
import { ibReader } from '../adapters/ib/ib-reader.js';
import { SQLITE_FILE } from '../adapters/store/open-store.js';
import { brokerRisk, type RiskReport, type RiskSubject } from '../app/broker-risk.js';
import { storeOptions, type LegguardConfig } from '../app/config.js';
import { legHoldings } from '../core/broker-holdings.js';
import { LegguardError } from '../core/errors.js';
import { isTerminal } from '../core/strategy-state.js';
import type { BrokerReader } from '../ports/broker.js';
import type { CommandIo } from './command.js';
import { defaultStoreDeps, describeStore, openCommandStore, type StoreDeps } from './command-store.js';

/** `legguard risk --config` connects as the guard's client id plus this, unless `--client-id` says otherwise. */
export const RISK_CLIENT_ID_OFFSET = 1000;

/** Requests (positions, quotes, the time) fail after this long unless `--timeout` says otherwise. */
const DEFAULT_REQUEST_TIMEOUT_MS = 15_000;

export interface BrokerRiskFlags {
  /** `--client-id N`. */
  readonly clientId: string | undefined;
  /** `--timeout SECONDS`: bounds the connection and each request. */
  readonly timeout: string | undefined;
}

export interface RiskBrokerDeps {
  readonly store: StoreDeps;
  /** Builds the read-only broker (tests may pass their own). */
  readonly reader: (config: LegguardConfig, clientId: number, timeoutMs: { connect: number; request: number }) => BrokerReader;
}

export const defaultRiskBrokerDeps: RiskBrokerDeps = {
  store: defaultStoreDeps,
  reader: (config, clientId, t) =>
    ibReader({
      host: config.broker.host,
      port: config.broker.port,
      clientId,
      account: config.account,
      clock: new SystemClock(),
      marketDataType: config.broker.marketDataType,
      connectTimeoutMs: t.connect,
      handshakeTimeoutMs: Math.min(10_000, t.connect),
      requestTimeoutMs: t.request,
      dividendWaitMs: Math.min(2000, t.request),
      name: 'ib (read-only)',
    }),
};

/**
 * The strategies to assess: every strategy in the config's store that is not CLOSED (with the holdings the guard
 * attributes to it; one still PENDING, or with nothing recorded, with its legs), then the config file's strategies the
 * store does not have (as a guard would add them at its start). The store is only read.
 */
async function subjects(config: LegguardConfig, deps: StoreDeps, io: CommandIo, notes: string[]): Promise<RiskSubject[]> {
  const opts = storeOptions(config);
  const out: RiskSubject[] = [];
  const known = new Set<string>();
  if ((opts.databaseUrl ?? '') === '' && !existsSync(join(opts.dataDir, SQLITE_FILE))) {
    notes.push(`no legguard database at ${join(opts.dataDir, SQLITE_FILE)}: the config file's strategies only`);
  } else {
    const store = await openCommandStore(opts, deps, false, io);
    try {
      for (const r of await store.listStrategies(config.account)) {
        known.add(r.definition.id);
        if (isTerminal(r.state)) continue;
        out.push({ definition: r.definition, holdings: r.state === 'PENDING' || r.holdings.length === 0 ? legHoldings(r.definition.legs) : r.holdings });
      }
    } finally {
      await store.close();
    }
    if (out.length === 0 && known.size === 0) notes.push(`${describeStore(opts)} guards no strategy for ${config.account}`);
  }
  for (const d of config.strategies) if (!known.has(d.id)) out.push({ definition: d, holdings: legHoldings(d.legs) });
  return out;
}

function parseClientId(flag: string | undefined, config: LegguardConfig): number {
  if (flag === undefined) return config.broker.clientId + RISK_CLIENT_ID_OFFSET;
  if (!/^\d{1,9}$/.test(flag)) throw new LegguardError('INVALID_INPUT', `--client-id must be a whole number; got ${JSON.stringify(flag)}`);
  const id = Number(flag);
  if (id === config.broker.clientId) {
    throw new LegguardError('INVALID_INPUT', `--client-id ${id} is the guard's own (broker.clientId); a second connection with it would be refused, or take the guard's place`);
  }
  return id;
}

function parseTimeout(flag: string | undefined): number | null {
  if (flag === undefined) return null;
  const s = Number(flag);
  if (!/^\d+(\.\d+)?$/.test(flag) || !(s > 0 && s <= 3600)) throw new LegguardError('INVALID_INPUT', `--timeout must be seconds, above 0 and at most 3600; got ${JSON.stringify(flag)}`);
  return Math.round(s * 1000);
}

/** Where it tried, for messages: `TWS / IB Gateway at 127.0.0.1:7497 (client id 1017)`. */
export function brokerWhere(config: LegguardConfig, clientId: number): string {
  return `TWS / IB Gateway at ${config.broker.host}:${config.broker.port} (client id ${clientId})`;
}

const UNREACHABLE = new Set(['BROKER_DISCONNECTED', 'BROKER_TIMEOUT', 'PROTOCOL_ERROR']);

/**
 * `legguard risk --config FILE`: connects read only with its own client id, reads, assesses, disconnects. A broker
 * that cannot be reached or stops answering is BROKER_UNREACHABLE (exit 7), never "nothing at risk".
 */
export async function riskFromBroker(
  config: LegguardConfig,
  flags: BrokerRiskFlags,
  io: CommandIo,
  deps: RiskBrokerDeps = defaultRiskBrokerDeps,
): Promise<{ report: RiskReport; clientId: number }> {
  const clientId = parseClientId(flags.clientId, config);
  const timeout = parseTimeout(flags.timeout);
  const notes: string[] = [];
  const list = await subjects(config, deps.store, io, notes);
  const reader = deps.reader(config, clientId, { connect: timeout ?? config.broker.connectTimeoutSeconds * 1000, request: timeout ?? DEFAULT_REQUEST_TIMEOUT_MS });
  const where = brokerWhere(config, clientId);
  // The adapter's timers (reconnect backoff, request timeouts) do not hold the event loop open: this does, until done.
  const keepAlive = setInterval(() => undefined, 3_600_000);
  try {
    await reader.connect();
    const report = await brokerRisk(reader, config, list);
    return { report: { ...report, notes: [...notes, ...report.notes] }, clientId };
  } catch (e) {
    if (LegguardError.is(e) && UNREACHABLE.has(e.code)) {
      throw new LegguardError('BROKER_UNREACHABLE', `${where} unreachable: ${e.message}`, { host: config.broker.host, port: config.broker.port, clientId }, { cause: e });
    }
    throw e;
  } finally {
    clearInterval(keepAlive);
    await reader.disconnect().catch(() => undefined);
  }
}
