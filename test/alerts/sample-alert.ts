import { IncidentId, StrategyId } from '../../src/core/ids.js';
import { EpochMs } from '../../src/core/quantity.js';
import type { Alert } from '../../src/ports/alerts.js';

/** 2026-01-28 02:30:05 ET, a Wednesday: the hour assignments are found. */
export const T0 = Date.parse('2026-01-28T07:30:05Z');

export function sampleAlert(over: Partial<Alert> = {}): Alert {
  return {
    key: 'assign:ic-spy:1769585405000',
    severity: 'critical',
    incidentId: IncidentId.unsafe('ic-spy:assignment:1769585405000'),
    strategyId: StrategyId.unsafe('ic-spy'),
    title: 'ASSIGNMENT: SPY 2026-01-30 440 P x2 on ic-spy',
    text: 'ic-spy broke: the short 440 put was assigned (200 SPY delivered). Closing everything it still holds.',
    at: EpochMs.unsafe(T0),
    facts: { underlying: 'SPY', strike: 440, right: 'P', qty: -2, early: true, note: null },
    ...over,
  };
}
