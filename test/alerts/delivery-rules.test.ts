import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough, Writable } from 'node:stream';
import fc from 'fast-check';
import { IncidentId } from '../../src/core/ids.js';
import { EpochMs } from '../../src/core/quantity.js';
import { ConsoleChannel } from '../../src/adapters/alerts/console-channel.js';
import { RateWindow } from '../../src/adapters/alerts/rate-window.js';
import {
  aboutChannel,
  channelFailingAlert,
  heartbeatAlert,
  nextHeartbeatAt,
  repeatAlert,
  repeatNumber,
  systemAlertKind,
} from '../../src/adapters/alerts/system-alerts.js';
import { sampleAlert, T0 } from './sample-alert.js';

const MIN = 60_000;

describe('RateWindow', () => {
  test('at most max in any window; reopens when the oldest send leaves it', () => {
    const w = new RateWindow(3, 60_000);
    assert.equal(w.take(0), true);
    assert.equal(w.take(10_000), true);
    assert.equal(w.take(20_000), true);
    assert.equal(w.take(30_000), false);
    assert.equal(w.available(30_000), 0);
    assert.equal(w.nextFreeAt(30_000), 60_000);
    assert.equal(w.take(59_999), false);
    assert.equal(w.take(60_000), true, 'the window is (t - 60 s, t]: the send at 0 has left it');
    assert.equal(w.available(60_000), 0);
    assert.equal(w.available(70_000), 1);
  });
  test('property: no window of perMs ever holds more than max granted sends', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 1000 }), fc.array(fc.integer({ min: 0, max: 300 }), { maxLength: 60 }), (max, perMs, gaps) => {
        const w = new RateWindow(max, perMs);
        const granted: number[] = [];
        let t = 0;
        for (const g of gaps) {
          t += g;
          if (w.take(t)) granted.push(t);
        }
        return granted.every((s, i) => granted.filter((x) => x > s - perMs && x <= s).length <= max && i >= 0);
      }),
    );
  });
});

describe('system alerts', () => {
  const first = sampleAlert();
  const inc = { incidentId: first.incidentId!, first, lastAt: first.at, keys: [first.key] };

  test('keys tell their kind and, for channel reports, the channel', () => {
    assert.equal(systemAlertKind('legguard:heartbeat:2026-01-28'), 'heartbeat');
    assert.equal(systemAlertKind('legguard:repeat:3:assign:x'), 'repeat');
    assert.equal(systemAlertKind('assign:ic-spy:1'), null);
    assert.equal(systemAlertKind('legguard:other:1'), null);
    const f = channelFailingAlert('phone', 'telegram chat 1', 'assign:ic-spy:1', 3, 'HTTP 500', T0);
    assert.equal(f.key, 'legguard:channel-failing:phone:assign:ic-spy:1');
    assert.equal(aboutChannel(f.key), 'phone');
    assert.equal(aboutChannel('legguard:heartbeat:2026-01-28'), null);
    assert.equal(repeatNumber('legguard:repeat:3:assign:x'), 3);
    assert.equal(repeatNumber('assign:x'), null);
    assert.equal(repeatNumber('legguard:repeat:x:assign:x'), null);
  });

  test('a repeat is due once the period has passed since the latest alert, numbered one past the repeats already queued', () => {
    assert.equal(repeatAlert(inc, T0 + 14 * MIN, 15 * MIN, null), null);
    const r1 = repeatAlert(inc, T0 + 15 * MIN, 15 * MIN, null)!;
    assert.equal(r1.key, `legguard:repeat:1:${first.key}`);
    assert.equal(r1.severity, 'critical');
    assert.equal(r1.incidentId, first.incidentId);
    assert.equal(r1.at, T0 + 15 * MIN);
    assert.match(r1.title, /^NOT ACKNOWLEDGED: ASSIGNMENT/);
    assert.match(r1.text, /First raised 2026-01-28 02:30:05 ET; this is repeat 1\. It repeats every 15 min until acknowledged\./);
    assert.equal(r1.facts.repeat, 1);
    // The same incident computed again before the repeat is queued (another pass, a restart) gives the same key.
    assert.equal(repeatAlert(inc, T0 + 15 * MIN + 30_000, 15 * MIN, null)!.key, r1.key);
    const after1 = { ...inc, lastAt: r1.at, keys: [first.key, r1.key] };
    // Not again until a period after the latest alert.
    assert.equal(repeatAlert(after1, T0 + 29 * MIN, 15 * MIN, null), null);
    assert.equal(repeatAlert(after1, T0 + 30 * MIN, 15 * MIN, null)!.key, `legguard:repeat:2:${first.key}`);
    // Read on a clock far ahead of the record (a drill's record, a guard down for days): the next repeat, not the
    // number of periods since the first alert.
    const far = repeatAlert(after1, T0 + 300 * 24 * 60 * MIN, 15 * MIN, null)!;
    assert.equal(far.key, `legguard:repeat:2:${first.key}`);
    assert.match(far.text, /this is repeat 2\./);
    // Numbered past the highest repeat even where some are missing (an older guard numbered them by periods).
    assert.equal(repeatAlert({ ...after1, keys: [first.key, r1.key, `legguard:repeat:5:${first.key}`] }, T0 + 90 * MIN, 15 * MIN, null)!.key, `legguard:repeat:6:${first.key}`);
    // On a clock behind the record (not yet synced with a drill's gateway): nothing.
    assert.equal(repeatAlert(after1, T0 - 300 * 24 * 60 * MIN, 15 * MIN, null), null);
    // maxRepeats: none past the limit.
    const after2 = { ...after1, lastAt: EpochMs.unsafe(T0 + 30 * MIN), keys: [...after1.keys, `legguard:repeat:2:${first.key}`] };
    assert.equal(repeatAlert(after2, T0 + 45 * MIN, 15 * MIN, 2), null);
    assert.equal(repeatAlert(after2, T0 + 45 * MIN, 15 * MIN, 3)!.key, `legguard:repeat:3:${first.key}`);
  });

  test('heartbeat time is New York wall-clock time across daylight saving', () => {
    // 2026-03-08: clocks go forward in New York. 08:00 EST is 13:00Z, 08:00 EDT is 12:00Z.
    const sat = Date.parse('2026-03-07T14:00:00Z'); // Sat 09:00 EST, after today's heartbeat
    assert.equal(new Date(nextHeartbeatAt(sat, '08:00')).toISOString(), '2026-03-08T12:00:00.000Z');
    const early = Date.parse('2026-03-07T12:59:59Z'); // Sat 07:59:59 EST
    assert.equal(new Date(nextHeartbeatAt(early, '08:00')).toISOString(), '2026-03-07T13:00:00.000Z');
    // Exactly at the time: the next one is tomorrow (strictly after).
    assert.equal(new Date(nextHeartbeatAt(Date.parse('2026-03-07T13:00:00Z'), '08:00')).toISOString(), '2026-03-08T12:00:00.000Z');
    // Late evening in New York is already the next day in UTC.
    assert.equal(new Date(nextHeartbeatAt(Date.parse('2026-01-29T03:00:00Z'), '23:30')).toISOString(), '2026-01-29T04:30:00.000Z');
  });

  test('heartbeat: keyed by New York date, says what is waiting', () => {
    const h = heartbeatAlert(Date.parse('2026-01-29T03:00:00Z'), { channels: ['console', 'phone'], failing: ['mail'], unacked: [IncidentId.unsafe('i-1')] });
    assert.equal(h.key, 'legguard:heartbeat:2026-01-28');
    assert.equal(h.severity, 'info');
    assert.equal(h.title, 'legguard heartbeat 2026-01-28: 1 unacknowledged');
    assert.match(h.text, /reach you on: console, phone\.\nFailing channels: mail\.\n1 critical incident\(s\) not acknowledged: i-1\./);
  });
});

describe('console channel', () => {
  test('writes a header line and the indented body; plain without colour', async () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (c: Buffer) => (text += c.toString()));
    await new ConsoleChannel({ name: 'console', stream: out, color: false }).send(sampleAlert());
    assert.match(text, /^2026-01-28 02:30:05 ET CRITICAL ASSIGNMENT: SPY 2026-01-30 440 P x2 on ic-spy\n {4}ic-spy broke: /);
    assert.match(text, /\n {4}incident: ic-spy:assignment:1769585405000\n/);
    assert.ok(!text.includes('\x1b'));
  });

  test('a stream that fails to write is ALERT_DELIVERY_FAILED', async () => {
    const broken = new Writable({
      write(_c, _e, cb) {
        cb(new Error('EPIPE'));
      },
    });
    broken.on('error', () => undefined);
    await assert.rejects(new ConsoleChannel({ name: 'console', stream: broken, color: false }).send(sampleAlert()), /channel "console": cannot write to a stream: EPIPE/);
  });
});
