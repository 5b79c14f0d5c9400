import { describeContract } from './contract.js';
import type { Decision } from './decision.js';
import { joinReasons, type BreakCause, type Detection } from './detection.js';
import type { IncidentId, StrategyId } from './ids.js';
import type { EpochMs } from './quantity.js';
import type { BreakPolicy, BrokenInfo } from './strategy.js';

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
