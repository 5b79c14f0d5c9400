import { contractKey, describeContract, type Contract } from '../core/contract.js';
import type { PositionReport } from '../core/events.js';
import type { Scenario } from '../adapters/sim/load-scenario.js';
import type { Alert } from '../ports/alerts.js';
import { contractFields } from './record-views.js';
import type { GuardEngine } from '../engine/guard-engine.js';
import type { TimelineEntry } from '../engine/timeline.js';
import type { IncidentCost } from '../core/incident-cost.js';
import { isRiskRuleName } from '../core/rules/early-assignment-rule.js';

const iso = (t: number | null): string | null => (t === null ? null : new Date(t).toISOString());

export interface ReplayReport {
  readonly scenario: string;
  readonly file: string;
  readonly strategies: readonly {
    readonly id: string;
    readonly kind: string;
    readonly state: string;
    readonly broken: { readonly cause: string; readonly kind: string | null; readonly leg: string; readonly qty: number; readonly at: string | null; readonly incidentId: string } | null;
    readonly holdings: readonly { readonly contract: string; readonly qty: number }[];
  }[];
  readonly positions: readonly (Record<string, string | number> & { readonly qty: number })[];
  readonly orders: readonly {
    readonly strategyId: string;
    readonly ref: string;
    readonly status: string;
    readonly purpose: string;
    readonly placedAt: string | null;
    readonly limitPrice: number | null;
    readonly filledQty: number;
    readonly avgFillPrice: number | null;
    readonly reason: string | null;
    readonly legs: readonly (Record<string, string | number | null> & { readonly action: string; readonly qty: number; readonly positionBefore: number | null })[];
  }[];
  readonly alerts: readonly { readonly severity: string; readonly strategyId: string | null; readonly incidentId: string | null; readonly title: string; readonly text: string; readonly at: string | null }[];
  readonly detections: readonly {
    readonly strategyId: string;
    readonly incidentId: string;
    readonly cause: string;
    readonly kind: string | null;
    readonly leg: string;
    readonly change: number;
    readonly brokerAt: string | null;
    readonly detectedAt: string | null;
    readonly latencyMs: number | null;
  }[];
  /**
   * What each incident's close cost: the strategy's holdings marked at mid when it broke, each closing order's
   * realized cash and slippage against the mid when it went out, commissions where known, realized against the mark.
   */
  readonly incidentCosts: readonly IncidentCost[];
  /** Every early-assignment flag the guard acted on (CLOSE) or warned about (ALERT_ONLY), with its numbers. */
  readonly risks: readonly {
    readonly strategyId: string;
    readonly at: string | null;
    readonly rule: string;
    readonly action: string;
    readonly leg: string;
    readonly reason: string;
    readonly numbers: Readonly<Record<string, string | number | boolean | null>>;
  }[];
}

/**
 * The replay's JSON: strategies and their states, every broker position at the end, every order the guard planned or
 * sent (with the account's position in each leg's contract when it was sent), the alerts, and one detection per
 * incident with its real latency from broker event to orders.
 */
export function buildReplayReport(input: {
  scenario: Scenario;
  engine: GuardEngine;
  timeline: readonly TimelineEntry[];
  alerts: readonly Alert[];
  positions: readonly PositionReport[];
  incidentCosts?: readonly IncidentCost[];
}): ReplayReport {
  const { engine } = input;
  const strategies = [...engine.strategies.values()].map((rt) => ({
    id: rt.def.id,
    kind: rt.def.kind,
    state: rt.state,
    broken: rt.broken
      ? { cause: rt.broken.cause, kind: rt.broken.kind, leg: rt.broken.leg, qty: rt.broken.qty, at: iso(rt.broken.at), incidentId: rt.broken.incidentId }
      : null,
    holdings: engine.book.holdings(rt.def.id).map((h) => ({ contract: describeContract(h.contract), qty: h.qty })),
  }));
  const positions = [...input.positions]
    .filter((p) => p.qty !== 0)
    .sort((a, b) => (contractKey(a.contract) < contractKey(b.contract) ? -1 : 1))
    .map((p) => ({ ...contractFields(p.contract), qty: p.qty }));
  const orders = [...engine.tracker.all()].map((o) => ({
    strategyId: o.request.strategyId,
    ref: o.request.ref,
    status: o.status.toUpperCase().replace('-', '_'),
    purpose: o.request.purpose,
    placedAt: iso(o.placedAt),
    limitPrice: o.request.limitPrice,
    filledQty: o.filledUnits,
    avgFillPrice: o.avgFillPrice,
    reason: o.reason,
    legs: o.request.legs.map((l) => ({
      ...contractFields(l.contract),
      action: l.action,
      qty: l.ratio * o.request.quantity,
      positionBefore: o.positionBefore[contractKey(l.contract)] ?? null,
    })),
  }));
  const alerts = input.alerts.map((a) => ({ severity: a.severity, strategyId: a.strategyId, incidentId: a.incidentId, title: a.title, text: a.text, at: iso(a.at) }));
  const latency = new Map<string, number>();
  for (const e of input.timeline) if (e.kind === 'latency' && !latency.has(e.incidentId)) latency.set(e.incidentId, e.latencyMs);
  const seen = new Set<string>();
  const detections: ReplayReport['detections'][number][] = [];
  for (const e of input.timeline) {
    if (e.kind !== 'detection' || e.incidentId === null || e.detection.strategyId === null) continue;
    if (seen.has(e.incidentId)) continue;
    seen.add(e.incidentId);
    const rt = engine.strategies.get(e.detection.strategyId);
    const leg: Contract = e.detection.contract;
    detections.push({
      strategyId: e.detection.strategyId,
      incidentId: e.incidentId,
      cause: rt?.broken?.incidentId === e.incidentId ? rt.broken.cause : e.detection.cause,
      kind: e.detection.kind,
      leg: describeContract(leg),
      change: e.detection.change,
      brokerAt: iso(e.detection.brokerAt),
      detectedAt: iso(e.at),
      latencyMs: latency.get(e.incidentId) ?? null,
    });
  }
  const risks: ReplayReport['risks'][number][] = [];
  for (const e of input.timeline) {
    if (e.kind !== 'decision' || !isRiskRuleName(e.decision.rule)) continue;
    const { leg, ...numbers } = e.decision.metadata;
    risks.push({ strategyId: e.decision.strategyId, at: iso(e.at), rule: e.decision.rule, action: e.decision.action, leg: String(leg), reason: e.decision.reason, numbers });
  }
  return { scenario: input.scenario.name, file: input.scenario.file, strategies, positions, orders, alerts, detections, incidentCosts: input.incidentCosts ?? [], risks };
}
