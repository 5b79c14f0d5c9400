import { describeContract } from './contract.js';
import type { Decision } from './decision.js';
import { joinReasons, type BreakCause, type Detection } from './detection.js';
import type { IncidentId, StrategyId } from './ids.js';
import type { EpochMs } from './quantity.js';
import type { BreakPolicy, BrokenInfo } from './strategy.js';
import type { StrategyState, StrategyTransition } from './strategy-state.js';

/** `+2`, `-1`, `0`: a change with its sign. */
export function signed(n: number): string {
  return n > 0 ? `+${n}` : String(n);
}

/** A detection in words: `SPY 2026-01-30 440 P x2 assigned (EARLY)`. */
export function describeChange(d: Detection): string {
  const leg = describeContract(d.contract);
  const n = Math.abs(d.change);
  switch (d.cause) {
    case 'assignment':
      return `${leg} x${n} assigned${d.kind ? ` (${d.kind})` : ''}`;
    case 'exercise':
      return `${leg} x${n} exercised${d.kind ? ` (${d.kind})` : ''}`;
    case 'expiration':
      return `${leg} x${n} expired`;
    case 'manual':
      return `${leg} changed by ${signed(d.change)} in a trade outside legguard`;
    case 'liquidation':
      return `${leg} changed by ${signed(d.change)} in a broker liquidation`;
    case 'unknown':
    case 'own-fill':
      return `${leg} changed by ${signed(d.change)} for no reason the broker reported`;
  }
}

/** What a strategy records about its (first) break: cause, leg, quantity, broker time, every reason once. */
export function brokenInfoFor(primary: Detection, incidentId: IncidentId, detections: readonly Detection[]): BrokenInfo {
  return {
    cause: primary.cause as BreakCause,
    kind: primary.kind,
    incidentId,
    leg: describeContract(primary.contract),
    qty: primary.change,
    at: primary.brokerAt,
    reason: joinReasons(detections),
  };
}

export interface BreakDecisionInput {
  readonly strategyId: StrategyId;
  readonly policy: BreakPolicy;
  readonly primary: Detection;
  readonly incidentId: IncidentId;
  readonly now: EpochMs;
}

/**
 * The decision for a broken strategy, by policy: `close` -> EMERGENCY_CLOSE (everything it still holds), `hedge` ->
 * HEDGE (the stock only), `alert` -> ALERT_ONLY (nothing sent, a person decides). Pure: the engine journals it and
 * hands it to the closer.
 */
export function breakDecision(input: BreakDecisionInput): Decision {
  const { strategyId, policy, primary, incidentId, now } = input;
  const action = policy === 'close' ? 'EMERGENCY_CLOSE' : policy === 'hedge' ? 'HEDGE' : 'ALERT_ONLY';
  const what = policy === 'close' ? 'closing everything it still holds' : policy === 'hedge' ? 'closing the stock it holds' : 'sending nothing (policy: alert)';
  return {
    strategyId,
    action,
    reason: `CRITICAL: ${describeChange(primary)} on ${strategyId}; strategy broken, ${what}`,
    rule: 'AssignmentMonitor',
    urgency: policy === 'alert' ? 'HIGH' : 'IMMEDIATE',
    at: now,
    metadata: {
      incidentId,
      cause: primary.cause,
      kind: primary.kind,
      leg: describeContract(primary.contract),
      qty: primary.change,
      policy,
    },
  };
}

/**
 * The transition that follows `broke` for a strategy now in `state` (its state after `broke`), by policy:
 * - `alert`: `gave-up` (NEEDS_ATTENTION, nothing sent);
 * - `close` / `hedge` on a strategy that was already NEEDS_ATTENTION (it gave up earlier: rejects, the price walk's
 *   bound, a hedge done): `resumed`. The broker changed what it holds (a liquidation, an assignment of a short leg
 *   left over), so the residual is re-planned and closed again by the policy, reduce-only through the gate like
 *   every close; if it cannot finish it gives up to NEEDS_ATTENTION again, with a new alert. A manual trade, whose
 *   policy is `alert` unless configured otherwise, leaves it NEEDS_ATTENTION: a person is already acting on it.
 * - `close` / `hedge` otherwise: `emergency-started`.
 * Every state `broke` leads to allows the transition returned (test/core/break-decision.test.ts checks all of them).
 */
export function afterBreak(state: StrategyState, policy: BreakPolicy): StrategyTransition {
  if (policy === 'alert') return 'gave-up';
  return state === 'NEEDS_ATTENTION' ? 'resumed' : 'emergency-started';
}
