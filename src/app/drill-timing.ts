import type { GuardConfig } from '../engine/guard-config.js';

/**
 * The least real time, in ms, each kind of setting must stand for in a drill (`legguard run --clock broker:<speed>`):
 * - `reply`: windows that wait for the broker to answer over the wire (a fill after an order, the executions after
 *   a status, the stock report after an option's): a round trip and the guard's own step take milliseconds of real
 *   time, which at x72000 is more than a minute of broker time. A 10 s correlation window would be 0.14 ms there
 *   and close before the executions it waits for could arrive, and a 15 s fill timeout would cancel orders that had
 *   already filled.
 * - `reconcile`: a reconciliation is three requests through the IB adapter's pacer (40 messages a real second); due
 *   every 60 s of broker time it would be due every 0.8 ms, and the guard would do nothing else.
 * - `rules`: rules need no broker round trip, but a pass a minute of broker time would be over a thousand a second.
 * - `reconnect`: the IB adapter gets a dropped socket back through its backoff (a second or more of real time), so a
 *   link-down alert due after two minutes of broker time would fire during every routine reconnect of a drill.
 */
export const DRILL_REAL_FLOORS_MS = { reply: 100, reconcile: 250, rules: 50, reconnect: 5000 } as const;

export interface DrillTiming {
  readonly config: GuardConfig;
  /** One line per raised setting, for the log: `guard.fillTimeoutMs 15000 -> 7200000`. */
  readonly raised: readonly string[];
}

/**
 * The guard's settings for a drill at `speed` times real time: every window that stands for a real latency, and
 * every periodic pass, raised (never lowered) to at least its real floor times the speed. At speed 1 (a guard on
 * TWS's own clock) nothing changes. Decisions do not depend on these settings where the broker answers within them;
 * what they change is only how long the guard waits, in broker time, for what real time makes slow.
 *
 * @example
 *   drillTiming(config, 7200).config.fillTimeoutMs // 720000: 100 ms of real time at x7200
 */
export function drillTiming(config: GuardConfig, speed: number): DrillTiming {
  if (!(speed > 1)) return { config, raised: [] };
  const raised: string[] = [];
  const floor = (key: keyof GuardConfig, value: number, realMs: number): number => {
    const least = Math.ceil(realMs * speed);
    if (value >= least) return value;
    raised.push(`guard.${key} ${value} -> ${least} (${realMs} ms of real time at x${speed})`);
    return least;
  };
  const f = DRILL_REAL_FLOORS_MS;
  return {
    config: {
      ...config,
      correlationWindowMs: floor('correlationWindowMs', config.correlationWindowMs, f.reply),
      pairingWindowMs: floor('pairingWindowMs', config.pairingWindowMs, f.reply),
      fillTimeoutMs: floor('fillTimeoutMs', config.fillTimeoutMs, f.reply),
      reconcileIntervalMs: floor('reconcileIntervalMs', config.reconcileIntervalMs, f.reconcile),
      ruleIntervalMs: floor('ruleIntervalMs', config.ruleIntervalMs, f.rules),
      brokerDownAlertMs: floor('brokerDownAlertMs', config.brokerDownAlertMs, f.reconnect),
    },
    raised,
  };
}
