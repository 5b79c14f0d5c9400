import { Redactor } from '../adapters/alerts/redactor.js';
import { configSecrets } from '../app/config-secrets.js';
import { storeOptions, type LegguardConfig } from '../app/config.js';
import { describeStore } from '../app/store-description.js';
import type { AccountId } from '../core/ids.js';
import type { GuardEngine, LogLevel } from '../engine/guard-engine.js';
import type { TimelineEntry } from '../engine/timeline.js';
import type { Clock } from '../ports/clock.js';
import type { StorePort } from '../ports/store.js';
import { guardEdgeApi, sortedGuards, type RunningGuard } from './guard-edge-api.js';
import { GuardMetrics } from './guard-metrics.js';
import { startHttpEdge, type HttpEdge } from './http-edge.js';
import type { ListenAddress } from './listen-address.js';

export type { RunningGuard } from './guard-edge-api.js';

/** A guard as the metrics read it: its account, its engine (read at each scrape: a restart is a new one). */
type MetricGuard = { readonly account: AccountId; readonly engine: GuardEngine; readonly onTimeline?: (fn: (entry: TimelineEntry) => void) => () => void };

/** Metrics with no account yet, for a daemon that feeds each account's timeline from before its engine starts. */
export function newGuardMetrics(): GuardMetrics {
  return new GuardMetrics();
}

/** Adds each guard's scrape-time gauges (connection, strategies, trading state, open orders, outbox) to `metrics`. */
export function trackGuards(metrics: GuardMetrics, guards: readonly MetricGuard[], store: StorePort): void {
  for (const g of guards) {
    const account = g.account;
    metrics.track(account, {
      connected: () => g.engine.isConnected,
      strategyStates: () => [...g.engine.strategies.values()].map((s) => s.state),
      tradingState: () => g.engine.tradingState,
      openOrders: () => g.engine.openOrderCount(),
      outbox: async () => {
        const o = await store.outboxSummary(account);
        return { backlog: o.channels.reduce((n, c) => n + c.pending, 0), failed: o.channels.reduce((n, c) => n + c.dead - c.skipped, 0) };
      },
    });
  }
}

/**
 * The metrics of guards already running, on one registry, each account's series labelled with it, counting each
 * timeline from now on (the guard's own, or its engine's). The daemon instead counts from before each engine starts
 * (`newGuardMetrics`, `trackGuards`), so that start-up detections count. The daemon loads this module only when an HTTP
 * edge is asked for: a guard that serves nothing loads no HTTP or metrics code.
 */
export function guardMetrics(guards: readonly MetricGuard[], store: StorePort): GuardMetrics {
  const metrics = new GuardMetrics();
  trackGuards(metrics, guards, store);
  for (const g of guards) (g.onTimeline ?? ((fn) => g.engine.onTimeline(fn)))((t) => metrics.observe(g.account, t));
  return metrics;
}

export interface GuardEdgeOptions {
  readonly http: { readonly address: ListenAddress; readonly token: string | null; readonly tokenEnv: string };
  /** Every account the process guards (one element for one account); the edge serves them all. */
  readonly guards: readonly RunningGuard[];
  readonly store: StorePort;
  readonly config: LegguardConfig;
  readonly env: NodeJS.ProcessEnv;
  readonly real: Clock;
  readonly metrics: GuardMetrics;
  readonly log: (level: LogLevel, text: string) => void;
}

/** Starts the HTTP edge over the running guards; the token, channel secrets and the database password never leave it. */
export async function startGuardEdge(o: GuardEdgeOptions): Promise<HttpEdge> {
  const h = o.http;
  const guards = sortedGuards(o.guards);
  const redactor = new Redactor([...configSecrets(o.config, o.env), h.token]);
  const edge = await startHttpEdge({
    address: h.address,
    token: h.token,
    tokenEnv: h.tokenEnv,
    redact: (text) => redactor.redact(text),
    log: (level, text) => o.log(level, redactor.redact(text)),
    api: guardEdgeApi({ guards, store: o.store, config: o.config, storeName: describeStore(storeOptions(o.config)), real: o.real, metrics: o.metrics }),
  });
  const which = guards.length === 1 ? '' : ` for ${guards.length} accounts (${guards.map((g) => g.account).join(', ')}; ?account= selects one)`;
  o.log(
    'info',
    `http: dashboard on ${edge.url}/${which} (API /api/status, /api/events, /healthz, /metrics; mutations ${h.token === null ? `off: no ${h.tokenEnv}` : `need the bearer token in ${h.tokenEnv}`})`,
  );
  return edge;
}
