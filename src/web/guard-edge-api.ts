import { acknowledgeIncident, setTradingState } from '../app/operator-actions.js';
import type { LegguardConfig } from '../app/config.js';
import { knownAccount } from '../app/known-account.js';
import { gatherAccountsStatus, gatherStatus } from '../app/status-report.js';
import { LegguardError } from '../core/errors.js';
import type { AccountId } from '../core/ids.js';
import type { GuardEngine } from '../engine/guard-engine.js';
import type { TimelineEntry } from '../engine/timeline.js';
import type { Clock } from '../ports/clock.js';
import type { StorePort } from '../ports/store.js';
import type { AccountChoice, AccountHealth, EdgeApi } from './edge-api.js';
import { accountSummary } from './account-summary.js';
import { combinedHealth } from './edge-health.js';
import type { GuardMetrics } from './guard-metrics.js';
import { accountsHistory } from './journal-history.js';
import { payoffReport, type StrategyPayoff } from './payoff-report.js';

/** One account a process guards, as the HTTP edge sees it. */
export interface RunningGuard {
  readonly account: AccountId;
  readonly engine: GuardEngine;
  /** The guard's lock owner: the store is healthy while the lock it refreshes is ours and live. */
  readonly lockOwner: string;
  /** Called after the account's trading state is written, so that its guard takes it now rather than at its next poll. */
  readonly tradingStateWritten: () => void;
  /** False while the account's guard is down (the daemon restarts it); absent: always running. */
  readonly running?: boolean;
  /**
   * The account's timeline across restarts of its guard (a new engine); absent: the engine's own, which a guard that
   * never restarts keeps.
   */
  readonly onTimeline?: (fn: (entry: TimelineEntry) => void) => () => void;
}

export interface GuardEdgeDeps {
  /** Every account the process guards, one engine each; at least one. */
  readonly guards: readonly RunningGuard[];
  readonly store: StorePort;
  readonly config: LegguardConfig;
  /** `SQLite /path/legguard.db`, for the status report. */
  readonly storeName: string;
  /** This machine's clock: acknowledgements and trading-state changes are stamped on it, as the CLI's are. */
  readonly real: Clock;
  readonly metrics: GuardMetrics;
}

/** The guards in account order, each account once; refused otherwise (a composition error, not an input). */
export function sortedGuards(guards: readonly RunningGuard[]): readonly RunningGuard[] {
  if (guards.length === 0) throw new LegguardError('INTERNAL', 'the HTTP edge needs at least one running guard');
  const sorted = [...guards].sort((a, b) => (a.account < b.account ? -1 : a.account > b.account ? 1 : 0));
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]!.account === sorted[i - 1]!.account) throw new LegguardError('INTERNAL', `the HTTP edge got account ${sorted[i]!.account} twice`);
  }
  for (const g of sorted) {
    if (g.engine.account !== g.account) throw new LegguardError('INTERNAL', `the guard listed for ${g.account} guards ${g.engine.account}`);
  }
  return sorted;
}

/**
 * The edge over the running guards of one process (one per account): reads from their store and engines, acts through
 * the CLI's operations on the account named. Reads not naming an account cover every guarded account.
 */
export function guardEdgeApi(d: GuardEdgeDeps): EdgeApi {
  const guards = sortedGuards(d.guards);
  const accounts = guards.map((g) => g.account);
  const byAccount = new Map(guards.map((g) => [g.account as string, g]));
  // An account this process does not guard is NOT_FOUND, naming those it does.
  const guard = (account: AccountId): RunningGuard => byAccount.get(knownAccount(account, accounts, 'this guard'))!;
  const chosen = (account: AccountChoice): readonly RunningGuard[] => (account === null ? guards : [guard(account)]);

  async function healthOf(g: RunningGuard): Promise<AccountHealth> {
    const connected = g.engine.isConnected;
    let store: AccountHealth['store'];
    let lastReconciledAt: number | null = null;
    try {
      const lock = await d.store.lockHolder(g.account);
      lastReconciledAt = (await d.store.load(g.account)).cursor.lastReconciledAt;
      const live = lock !== null && lock.owner === g.lockOwner && lock.expiresAt > d.real.now();
      store = { ok: live, detail: live ? 'the guard holds its lock' : 'the guard lost its lock, or cannot refresh it' };
    } catch (e) {
      store = { ok: false, detail: `the store does not answer: ${e instanceof Error ? e.message : String(e)}` };
    }
    const running = g.running !== false;
    if (!running) store = { ok: false, detail: `the guard of ${g.account} stopped and is being restarted: ${g.account} is not guarded now` };
    return {
      account: g.account,
      ok: running && connected && store.ok,
      broker: { connected },
      lastReconciledAt: lastReconciledAt === null ? null : new Date(lastReconciledAt).toISOString(),
      lastReconciledAgeMs: lastReconciledAt === null ? null : Math.max(0, g.engine.clock.now() - lastReconciledAt),
      store,
    };
  }

  return {
    mode: 'guard',
    accounts: () => Promise.resolve(accounts),
    // From the engines' memory, but for the incidents waiting for acknowledgement (the store's).
    summaries: async () => {
      const out = [];
      for (const g of guards) out.push(await accountSummary(d.store, g.account, [...g.engine.strategies.values()].map((s) => s.state), g.engine.tradingState));
      return out;
    },
    // Async throughout: an unknown account is a rejected promise, never a throw at the call.
    status: async (account) =>
      account === null
        ? gatherAccountsStatus(d.store, accounts, d.config, d.storeName, d.real.now())
        : gatherStatus(d.store, guard(account).account, d.config, d.storeName, d.real.now()),
    async payoff(account) {
      const strategies: StrategyPayoff[] = [];
      for (const g of chosen(account)) strategies.push(...payoffReport(await d.store.listStrategies(g.account), (symbol) => g.engine.underlyingPrice(symbol)).strategies);
      return { strategies };
    },
    history: async (account) => accountsHistory(d.store, chosen(account).map((g) => g.account)),
    async health(account) {
      const each: AccountHealth[] = [];
      for (const g of chosen(account)) each.push(await healthOf(g));
      return combinedHealth('guard', each);
    },
    metrics: async () => ({ contentType: d.metrics.contentType, body: await d.metrics.text() }),
    subscribe(fn) {
      const offs = guards.map((g) => (g.onTimeline ?? ((l) => g.engine.onTimeline(l)))((e) => fn({ ...e, account: g.account })));
      return () => {
        for (const off of offs) off();
      };
    },
    ack: async (account, id, by) => acknowledgeIncident(d.store, guard(account).account, id, d.real.now(), by),
    async setTradingState(account, state, reason, by) {
      const g = guard(account);
      const r = await setTradingState(d.store, g.account, { state, reason, by, now: d.real.now(), origin: 'http', source: 'http POST /api/trading-state' });
      g.tradingStateWritten();
      return r;
    },
  };
}
