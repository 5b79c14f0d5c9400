import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { LegguardError } from '../core/errors.js';
import type { TradingState } from '../core/gate.js';
import { isRiskRuleName } from '../core/rules/early-assignment-rule.js';
import { STRATEGY_STATES } from '../core/strategy-state.js';
import type { TimelineEntry } from '../engine/timeline.js';

/** What the metrics read of one account when scraped (the rest they count from its timeline as it happens). */
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
 * The guard's Prometheus metrics (prom-client), on their own registry, for every account the process guards (or the
 * store holds, read-only): counts and the detection-to-order latency from each account's timeline as it happens,
 * states read at scrape time, and the process's default metrics. Every name starts `legguard_`; every series but the
 * process's own carries `account`, so one `/metrics` serves several accounts without two of them writing one series:
 * `legguard_strategies{account="DU1",state="OPEN"} 3`. `/metrics` serves `text()`.
 *
 * @example
 * const m = new GuardMetrics();
 * m.track('DU1', sourcesOfDu1);
 * engine.onTimeline((e) => m.observe('DU1', e));
 */
export class GuardMetrics {
  readonly registry = new Registry();
  /** Each tracked account's scrape-time sources, in the order tracked. */
  private readonly sources = new Map<string, MetricSources>();
  private readonly latency: Histogram<'account' | 'cause'>;
  private readonly detections: Counter<'account' | 'cause'>;
  private readonly orders: Counter<'account' | 'purpose' | 'status'>;
  private readonly rejects: Counter<'account' | 'purpose'>;
  private readonly gateRefusals: Counter<'account'>;
  private readonly reconciliations: Counter<'account'>;
  private readonly reconcileDuration: Histogram<'account' | 'reason'>;
  private readonly discrepancies: Counter<'account'>;
  private readonly alerts: Counter<'account' | 'severity'>;
  private readonly riskFlags: Counter<'account' | 'rule' | 'action'>;

  constructor(opts: { readonly defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    const sources = this.sources;
    this.latency = new Histogram({
      name: 'legguard_detection_to_order_seconds',
      help: 'Real time from a broker event reaching the guard to the closing orders going out (or being planned), per incident',
      labelNames: ['account', 'cause'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.detections = new Counter({ name: 'legguard_detections_total', help: 'Changes the detector attributed, by cause', labelNames: ['account', 'cause'], registers });
    this.orders = new Counter({
      name: 'legguard_orders_total',
      help: 'Order events by purpose (emergency, normal) and status: sent, then each status the broker reported',
      labelNames: ['account', 'purpose', 'status'],
      registers,
    });
    this.rejects = new Counter({ name: 'legguard_order_rejects_total', help: 'Orders the broker rejected', labelNames: ['account', 'purpose'], registers });
    this.gateRefusals = new Counter({ name: 'legguard_gate_refusals_total', help: 'Orders the pre-trade gate refused', labelNames: ['account'], registers });
    this.reconciliations = new Counter({ name: 'legguard_reconciliations_total', help: 'Reconciliation passes with the broker', labelNames: ['account'], registers });
    this.reconcileDuration = new Histogram({
      name: 'legguard_reconciliation_duration_seconds',
      help: "Real time a reconciliation pass took, from asking the broker for its snapshot to the pass applied, by reason (start, reconnect, interval ...)",
      labelNames: ['account', 'reason'],
      buckets: RECONCILE_BUCKETS,
      registers,
    });
    this.discrepancies = new Counter({ name: 'legguard_reconciliation_discrepancies_total', help: 'Discrepancies reconciliation found', labelNames: ['account'], registers });
    this.alerts = new Counter({ name: 'legguard_alerts_total', help: 'Alerts raised, by severity', labelNames: ['account', 'severity'], registers });
    this.riskFlags = new Counter({
      name: 'legguard_risk_flags_total',
      help: 'Early-assignment flags raised, by rule and what was decided (CLOSE, ALERT_ONLY)',
      labelNames: ['account', 'rule', 'action'],
      registers,
    });
    new Gauge({
      name: 'legguard_broker_connected',
      help: '1 while connected to TWS / IB Gateway',
      labelNames: ['account'],
      registers,
      collect() {
        for (const [account, s] of sources) this.set({ account }, s.connected() ? 1 : 0);
      },
    });
    new Gauge({
      name: 'legguard_strategies',
      help: 'Strategies by state',
      labelNames: ['account', 'state'],
      registers,
      collect() {
        for (const [account, src] of sources) {
          const n = new Map<string, number>(STRATEGY_STATES.map((s) => [s, 0]));
          for (const s of src.strategyStates()) n.set(s, (n.get(s) ?? 0) + 1);
          for (const [state, v] of n) this.set({ account, state }, v);
        }
      },
    });
    new Gauge({
      name: 'legguard_trading_state',
      help: '1 for the account trading state in force (ACTIVE, REDUCING, HALTED), 0 for the others',
      labelNames: ['account', 'state'],
      registers,
      collect() {
        for (const [account, src] of sources) {
          const now = src.tradingState();
          for (const state of TRADING_STATES) this.set({ account, state }, state === now ? 1 : 0);
        }
      },
    });
    new Gauge({
      name: 'legguard_open_orders',
      help: 'Orders the guard tracks as not yet filled, cancelled or rejected',
      labelNames: ['account'],
      registers,
      collect() {
        for (const [account, s] of sources) this.set({ account }, s.openOrders());
      },
    });
    new Gauge({
      name: 'legguard_alert_outbox_backlog',
      help: 'Alert deliveries waiting for a retry',
      labelNames: ['account'],
      registers,
      async collect() {
        for (const [account, s] of sources) this.set({ account }, (await s.outbox()).backlog);
      },
    });
    new Gauge({
      name: 'legguard_alert_delivery_failures',
      help: 'Alert deliveries given up after failing (skips not counted)',
      labelNames: ['account'],
      registers,
      async collect() {
        for (const [account, s] of sources) this.set({ account }, (await s.outbox()).failed);
      },
    });
    if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'legguard_' });
  }

  /**
   * Adds an account: its gauges are read from `sources` at each scrape, and its counters start at zero (so a scrape
   * shows `legguard_gate_refusals_total{account="DU1"} 0` before the first refusal). An account is tracked once.
   */
  track(account: string, sources: MetricSources): void {
    if (this.sources.has(account)) throw new LegguardError('INTERNAL', `metrics: account ${account} is tracked twice`);
    this.sources.set(account, sources);
    for (const c of [this.gateRefusals, this.reconciliations, this.discrepancies]) c.inc({ account }, 0);
  }

  /** The accounts tracked, in the order tracked. */
  get accounts(): readonly string[] {
    return [...this.sources.keys()];
  }

  /** Counts one timeline entry of `account`. */
  observe(account: string, e: TimelineEntry): void {
    switch (e.kind) {
      case 'latency':
        this.latency.observe({ account, cause: e.cause }, e.latencyMs / 1000);
        return;
      case 'detection':
        this.detections.inc({ account, cause: e.detection.cause });
        return;
      case 'order-sent':
        this.orders.inc({ account, purpose: e.order.request.purpose, status: 'sent' });
        return;
      case 'order-update':
        this.orders.inc({ account, purpose: e.order.request.purpose, status: e.status });
        if (e.status === 'rejected') this.rejects.inc({ account, purpose: e.order.request.purpose });
        return;
      case 'gate-refused':
        this.gateRefusals.inc({ account });
        return;
      case 'reconciled':
        this.reconciliations.inc({ account });
        this.reconcileDuration.observe({ account, reason: reasonLabel(e.reason) }, e.durationMs / 1000);
        this.discrepancies.inc({ account }, e.discrepancies.length);
        return;
      case 'alert':
        this.alerts.inc({ account, severity: e.alert.severity });
        return;
      case 'decision':
        if (isRiskRuleName(e.decision.rule)) this.riskFlags.inc({ account, rule: e.decision.rule, action: e.decision.action });
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
