import { test } from 'node:test';
import assert from 'node:assert/strict';
import { drillTiming } from '../../src/app/drill-timing.js';
import { DEFAULT_GUARD_CONFIG } from '../../src/engine/guard-config.js';

test('a drill raises waits that stand for real latency to their real floor times the speed, and nothing else', () => {
  const { config, raised } = drillTiming(DEFAULT_GUARD_CONFIG, 7200);
  assert.equal(config.correlationWindowMs, 720_000, '100 ms of real time');
  assert.equal(config.pairingWindowMs, 720_000);
  assert.equal(config.fillTimeoutMs, 720_000);
  assert.equal(config.reconcileIntervalMs, 1_800_000, '250 ms of real time');
  assert.equal(config.ruleIntervalMs, 360_000, '50 ms of real time');
  assert.deepEqual({ ...config, correlationWindowMs: 0, pairingWindowMs: 0, fillTimeoutMs: 0, reconcileIntervalMs: 0, ruleIntervalMs: 0, brokerDownAlertMs: 0 }, {
    ...DEFAULT_GUARD_CONFIG,
    correlationWindowMs: 0,
    pairingWindowMs: 0,
    fillTimeoutMs: 0,
    reconcileIntervalMs: 0,
    ruleIntervalMs: 0,
    brokerDownAlertMs: 0,
  });
  assert.equal(raised.length, 6);
  assert.equal(config.brokerDownAlertMs, 36_000_000, '5 s of real time');
  assert.ok(raised.includes('guard.fillTimeoutMs 15000 -> 720000 (100 ms of real time at x7200)'), raised.join('\n'));
});

test('a setting already long enough is kept; at speed 1 nothing changes', () => {
  const long = { ...DEFAULT_GUARD_CONFIG, fillTimeoutMs: 3_600_000 };
  assert.equal(drillTiming(long, 7200).config.fillTimeoutMs, 3_600_000);
  assert.ok(!drillTiming(long, 7200).raised.some((r) => r.includes('fillTimeoutMs')), 'not reported as raised');
  const same = drillTiming(DEFAULT_GUARD_CONFIG, 1);
  assert.equal(same.config, DEFAULT_GUARD_CONFIG);
  assert.deepEqual(same.raised, []);
});
