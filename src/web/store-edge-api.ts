import type { LegguardConfig } from '../app/config.js';
import { knownAccount } from '../app/known-account.js';
import { gatherAccountsStatus, gatherStatus } from '../app/status-report.js';
import { LegguardError } from '../core/errors.js';
import type { AccountId } from '../core/ids.js';
import type { Clock } from '../ports/clock.js';
import type { StorePort } from '../ports/store.js';
import type { AccountChoice, AccountHealth, EdgeApi } from './edge-api.js';
import { accountSummary } from './account-summary.js';
import { combinedHealth } from './edge-health.js';
import { GuardMetrics } from './guard-metrics.js';
import { accountsHistory } from './journal-history.js';
import { payoffReport, type StrategyPayoff } from './payoff-report.js';

/**
 * The edge over a store with no guard (`legguard dashboard`): the same page and reads, from the record alone, for
 * every account the store holds (or only `only`, `--account`); no broker, no live events, and no mutations at all
 * (403 whatever the token): acknowledging and halting are the CLI's or a running guard's. Accounts that appear in the
 * store while it serves are served from the next request on.
 */
export function storeEdgeApi(store: StorePort, config: LegguardConfig, storeName: string, clock: Clock, only: AccountId | null = null): EdgeApi {
  const states = new Map<string, readonly string[]>();
  const trading = new Map<string, 'ACTIVE' | 'REDUCING' | 'HALTED'>();
  const metrics = new GuardMetrics();
  const accounts = async (): Promise<readonly AccountId[]> => (only !== null ? [only] : store.accounts());
  const chosen = async (account: AccountChoice): Promise<readonly AccountId[]> => {
    const all = await accounts();
    if (account !== null) return [knownAccount(account, all, storeName)];
    if (all.length === 0) throw new LegguardError('NOT_FOUND', `${storeName} holds no account yet`);
    return all;
  };
  const track = (account: AccountId): void => {
    if (metrics.accounts.includes(account)) return;
    metrics.track(account, {
      connected: () => false,
      strategyStates: () => states.get(account) ?? [],
      tradingState: () => trading.get(account) ?? 'ACTIVE',
      openOrders: () => 0,
      outbox: async () => {
        const o = await store.outboxSummary(account);
        return { backlog: o.channels.reduce((n, c) => n + c.pending, 0), failed: o.channels.reduce((n, c) => n + c.dead - c.skipped, 0) };
      },
    });
  };
  const readOnly = (): Promise<never> =>
    Promise.reject(new LegguardError('FORBIDDEN', 'this dashboard is read-only (legguard dashboard): acknowledge or halt with the CLI or the running guard'));
  async function healthOf(account: AccountId): Promise<AccountHealth> {
    let lastReconciledAt: number | null = null;
    let storeOk: { ok: boolean; detail: string };
    try {
      lastReconciledAt = (await store.load(account)).cursor.lastReconciledAt;
      storeOk = { ok: true, detail: `read-only over ${storeName}` };
    } catch (e) {
      storeOk = { ok: false, detail: `the store does not answer: ${e instanceof Error ? e.message : String(e)}` };
    }
    return {
      account,
      ok: storeOk.ok,
      broker: null,
      lastReconciledAt: lastReconciledAt === null ? null : new Date(lastReconciledAt).toISOString(),
      lastReconciledAgeMs: null,
      store: storeOk,
    };
  }
  return {
    mode: 'read-only',
    accounts,
    async summaries() {
      const out = [];
      for (const a of await accounts()) {
        out.push(await accountSummary(store, a, (await store.listStrategies(a)).map((r) => r.state), (await store.tradingState(a)).state));
      }
      return out;
    },
    async status(account) {
      const which = await chosen(account);
      return account === null ? gatherAccountsStatus(store, which, config, storeName, clock.now()) : gatherStatus(store, which[0]!, config, storeName, clock.now());
    },
    async payoff(account) {
      const strategies: StrategyPayoff[] = [];
      for (const a of await chosen(account)) strategies.push(...payoffReport(await store.listStrategies(a)).strategies);
      return { strategies };
    },
    history: async (account) => accountsHistory(store, await chosen(account)),
    async health(account) {
      let which: readonly AccountId[];
      try {
        which = await chosen(account);
      } catch (e) {
        if (LegguardError.is(e, 'NOT_FOUND') && account !== null) throw e;
        // The store does not answer, or holds nothing yet: unhealthy, said as such.
        const detail = e instanceof Error ? e.message : String(e);
        return { ok: false, mode: 'read-only', broker: null, lastReconciledAt: null, lastReconciledAgeMs: null, store: { ok: false, detail }, accounts: [] };
      }
      const each: AccountHealth[] = [];
      for (const a of which) each.push(await healthOf(a));
      return combinedHealth('read-only', each);
    },
    async metrics() {
      for (const a of await accounts()) {
        track(a);
        states.set(a, (await store.listStrategies(a)).map((r) => r.state));
        trading.set(a, (await store.tradingState(a)).state);
      }
      return { contentType: metrics.contentType, body: await metrics.text() };
    },
    subscribe: () => () => undefined,
    ack: readOnly,
    setTradingState: readOnly,
  };
}
