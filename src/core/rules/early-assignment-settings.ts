/**
 * The guard's answer to an assignment it can see coming, per rule: `close` the strategy (through the ordinary close
 * path, before the holder can exercise), `alert` (a warning with the numbers, no orders), or `off`.
 */
export type RiskPolicy = 'close' | 'alert' | 'off';
export const RISK_POLICIES = ['close', 'alert', 'off'] as const;

/** The three look-ahead rules. */
export type RiskRuleName = 'ex-dividend-call' | 'deep-itm-put' | 'expiration';

/** `guard.earlyAssignment` in the config file and scenario files. */
export interface EarlyAssignmentSettings {
  readonly exDividend: RiskPolicy;
  readonly deepItmPut: RiskPolicy;
  readonly expiration: RiskPolicy;
  /** New York wall time, minutes after midnight: the latest time of a day the guard closes; later it only alerts. */
  readonly actByMinute: number;
}

export const DEFAULT_EARLY_ASSIGNMENT: EarlyAssignmentSettings = {
  exDividend: 'close',
  deepItmPut: 'close',
  expiration: 'close',
  actByMinute: 15 * 60 + 30,
};

/** The policy a rule runs under. */
export function policyOf(s: EarlyAssignmentSettings, rule: RiskRuleName): RiskPolicy {
  return rule === 'ex-dividend-call' ? s.exDividend : rule === 'deep-itm-put' ? s.deepItmPut : s.expiration;
}

/** `15:30` for 930 minutes. */
export function formatMinute(m: number): string {
  return `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
}

/** Parses `HH:MM` (24-hour, New York) into minutes after midnight; null when it is not such a time. */
export function parseHhMm(s: string): number | null {
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(s);
  return m ? Number(m[1]) * 60 + Number(m[2]) : null;
}
