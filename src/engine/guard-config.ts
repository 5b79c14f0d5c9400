import { DEFAULT_LONG_LEG_COSTS, type LongLegCosts } from '../core/long-leg.js';
import type { BreakCause } from '../core/detection.js';
import type { BreakPolicy } from '../core/strategy.js';
import { DEFAULT_EARLY_ASSIGNMENT, type EarlyAssignmentSettings } from '../core/rules/early-assignment-settings.js';
import type { NewPositionsMode } from '../core/grouping/new-structures.js';

/**
 * How the guard behaves. The config file's `guard:` block and a scenario's `guard:` block use these keys; every key
 * has a default, so `{}` is a working configuration.
 */
export interface GuardConfig {
  /** What to do when a strategy breaks by assignment (and, unless overridden in `policies`, by any cause). */
  readonly onAssignment: BreakPolicy;
  /** Per-cause overrides. By default a manual trade only alerts: the account holder is already acting. */
  readonly policies: Readonly<Partial<Record<BreakCause, BreakPolicy>>>;
  /** Close an intact strategy when its nearest expiry is this many New York days away or fewer; null: off. */
  readonly timeExitDte: number | null;
  /** A change on a contract with a guard order working or filled this recently is the guard's own, not an assignment. */
  readonly correlationWindowMs: number;
  /** How long an option shrink waits for the stock that would make it an assignment or exercise. */
  readonly pairingWindowMs: number;
  /** Hedge stock in the pre-market (04:00-09:30 New York) instead of waiting for the regular open. */
  readonly preMarketHedge: boolean;
  /** Close a short option and its long cover as one combo order where the venue allows. */
  readonly combos: boolean;
  /** How long a closing order may work without filling before its price walks one step. */
  readonly fillTimeoutMs: number;
  /** Rejects of one order group before the strategy goes to NEEDS_ATTENTION. */
  readonly maxRejects: number;
  readonly priceWalk: {
    /** One step, in ticks of 0.01. */
    readonly stepTicks: number;
    /** Never further than this fraction of the starting price from it (at least `minBoundTicks`). */
    readonly maxSlippageFraction: number;
    readonly minBoundTicks: number;
  };
  readonly limits: {
    readonly maxContractsPerOrder: number | null;
    readonly maxSharesPerOrder: number | null;
    readonly maxNotionalPerOrder: number | null;
  };
  /** Full reconciliation against the broker on this interval (also at connect and every reconnect). */
  readonly reconcileIntervalMs: number;
  /** How often rules (the time exit ...) are evaluated for open strategies. */
  readonly ruleIntervalMs: number;
  /**
   * Rules also run when a price, a quote or the dividends of a symbol change, for the strategies on it only, at most
   * once per this many milliseconds (coalesced, not per tick).
   */
  readonly ruleTriggerMs: number;
  /** How often the broker is asked for the price and dividends (IB generic tick 456) of every guarded underlying. */
  readonly underlyingRefreshMs: number;
  /** A broker link down this long (IB 1100 never restored, a socket that does not come back) is told to a person. */
  readonly brokerDownAlertMs: number;
  /** Outgoing broker messages per second (IB allows about 50). */
  readonly maxMessagesPerSecond: number;
  /** The look-ahead rules (ex-dividend call, deep ITM put, expiration day): policy per rule and the act-by time. */
  readonly earlyAssignment: EarlyAssignmentSettings;
  /**
   * A structure the account holder opens while the guard runs, on contracts no strategy holds: `adopt` (guarded at
   * once, an info alert "now guarding ..."), `propose` (an alert with the proposal; guarded after
   * `legguard strategies discover --apply`) or `ignore` (it stays outside any strategy).
   */
  readonly newPositions: NewPositionsMode;
  /**
   * `guard.exercise`: the broker's costs the long leg's sell-or-exercise decision weighs (core/long-leg.ts);
   * absent: `DEFAULT_LONG_LEG_COSTS` (IB's US options commission 0.65 a contract, no exercise fee, 0.005 a share).
   */
  readonly exercise?: LongLegCosts;
}

export const DEFAULT_GUARD_CONFIG: GuardConfig = {
  onAssignment: 'close',
  policies: { manual: 'alert' },
  timeExitDte: 1,
  correlationWindowMs: 10_000,
  pairingWindowMs: 3_000,
  preMarketHedge: true,
  combos: true,
  fillTimeoutMs: 15_000,
  maxRejects: 3,
  priceWalk: { stepTicks: 5, maxSlippageFraction: 0.2, minBoundTicks: 10 },
  limits: { maxContractsPerOrder: null, maxSharesPerOrder: null, maxNotionalPerOrder: null },
  reconcileIntervalMs: 60_000,
  ruleIntervalMs: 60_000,
  ruleTriggerMs: 5_000,
  underlyingRefreshMs: 3_600_000,
  maxMessagesPerSecond: 40,
  brokerDownAlertMs: 120_000,
  earlyAssignment: DEFAULT_EARLY_ASSIGNMENT,
  newPositions: 'adopt',
  exercise: DEFAULT_LONG_LEG_COSTS,
};

/** The policy for a break of `cause`: the per-cause override, else `onAssignment`. A strategy's own policy wins. */
export function policyFor(config: GuardConfig, cause: BreakCause, strategyPolicy: BreakPolicy | undefined): BreakPolicy {
  return strategyPolicy ?? config.policies[cause] ?? config.onAssignment;
}
