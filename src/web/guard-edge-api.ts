import { acknowledgeIncident, setTradingState } from '../app/operator-actions.js';
import type { LegguardConfig } from '../app/config.js';
import { gatherStatus } from '../app/status-report.js';
import type { GuardEngine } from '../engine/guard-engine.js';
import type { Clock } from '../ports/clock.js';
import type { StorePort } from '../ports/store.js';
import type { EdgeApi, HealthReport } from './edge-api.js';
import type { GuardMetrics } from './guard-metrics.js';
import { journalHistory } from './journal-history.js';
import { payoffReport } from './payoff-report.js';

export interface GuardEdgeDeps {
  readonly engine: GuardEngine;
  readonly store: StorePort;
  readonly config: LegguardConfig;
  /** `SQLite /path/legguard.db`, for the status report. */
  readonly storeName: string;
  /** This machine's clock: acknowledgements and trading-state changes are stamped on it, as the CLI's are. */
  readonly real: Clock;
  /** The guard's lock owner: the store is healthy while the lock it refreshes is ours and live. */
  readonly lockOwner: string;
  readonly metrics: GuardMetrics;
  /** Called after a trading state is written, so that the guard takes it now rather than at its next poll. */
  readonly tradingStateWritten: () => void;
}

/** The edge over a running guard: reads from its store and engine, acts through the CLI's operations. */
export function guardEdgeApi(d: GuardEdgeDeps): EdgeApi {
  const account = d.config.account;
  return {
    mode: 'guard',
    status: () => gatherStatus(d.store, d.config, d.storeName, d.real.now()),
    payoff: async () => payoffReport(await d.store.listStrategies(account), (symbol) => d.engine.underlyingPrice(symbol)),
    history: () => journalHistory(d.store, account),
    async health(): Promise<HealthReport> {
      const connected = d.engine.isConnected;
      let store: HealthReport['store'];
      let lastReconciledAt: number | null = null;
      try {
        const lock = await d.store.lockHolder(account);
        lastReconciledAt = (await d.store.load(account)).cursor.lastReconciledAt;
        const live = lock !== null && lock.owner === d.lockOwner && lock.expiresAt > d.real.now();
        store = { ok: live, detail: live ? 'the guard holds its lock' : 'the guard lost its lock, or cannot refresh it' };
      } catch (e) {
        store = { ok: false, detail: `the store does not answer: ${e instanceof Error ? e.message : String(e)}` };
      }
      return {
        ok: connected && store.ok,
        mode: 'guard',
        broker: { connected },
        lastReconciledAt: lastReconciledAt === null ? null : new Date(lastReconciledAt).toISOString(),
        lastReconciledAgeMs: lastReconciledAt === null ? null : Math.max(0, d.engine.clock.now() - lastReconciledAt),
        store,
      };
    },
    metrics: async () => ({ contentType: d.metrics.contentType, body: await d.metrics.text() }),
    subscribe: (fn) => d.engine.onTimeline((e) => fn(e)),
    ack: (id, by) => acknowledgeIncident(d.store, account, id, d.real.now(), by),
    async setTradingState(state, reason, by) {
      const r = await setTradingState(d.store, account, { state, reason, by, now: d.real.now(), origin: 'http', source: 'http POST /api/trading-state' });
      d.tradingStateWritten();
      return r;
    },
  };
}
