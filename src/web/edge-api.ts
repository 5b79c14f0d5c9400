import type { AckResult, TradingStateChange } from '../app/operator-actions.js';
import type { TradingState } from '../core/gate.js';
import type { IncidentId } from '../core/ids.js';
import type { HistoryEntry } from './journal-history.js';
import type { PayoffReport } from './payoff-report.js';

/** `/healthz`: 200 when `ok`, 503 otherwise. */
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
}

/**
 * What the HTTP edge reads and does, and nothing more: the edge turns requests into these calls and their results or
 * LegguardErrors into HTTP answers. One implementation over a running guard, one read-only over a store.
 */
export interface EdgeApi {
  readonly mode: 'guard' | 'read-only';
  /** The `legguard status --json` object. */
  status(): Promise<unknown>;
  payoff(): Promise<PayoffReport>;
  /** The record's newest journal entries, for the timeline's past. */
  history(): Promise<{ readonly entries: readonly HistoryEntry[] }>;
  health(): Promise<HealthReport>;
  metrics(): Promise<{ readonly contentType: string; readonly body: string }>;
  /** Every timeline entry as it happens, JSON-ready; returns the unsubscribe. Read-only mode sends none. */
  subscribe(fn: (entry: object) => void): () => void;
  ack(id: IncidentId, by: string): Promise<AckResult>;
  setTradingState(state: TradingState, reason: string | null, by: string): Promise<TradingStateChange>;
}
