import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { TradingState } from '../core/gate.js';
import { isRiskRuleName } from '../core/rules/early-assignment-rule.js';
import { STRATEGY_STATES } from '../core/strategy-state.js';
import type { TimelineEntry } from '../engine/timeline.js';

/** What the metrics read when scraped (the rest they count from the timeline as it happens). */
export interface MetricSources {
  connected(): boolean;
  strategyStates(): Iterable<string>;
  tradingState(): TradingState;
  openOrders(): number;
  /** The alert outbox: deliveries waiting for a retry, and dead ones that are failures (not skips). */
  outbox(): Promise<{ readonly backlog: number; readonly failed: number }>;
}

const TRADING_STATES: readonly TradingState[] = ['ACTIVE', 'REDUCING', 'HALTED'];

/** Seconds, from a millisecond to a minute: a close goes out within milliseconds; a paced burst takes longer. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** Seconds, from 5 ms to two minutes: a snapshot of a small account is quick; a large one over a slow link is not. */
const RECONCILE_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

/**
 * A reconciliation's reason as a label with few values: `retry after timeout (interval)` is `retry`, and a reason
 * the engine may add later is `other` (labels stay bounded).
 */
function reasonLabel(reason: string): string {
  if (reason.startsWith('retry')) return 'retry';
  return /^[a-z-]{1,24}$/.test(reason) ? reason : 'other';
}

/**
 * The guard's Prometheus metrics (prom-client), on their own registry: counts and the detection-to-order latency from
 * the timeline as it happens, states read at scrape time, and the process's default metrics. Every name starts
 * `legguard_`; `/metrics` serves `text()`.
 */
export class GuardMetrics {
  readonly registry = new Registry();
  private readonly latency: Histogram<'cause'>;
  private readonly detections: Counter<'cause'>;
  private readonly orders: Counter<'purpose' | 'status'>;
  private readonly rejects: Counter<'purpose'>;
  private readonly gateRefusals: Counter;
  private readonly reconciliations: Counter;
  private readonly reconcileDuration: Histogram<'reason'>;
  private readonly discrepancies: Counter;
  private readonly alerts: Counter<'severity'>;
  private readonly riskFlags: Counter<'rule' | 'action'>;

  constructor(sources: MetricSources, opts: { readonly defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    this.latency = new Histogram({
      name: 'legguard_detection_to_order_seconds',
      help: 'Real time from a broker event reaching the guard to the closing orders going out (or being planned), per incident',
      labelNames: ['cause'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.detections = new Counter({ name: 'legguard_detections_total', help: 'Changes the detector attributed, by cause', labelNames: ['cause'], registers });
    this.orders = new Counter({
      name: 'legguard_orders_total',
      help: 'Order events by purpose (emergency, normal) and status: sent, then each status the broker reported',
      labelNames: ['purpose', 'status'],
      registers,
    });
    this.rejects = new Counter({ name: 'legguard_order_rejects_total', help: 'Orders the broker rejected', labelNames: ['purpose'], registers });
    this.gateRefusals = new Counter({ name: 'legguard_gate_refusals_total', help: 'Orders the pre-trade gate refused', registers });
    this.reconciliations = new Counter({ name: 'legguard_reconciliations_total', help: 'Reconciliation passes with the broker', registers });
    this.reconcileDuration = new Histogram({
      name: 'legguard_reconciliation_duration_seconds',
      help: "Real time a reconciliation pass took, from asking the broker for its snapshot to the pass applied, by reason (start, reconnect, interval ...)",
      labelNames: ['reason'],
      buckets: RECONCILE_BUCKETS,
      registers,
    });
    this.discrepancies = new Counter({ name: 'legguard_reconciliation_discrepancies_total', help: 'Discrepancies reconciliation found', registers });
    this.alerts = new Counter({ name: 'legguard_alerts_total', help: 'Alerts raised, by severity', labelNames: ['severity'], registers });
    this.riskFlags = new Counter({
      name: 'legguard_risk_flags_total',
      help: 'Early-assignment flags raised, by rule and what was decided (CLOSE, ALERT_ONLY)',
      labelNames: ['rule', 'action'],
      registers,
    });
    new Gauge({
      name: 'legguard_broker_connected',
      help: '1 while connected to TWS / IB Gateway',
      registers,
      collect() {
        this.set(sources.connected() ? 1 : 0);
      },
    });
    new Gauge({
      name: 'legguard_strategies',
      help: 'Strategies by state',
      labelNames: ['state'],
      registers,
      collect() {
        const n = new Map<string, number>(STRATEGY_STATES.map((s) => [s, 0]));
        for (const s of sources.strategyStates()) n.set(s, (n.get(s) ?? 0) + 1);
        for (const [state, v] of n) this.set({ state }, v);
      },
    });
    new Gauge({
      name: 'legguard_trading_state',
      help: '1 for the account trading state in force (ACTIVE, REDUCING, HALTED), 0 for the others',
      labelNames: ['state'],
      registers,
      collect() {
        const now = sources.tradingState();
        for (const state of TRADING_STATES) this.set({ state }, state === now ? 1 : 0);
      },
    });
    new Gauge({
      name: 'legguard_open_orders',
      help: 'Orders the guard tracks as not yet filled, cancelled or rejected',
      registers,
      collect() {
        this.set(sources.openOrders());
      },
    });
    new Gauge({
      name: 'legguard_alert_outbox_backlog',
      help: 'Alert deliveries waiting for a retry',
      registers,
      async collect() {
        this.set((await sources.outbox()).backlog);
      },
    });
    new Gauge({
      name: 'legguard_alert_delivery_failures',
      help: 'Alert deliveries given up after failing (skips not counted)',
      registers,
      async collect() {
        this.set((await sources.outbox()).failed);
      },
    });
    if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'legguard_' });
  }

  /** Counts one timeline entry. */
  observe(e: TimelineEntry): void {
    switch (e.kind) {
      case 'latency':
        this.latency.observe({ cause: e.cause }, e.latencyMs / 1000);
        return;
      case 'detection':
        this.detections.inc({ cause: e.detection.cause });
        return;
      case 'order-sent':
        this.orders.inc({ purpose: e.order.request.purpose, status: 'sent' });
        return;
      case 'order-update':
        this.orders.inc({ purpose: e.order.request.purpose, status: e.status });
        if (e.status === 'rejected') this.rejects.inc({ purpose: e.order.request.purpose });
        return;
      case 'gate-refused':
        this.gateRefusals.inc();
        return;
      case 'reconciled':
        this.reconciliations.inc();
        this.reconcileDuration.observe({ reason: reasonLabel(e.reason) }, e.durationMs / 1000);
        this.discrepancies.inc(e.discrepancies.length);
        return;
      case 'alert':
        this.alerts.inc({ severity: e.alert.severity });
        return;
      case 'decision':
        if (isRiskRuleName(e.decision.rule)) this.riskFlags.inc({ rule: e.decision.rule, action: e.decision.action });
        return;
      default:
        return;
    }
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
