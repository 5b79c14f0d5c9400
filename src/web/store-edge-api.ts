import type { LegguardConfig } from '../app/config.js';
import { gatherStatus } from '../app/status-report.js';
import { LegguardError } from '../core/errors.js';
import type { Clock } from '../ports/clock.js';
import type { StorePort } from '../ports/store.js';
import type { EdgeApi } from './edge-api.js';
import { GuardMetrics } from './guard-metrics.js';
import { journalHistory } from './journal-history.js';
import { payoffReport } from './payoff-report.js';

/**
 * The edge over a store with no guard (`legguard dashboard`): the same page and reads, from the record alone; no
 * broker, no live events, and no mutations at all (403 whatever the token): acknowledging and halting are the CLI's or
 * a running guard's.
 */
export function storeEdgeApi(store: StorePort, config: LegguardConfig, storeName: string, clock: Clock): EdgeApi {
  const account = config.account;
  let states: readonly string[] = [];
  let trading: 'ACTIVE' | 'REDUCING' | 'HALTED' = 'ACTIVE';
  const metrics = new GuardMetrics({
    connected: () => false,
    strategyStates: () => states,
    tradingState: () => trading,
    openOrders: () => 0,
    outbox: async () => {
      const o = await store.outboxSummary(account);
      return { backlog: o.channels.reduce((n, c) => n + c.pending, 0), failed: o.channels.reduce((n, c) => n + c.dead - c.skipped, 0) };
    },
  });
  const readOnly = (): Promise<never> =>
    Promise.reject(new LegguardError('FORBIDDEN', 'this dashboard is read-only (legguard dashboard): acknowledge or halt with the CLI or the running guard'));
  return {
    mode: 'read-only',
    status: () => gatherStatus(store, config, storeName, clock.now()),
    payoff: async () => payoffReport(await store.listStrategies(account)),
    history: () => journalHistory(store, account),
    async health() {
      let lastReconciledAt: number | null = null;
      let storeOk: { ok: boolean; detail: string };
      try {
        lastReconciledAt = (await store.load(account)).cursor.lastReconciledAt;
        storeOk = { ok: true, detail: `read-only over ${storeName}` };
      } catch (e) {
        storeOk = { ok: false, detail: `the store does not answer: ${e instanceof Error ? e.message : String(e)}` };
      }
      return {
        ok: storeOk.ok,
        mode: 'read-only',
        broker: null,
        lastReconciledAt: lastReconciledAt === null ? null : new Date(lastReconciledAt).toISOString(),
        lastReconciledAgeMs: null,
        store: storeOk,
      };
    },
    async metrics() {
      states = (await store.listStrategies(account)).map((r) => r.state);
      trading = (await store.tradingState(account)).state;
      return { contentType: metrics.contentType, body: await metrics.text() };
    },
    subscribe: () => () => undefined,
    ack: readOnly,
    setTradingState: readOnly,
  };
}
