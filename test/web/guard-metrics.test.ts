// /metrics over the guard's metrics, parsed by a strict Prometheus text-format parser (test/support/prometheus-text.ts): after replays of the seed scenarios,
// the detection-to-order latency histogram counts exactly the detections (one per incident), and the other families
// say what the replays did.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Redactor } from '../../src/adapters/alerts/redactor.js';
import { loadScenario } from '../../src/adapters/sim/load-scenario.js';
import { MemoryStore } from '../../src/adapters/store/memory-store.js';
import { replay } from '../../src/app/replay.js';
import type { TimelineEntry } from '../../src/engine/timeline.js';
import type { EdgeApi } from '../../src/web/edge-api.js';
import { GuardMetrics } from '../../src/web/guard-metrics.js';
import { guardMetrics } from '../../src/web/guard-edge.js';
import { startHttpEdge } from '../../src/web/http-edge.js';
import { histogramCount, parseMetrics, sampleValue, sumOf } from '../support/prometheus-text.js';
import { CONDOR_ACCOUNT, replayAs, SCENARIO_FILES, SPREAD_ACCOUNT } from '../support/two-account-record.js';

const SCENARIOS = ['scenarios/iron-condor-put-assigned.yaml', 'scenarios/assignment-before-time-exit.yaml', 'scenarios/put-spread-short-assigned-long-exercised.yaml'];
/** Closed before the ex-date by the ex-dividend rule: a risk flag, no detection. */
const FLAGGED = 'scenarios/short-call-closed-before-ex-dividend.yaml';

test('the latency histogram counts the detections; strategies, orders and trading state as the replays left them', async () => {
  const states = new Map<string, string>();
  const metrics = new GuardMetrics();
  metrics.track('DU0000001', {
    connected: () => true,
    strategyStates: () => states.values(),
    tradingState: () => 'ACTIVE',
    openOrders: () => 0,
    outbox: () => Promise.resolve({ backlog: 2, failed: 1 }),
  });
  let detections = 0;
  let sent = 0;
  let flags = 0;
  let reconciliations = 0;
  let discrepancies = 0;
  for (const file of [...SCENARIOS, FLAGGED]) {
    const store = new MemoryStore();
    await store.init();
    try {
      const timeline: TimelineEntry[] = [];
      const r = await replay({ scenario: await loadScenario(file), store, onTimeline: (e) => (timeline.push(e), metrics.observe('DU0000001', e)) });
      // Every incident of the assignment scenarios reached its orders; the flagged one's only detection (if any) is
      // its own close expiring, with nothing sent for it.
      if (file !== FLAGGED) assert.ok(r.report.detections.every((d) => d.latencyMs !== null), file);
      detections += r.report.detections.filter((d) => d.latencyMs !== null).length;
      flags += r.report.risks.length;
      sent += timeline.filter((e) => e.kind === 'order-sent').length;
      for (const e of timeline) {
        if (e.kind !== 'reconciled') continue;
        reconciliations++;
        discrepancies += e.discrepancies.length;
      }
      for (const [id, s] of r.engine.strategies) states.set(`${file}:${id}`, s.state);
    } finally {
      await store.close();
    }
  }
  assert.ok(detections >= SCENARIOS.length, `each scenario detects its assignment (${detections})`);

  const api: EdgeApi = {
    mode: 'guard',
    accounts: () => Promise.resolve([]),
    summaries: () => Promise.resolve([]),
    status: () => Promise.resolve({}),
    payoff: () => Promise.resolve({ strategies: [] }),
    history: () => Promise.resolve({ entries: [] }),
    health: () => Promise.reject(new Error('not used')),
    metrics: async () => ({ contentType: metrics.contentType, body: await metrics.text() }),
    subscribe: () => () => undefined,
    ack: () => Promise.reject(new Error('not used')),
    setTradingState: () => Promise.reject(new Error('not used')),
  };
  const edge = await startHttpEdge({ address: { host: '127.0.0.1', port: 0 }, token: null, tokenEnv: 'T', api, redact: (t) => new Redactor([]).redact(t), log: () => undefined });
  try {
    const res = await fetch(`${edge.url}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const m = parseMetrics(await res.text());
    assert.equal(histogramCount(m.get('legguard_detection_to_order_seconds')), detections, 'one latency per detection');
    assert.ok(sampleValue(m.get('legguard_detections_total'), { cause: 'assignment' }) > 0);
    assert.equal(sampleValue(m.get('legguard_strategies'), { state: 'CLOSED' }), states.size, 'every strategy CLOSED');
    assert.equal(sampleValue(m.get('legguard_strategies'), { state: 'BROKEN' }), 0);
    assert.equal(sumOf(m.get('legguard_orders_total'), { status: 'sent' }), sent, 'orders sent, by purpose');
    assert.equal(sumOf(m.get('legguard_detections_total')) >= detections, true);
    assert.equal(sampleValue(m.get('legguard_trading_state'), { state: 'ACTIVE' }), 1);
    assert.equal(sampleValue(m.get('legguard_trading_state'), { state: 'HALTED' }), 0);
    assert.equal(sampleValue(m.get('legguard_broker_connected')), 1);
    assert.equal(sampleValue(m.get('legguard_alert_outbox_backlog')), 2);
    assert.equal(sampleValue(m.get('legguard_alert_delivery_failures')), 1);
    assert.ok(sampleValue(m.get('legguard_alerts_total'), { severity: 'critical' }) >= SCENARIOS.length);
    assert.ok(m.has('legguard_process_cpu_seconds_total'), 'default process metrics');
    assert.ok(reconciliations >= SCENARIOS.length, `each replay reconciles at start (${reconciliations})`);
    assert.equal(histogramCount(m.get('legguard_reconciliation_duration_seconds')), reconciliations, 'one duration per reconciliation pass');
    const startPasses = m.get('legguard_reconciliation_duration_seconds')!.samples.filter((s) => s.name.endsWith('_count') && s.labels.reason === 'start');
    assert.equal(startPasses.length, 1);
    assert.ok(startPasses[0]!.value >= SCENARIOS.length + 1, 'each replay\'s start-up pass, labelled start');
    assert.equal(sampleValue(m.get('legguard_reconciliations_total')), reconciliations);
    assert.equal(sampleValue(m.get('legguard_reconciliation_discrepancies_total')), discrepancies, 'discrepancies counted as the passes reported them');
    assert.ok(flags > 0);
    assert.equal(sumOf(m.get('legguard_risk_flags_total')), flags, 'every risk flag counted');
  } finally {
    await edge.close();
  }
});

test('two guards, one registry: every series labelled with its account, counted apart, none colliding', async () => {
  const store = new MemoryStore();
  await store.init();
  try {
    // Two accounts' replays into one store; their engines, stopped, stand for two running guards.
    const condor = await replayAs(SCENARIO_FILES.condor, CONDOR_ACCOUNT, store);
    const spread = await replayAs(SCENARIO_FILES.spread, SPREAD_ACCOUNT, store);
    const metrics = guardMetrics(
      [
        { account: CONDOR_ACCOUNT, engine: condor.engine },
        { account: SPREAD_ACCOUNT, engine: spread.engine },
      ],
      store,
    );
    assert.deepEqual(metrics.accounts, [CONDOR_ACCOUNT, SPREAD_ACCOUNT]);
    assert.throws(() => metrics.track(CONDOR_ACCOUNT, { connected: () => true, strategyStates: () => [], tradingState: () => 'ACTIVE', openOrders: () => 0, outbox: () => Promise.resolve({ backlog: 0, failed: 0 }) }), /tracked twice/);
    // The timelines again, into the shared registry (guardMetrics subscribed after these engines had run).
    for (const e of condor.timeline) metrics.observe(CONDOR_ACCOUNT, e);
    for (const e of spread.timeline) metrics.observe(SPREAD_ACCOUNT, e);
    const m = parseMetrics(await metrics.text());
    const by = (r: typeof condor) => ({
      detections: r.report.detections.filter((d) => d.latencyMs !== null).length,
      sent: r.timeline.filter((e) => e.kind === 'order-sent').length,
      strategies: r.engine.strategies.size,
    });
    for (const [account, r] of [[CONDOR_ACCOUNT, condor], [SPREAD_ACCOUNT, spread]] as const) {
      const want = by(r);
      assert.ok(want.detections > 0, `${account} detected its assignment`);
      const latency = m.get('legguard_detection_to_order_seconds')!;
      const count = latency.samples.filter((s) => s.name.endsWith('_count') && s.labels.account === account).reduce((n, s) => n + s.value, 0);
      assert.equal(count, want.detections, `${account}: its own detections in its latency histogram`);
      assert.equal(sumOf(m.get('legguard_orders_total'), { account, status: 'sent' }), want.sent, `${account}: its own orders`);
      assert.equal(sumOf(m.get('legguard_strategies'), { account }), want.strategies, `${account}: its own strategies`);
      assert.equal(sampleValue(m.get('legguard_trading_state'), { account, state: 'ACTIVE' }), 1);
      assert.equal(sampleValue(m.get('legguard_alert_outbox_backlog'), { account }), 0);
      assert.equal(sampleValue(m.get('legguard_gate_refusals_total'), { account }), 0, 'a counter shows 0 for an account before its first');
      assert.equal(sampleValue(m.get('legguard_broker_connected'), { account }), condor.engine.isConnected ? 1 : 0);
    }
    // Every family but the process's own carries the account on every sample.
    for (const [name, f] of m) {
      if (name.startsWith('legguard_process_') || name.startsWith('legguard_nodejs_')) continue;
      for (const s of f.samples) assert.ok(s.labels.account === CONDOR_ACCOUNT || s.labels.account === SPREAD_ACCOUNT, `${s.name} ${JSON.stringify(s.labels)}`);
    }
  } finally {
    await store.close();
  }
});

test('the test parser is strict: untyped samples, bad numbers, bad escapes and stray lines are refused', () => {
  const ok = parseMetrics('# HELP h x\n# TYPE h histogram\nh_bucket{le="1",cause="a"} 2\nh_bucket{le="+Inf",cause="a"} 3\nh_sum{cause="a"} 1.5\nh_count{cause="a"} 3\n');
  assert.equal(histogramCount(ok.get('h')), 3);
  assert.throws(() => parseMetrics('x 1\n'), /belongs to no TYPE-declared family/);
  assert.throws(() => parseMetrics('# TYPE x gauge\nx one\n'), /not a number/);
  assert.throws(() => parseMetrics('# TYPE x gauge\nx{a="\\q"} 1\n'), /bad escape/);
  assert.throws(() => parseMetrics('# TYPE x gauge\nx{a=1} 1\n'), /bad labels/);
  assert.throws(() => parseMetrics('# TYPE x gauge\n# TYPE x gauge\n'), /declared twice/);
  assert.throws(() => histogramCount(parseMetrics('# TYPE h histogram\nh_bucket{le="+Inf"} 3\nh_count 2\n').get('h')), /_count 2 but \+Inf buckets 3/);
});
