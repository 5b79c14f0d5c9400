import type { IncidentId, StrategyId } from '../core/ids.js';
import type { EpochMs } from '../core/quantity.js';

export type Severity = 'info' | 'warning' | 'critical';

/**
 * One thing a person must be told. `key` makes it idempotent: the same key is delivered once per channel, however
 * often it is raised or however often the process restarts.
 */
export interface Alert {
  readonly key: string;
  readonly severity: Severity;
  readonly incidentId: IncidentId | null;
  readonly strategyId: StrategyId | null;
  /** One line: `ASSIGNMENT: SPY 2026-01-30 440 P x2 on ic-spy`. */
  readonly title: string;
  /** What happened and what legguard did about it. */
  readonly text: string;
  readonly at: EpochMs;
  readonly facts: Readonly<Record<string, string | number | boolean | null>>;
}

/** Raising is non-blocking; delivery (retries, escalation) happens behind the port. */
export interface AlertsPort {
  raise(alert: Alert): void;
}

/** One delivery channel (console, webhook, ntfy, Telegram, email). Rejects with ALERT_DELIVERY_FAILED. */
export interface AlertChannel {
  readonly name: string;
  send(alert: Alert): Promise<void>;
}
