import type { AckResult, TradingStateChange } from '../app/operator-actions.js';
import type { TradingState } from '../core/gate.js';
import type { AccountId, IncidentId } from '../core/ids.js';
import type { AccountSummary } from './account-summary.js';
import type { HistoryEntry } from './journal-history.js';
import type { PayoffReport } from './payoff-report.js';

/** One account's health: its broker link, its last reconciliation, its store lock. */
export interface AccountHealth {
  readonly account: string;
  readonly ok: boolean;
  /** Null in read-only mode (no broker). */
  readonly broker: { readonly connected: boolean } | null;
  readonly lastReconciledAt: string | null;
  /** On the guard's clock (scenario time in a drill); null before the first reconciliation. */
  readonly lastReconciledAgeMs: number | null;
  readonly store: { readonly ok: boolean; readonly detail: string };
}

/**
 * `/healthz`: 200 when `ok`, 503 otherwise. Over several accounts `ok` only when every one is; the top-level fields
 * tell the worst (a broker down if any is, the oldest reconciliation) and `accounts` tells each.
 */
export interface HealthReport {
  readonly ok: boolean;
  /** `guard`: a running guard's edge; `read-only`: `legguard dashboard` over a store. */
  readonly mode: 'guard' | 'read-only';
  /** Null in read-only mode (no broker). */
  readonly broker: { readonly connected: boolean } | null;
  readonly lastReconciledAt: string | null;
  /** On the guard's clock (scenario time in a drill); null before the first reconciliation. */
  readonly lastReconciledAgeMs: number | null;
  readonly store: { readonly ok: boolean; readonly detail: string };
  readonly accounts: readonly AccountHealth[];
}

/**
 * An account as `?account=` or a mutation's `"account"` names it: null when not named. Reads not named cover every
 * account; a mutation not named is refused when the edge serves more than one.
 */
export type AccountChoice = AccountId | null;

/**
 * What the HTTP edge reads and does, and nothing more: the edge turns requests into these calls and their results or
 * LegguardErrors into HTTP answers. One implementation over a running guard, one read-only over a store.
 */
export interface EdgeApi {
  readonly mode: 'guard' | 'read-only';
  /** The accounts this edge serves, sorted: a guard's, or those the store holds. `?account=` must name one. */
  accounts(): Promise<readonly AccountId[]>;
  /** Each account served in a line's worth (`/api/accounts`), in the order of `accounts()`. */
  summaries(): Promise<readonly AccountSummary[]>;
  /**
   * The `legguard status --json` object: every account (`accounts`, with the first's report at the top level for
   * readers of one account), or the one named.
   */
  status(account: AccountChoice): Promise<unknown>;
  /** The strategies' payoffs, each naming its account. */
  payoff(account: AccountChoice): Promise<PayoffReport>;
  /** The record's newest journal entries, for the timeline's past, each naming its account. */
  history(account: AccountChoice): Promise<{ readonly entries: readonly HistoryEntry[] }>;
  health(account: AccountChoice): Promise<HealthReport>;
  metrics(): Promise<{ readonly contentType: string; readonly body: string }>;
  /** Every timeline entry as it happens, JSON-ready, with its `account`; returns the unsubscribe. Read-only mode sends none. */
  subscribe(fn: (entry: object) => void): () => void;
  ack(account: AccountId, id: IncidentId, by: string): Promise<AckResult>;
  setTradingState(account: AccountId, state: TradingState, reason: string | null, by: string): Promise<TradingStateChange>;
}
