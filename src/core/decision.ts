import type { StrategyId } from './ids.js';
import type { EpochMs } from './quantity.js';

export type Urgency = 'NORMAL' | 'HIGH' | 'IMMEDIATE';

/**
 * CLOSE: an ordinary exit of a whole, intact strategy. EMERGENCY_CLOSE: close what a broken strategy still holds.
 * HEDGE: close only the stock a broken strategy holds. ALERT_ONLY: tell a person, send nothing. HOLD: nothing to do.
 */
export type DecisionAction = 'CLOSE' | 'EMERGENCY_CLOSE' | 'HEDGE' | 'ALERT_ONLY' | 'HOLD';

export interface Decision {
  readonly strategyId: StrategyId;
  readonly action: DecisionAction;
  readonly reason: string;
  /** The rule or component that decided: `TimeExit`, `AssignmentMonitor`, `Reconciliation` ... */
  readonly rule: string;
  readonly urgency: Urgency;
  readonly at: EpochMs;
  readonly metadata: Readonly<Record<string, string | number | boolean | null>>;
}
