import { DEFAULT_LONG_LEG_COSTS } from '../core/long-leg.js';
import { z } from 'zod';
import { CHANGE_CAUSES } from '../core/detection.js';
import { DEFAULT_GUARD_CONFIG, type GuardConfig } from '../engine/guard-config.js';
import { parseHhMm, RISK_POLICIES } from '../core/rules/early-assignment-settings.js';
import { zodToError } from '../lib/zod-errors.js';
import { NEW_POSITIONS_MODES } from '../core/grouping/new-structures.js';

const policy = z.enum(['close', 'hedge', 'alert']);
const positiveMs = z.number().int().positive();
const limit = z.number().positive().nullable();
const riskPolicy = z.enum(RISK_POLICIES);
/** A New York time within the regular options session, when the guard can still close. */
const actBy = z
  .string()
  .refine((s) => parseHhMm(s) !== null, 'must be a New York time HH:MM, like "15:30"')
  .refine((s) => {
    const m = parseHhMm(s);
    return m === null || (m >= 9 * 60 + 30 && m <= 16 * 60);
  }, 'must lie within the options session, 09:30-16:00 New York');

/**
 * The `guard:` block, shared by the config file and scenario files. Every key is optional; defaults are
 * `DEFAULT_GUARD_CONFIG`. Unknown keys are errors (a typo must not silently leave a default in place).
 */
/** A cost per contract or share: a finite amount, 0 or more (at most 1,000). */
const cost = z.number().min(0).max(1000);

export const guardConfigSchema = z
  .object({
    onAssignment: policy.optional(),
    policies: z.partialRecord(z.enum(CHANGE_CAUSES.filter((c) => c !== 'own-fill') as [string, ...string[]]), policy).optional(),
    timeExitDte: z.number().int().min(0).max(30).nullable().optional(),
    correlationWindowMs: positiveMs.optional(),
    pairingWindowMs: positiveMs.optional(),
    preMarketHedge: z.boolean().optional(),
    combos: z.boolean().optional(),
    fillTimeoutMs: positiveMs.optional(),
    maxRejects: z.number().int().min(1).max(20).optional(),
    priceWalk: z
      .object({
        stepTicks: z.number().int().positive().optional(),
        maxSlippageFraction: z.number().positive().max(1).optional(),
        minBoundTicks: z.number().int().nonnegative().optional(),
      })
      .strict()
      .optional(),
    limits: z
      .object({ maxContractsPerOrder: limit.optional(), maxSharesPerOrder: limit.optional(), maxNotionalPerOrder: limit.optional() })
      .strict()
      .optional(),
    reconcileIntervalMs: positiveMs.optional(),
    ruleIntervalMs: positiveMs.optional(),
    ruleTriggerMs: positiveMs.optional(),
    underlyingRefreshMs: positiveMs.optional(),
    maxMessagesPerSecond: z.number().int().min(1).max(50).optional(),
    brokerDownAlertMs: positiveMs.optional(),
    /** The look-ahead rules for assignments that can be seen coming: each `close` (default), `alert` or `off`. */
    earlyAssignment: z
      .object({ exDividend: riskPolicy.optional(), deepItmPut: riskPolicy.optional(), expiration: riskPolicy.optional(), actBy: actBy.optional() })
      .strict()
      .optional(),
    /** A structure the account holder opens while the guard runs: `adopt` (default), `propose` or `ignore`. */
    newPositions: z.enum(NEW_POSITIONS_MODES).optional(),
    /** The costs the long leg's sell-or-exercise decision weighs, in the account's currency. */
    exercise: z
      .object({ optionCommission: cost.optional(), exerciseFee: cost.optional(), stockCommissionPerShare: cost.optional() })
      .strict()
      .optional(),
  })
  .strict();

export type GuardConfigInput = z.infer<typeof guardConfigSchema>;

/** Validates a raw `guard:` block and fills in defaults; errors name `file` and the key. */
export function parseGuardConfig(raw: unknown, file: string, prefix: readonly PropertyKey[] = ['guard']): GuardConfig {
  const r = guardConfigSchema.safeParse(raw ?? {});
  if (!r.success) throw zodToError('CONFIG_INVALID', file, r.error, prefix);
  const g = r.data;
  const d = DEFAULT_GUARD_CONFIG;
  return {
    onAssignment: g.onAssignment ?? d.onAssignment,
    policies: { ...d.policies, ...(g.policies ?? {}) },
    timeExitDte: g.timeExitDte === undefined ? d.timeExitDte : g.timeExitDte,
    correlationWindowMs: g.correlationWindowMs ?? d.correlationWindowMs,
    pairingWindowMs: g.pairingWindowMs ?? d.pairingWindowMs,
    preMarketHedge: g.preMarketHedge ?? d.preMarketHedge,
    combos: g.combos ?? d.combos,
    fillTimeoutMs: g.fillTimeoutMs ?? d.fillTimeoutMs,
    maxRejects: g.maxRejects ?? d.maxRejects,
    priceWalk: {
      stepTicks: g.priceWalk?.stepTicks ?? d.priceWalk.stepTicks,
      maxSlippageFraction: g.priceWalk?.maxSlippageFraction ?? d.priceWalk.maxSlippageFraction,
      minBoundTicks: g.priceWalk?.minBoundTicks ?? d.priceWalk.minBoundTicks,
    },
    limits: {
      maxContractsPerOrder: g.limits?.maxContractsPerOrder === undefined ? d.limits.maxContractsPerOrder : g.limits.maxContractsPerOrder,
      maxSharesPerOrder: g.limits?.maxSharesPerOrder === undefined ? d.limits.maxSharesPerOrder : g.limits.maxSharesPerOrder,
      maxNotionalPerOrder: g.limits?.maxNotionalPerOrder === undefined ? d.limits.maxNotionalPerOrder : g.limits.maxNotionalPerOrder,
    },
    reconcileIntervalMs: g.reconcileIntervalMs ?? d.reconcileIntervalMs,
    ruleIntervalMs: g.ruleIntervalMs ?? d.ruleIntervalMs,
    ruleTriggerMs: g.ruleTriggerMs ?? d.ruleTriggerMs,
    underlyingRefreshMs: g.underlyingRefreshMs ?? d.underlyingRefreshMs,
    maxMessagesPerSecond: g.maxMessagesPerSecond ?? d.maxMessagesPerSecond,
    brokerDownAlertMs: g.brokerDownAlertMs ?? d.brokerDownAlertMs,
    earlyAssignment: {
      exDividend: g.earlyAssignment?.exDividend ?? d.earlyAssignment.exDividend,
      deepItmPut: g.earlyAssignment?.deepItmPut ?? d.earlyAssignment.deepItmPut,
      expiration: g.earlyAssignment?.expiration ?? d.earlyAssignment.expiration,
      actByMinute: g.earlyAssignment?.actBy !== undefined ? parseHhMm(g.earlyAssignment.actBy)! : d.earlyAssignment.actByMinute,
    },
    newPositions: g.newPositions ?? d.newPositions,
    exercise: {
      optionCommission: g.exercise?.optionCommission ?? DEFAULT_LONG_LEG_COSTS.optionCommission,
      exerciseFee: g.exercise?.exerciseFee ?? DEFAULT_LONG_LEG_COSTS.exerciseFee,
      stockCommissionPerShare: g.exercise?.stockCommissionPerShare ?? DEFAULT_LONG_LEG_COSTS.stockCommissionPerShare,
    },
  };
}
