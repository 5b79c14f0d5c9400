import type { Decision } from '../core/decision.js';
import type { Detection } from '../core/detection.js';
import type { BrokerEvent } from '../core/events.js';
import type { IncidentId, OrderRef, StrategyId } from '../core/ids.js';
import type { EpochMs } from '../core/quantity.js';
import type { StrategyState } from '../core/strategy-state.js';
import type { Alert } from '../ports/alerts.js';
import type { StoredOrderStatus } from '../ports/store.js';
import type { TrackedOrder } from './order-tracker.js';

/**
 * What the engine did, as it happened: the replay command prints it as a timeline and builds its JSON from it; the
 * daemon logs it. Entries are facts, already committed where they needed to be.
 */
export type TimelineEntry =
  | { readonly kind: 'broker-event'; readonly at: EpochMs; readonly event: BrokerEvent }
  | { readonly kind: 'detection'; readonly at: EpochMs; readonly detection: Detection; readonly incidentId: IncidentId | null }
  | {
      readonly kind: 'state';
      readonly at: EpochMs;
      readonly strategyId: StrategyId;
      readonly from: StrategyState | null;
      readonly to: StrategyState;
      readonly reason: string;
    }
  | { readonly kind: 'decision'; readonly at: EpochMs; readonly decision: Decision }
  | { readonly kind: 'order-planned'; readonly at: EpochMs; readonly order: TrackedOrder }
  | { readonly kind: 'order-sent'; readonly at: EpochMs; readonly order: TrackedOrder }
  | {
      readonly kind: 'order-update';
      readonly at: EpochMs;
      readonly order: TrackedOrder;
      readonly status: StoredOrderStatus;
      readonly reason: string | null;
    }
  | { readonly kind: 'gate-refused'; readonly at: EpochMs; readonly ref: OrderRef; readonly strategyId: StrategyId; readonly reason: string }
  | { readonly kind: 'alert'; readonly at: EpochMs; readonly alert: Alert }
  | {
      readonly kind: 'reconciled';
      readonly at: EpochMs;
      readonly reason: string;
      readonly discrepancies: readonly string[];
      /** Real milliseconds from asking the broker for its snapshot to the pass applied. */
      readonly durationMs: number;
    }
  | {
      readonly kind: 'latency';
      readonly at: EpochMs;
      readonly strategyId: StrategyId;
      readonly incidentId: IncidentId;
      readonly cause: string;
      readonly brokerAt: EpochMs;
      readonly detectedAt: EpochMs;
      /** Real milliseconds from the broker event reaching the guard to the closing orders going out (or planned). */
      readonly latencyMs: number;
      readonly ordersSent: number;
    }
  | { readonly kind: 'note'; readonly at: EpochMs; readonly strategyId: StrategyId | null; readonly text: string };

export type TimelineListener = (entry: TimelineEntry) => void;
