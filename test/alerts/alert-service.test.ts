import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { AccountId, IncidentId, StrategyId } from '../../src/core/ids.js';
import { LegguardError } from '../../src/core/errors.js';
import { EpochMs } from '../../src/core/quantity.js';
import { VirtualClock } from '../../src/adapters/clock/virtual-clock.js';
import { AlertService } from '../../src/adapters/alerts/alert-service.js';
import { parseAlertsConfig, type AlertsConfigInput } from '../../src/adapters/alerts/alerts-config.js';
import { buildChannels, type Env } from '../../src/adapters/alerts/build-channels.js';
import type { DispatchEvent } from '../../src/adapters/alerts/outbox-dispatcher.js';
import type { Alert } from '../../src/ports/alerts.js';
import type { StorePort } from '../../src/ports/store.js';
import { openStore } from '../../src/adapters/store/open-store.js';
import { deadPort, RecordingServer, type RecordedRequest } from './recording-server.js';

const ACCOUNT = AccountId.unsafe('DU1234567');
import { sampleAlert, T0 } from './sample-alert.js';

const TOKEN = '7001234567:AAE_abcdefghijklmnopqrstuvwxyz012345';
const SEC = 1000;
const MIN = 60 * SEC;

/** The alert key each request carried, whatever the channel's payload shape. */
function keyOf(r: RecordedRequest): string {
  const h = r.headers['x-legguard-alert-key'];
  if (typeof h === 'string') return decodeURIComponent(h);
  const b = JSON.parse(r.body) as { title?: string; text?: string };
  // ntfy and Telegram carry no key; the tests give each alert a title that is its key.
  const title = b.title ?? b.text?.split('\n', 1)[0]?.replace(/^\[[A-Z]+\] /, '') ?? '';
  return title;
}

function alert(key: string, over: Partial<Alert> = {}): Alert {
  return sampleAlert({ key, title: key, at: EpochMs.unsafe(T0), ...over });
}

interface Rig {
  readonly clock: VirtualClock;
  readonly store: StorePort;
  readonly service: AlertService;
  readonly events: DispatchEvent[];
  settle(): Promise<void>;
  advance(ms: number): Promise<void>;
  stop(): Promise<void>;
}

describe('alert service: delivery from the durable outbox (SQLite store, loopback servers, virtual clock)', () => {
  /** The data directory of the SQLite store (`<dir>/legguard.db`): every "process" of a test reopens the same file. */
  let dir = '';
  const hook = new RecordingServer();
  const ntfy = new RecordingServer();
  const tg = new RecordingServer();
  const rigs: Rig[] = [];

  before(async () => {
    await Promise.all([hook.start(), ntfy.start(), tg.start()]);
  });
  after(async () => {
    await Promise.all([hook.close(), ntfy.close(), tg.close()]);
  });
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'legguard-alerts-'));
    for (const s of [hook, ntfy, tg]) s.reset();
    tg.reply = () => ({ status: 200, body: '{"ok":true,"result":{}}' });
  });
  afterEach(async () => {
    for (const r of rigs.splice(0)) await r.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const env: Env = { TG_TOKEN: TOKEN, HOOK_URL: '' };

  function channels(): NonNullable<AlertsConfigInput['channels']> {
    return [
      { type: 'webhook', name: 'hook', urlEnv: 'HOOK_URL', format: 'json' },
      { type: 'ntfy', name: 'ntfy', server: ntfy.url, topic: 'lg-test' },
      { type: 'telegram', name: 'phone', tokenEnv: 'TG_TOKEN', chatId: '42', apiBase: tg.url },
    ];
  }

  async function rig(config: AlertsConfigInput, opts: { clock?: VirtualClock; start?: boolean } = {}): Promise<Rig> {
    const clock = opts.clock ?? new VirtualClock(T0);
    const store = await openStore({ dataDir: dir });
    // A 60 s poll keeps day-long virtual waits to a few thousand outbox queries.
    const cfg = parseAlertsConfig({
      startupCheck: 'off',
      heartbeat: { enabled: false },
      escalation: { enabled: false },
      ...config,
      delivery: { pollSeconds: 60, ...config.delivery },
    });
    const built = buildChannels(cfg, { env: { ...env, HOOK_URL: `${hook.url}/hooks/secret-path` }, stderr: new PassThrough() });
    const events: DispatchEvent[] = [];
    const service = new AlertService({ store, account: ACCOUNT, clock, built, config: cfg, log: (e) => events.push(e) });
    let stopped = false;
    const r: Rig = {
      clock,
      store,
      service,
      events,
      settle: () => service.idle(),
      advance: (ms) => clock.advanceTo(clock.now() + ms, () => service.idle()),
      stop: async () => {
        if (stopped) return;
        stopped = true;
        await service.close();
        await store.close();
      },
    };
    rigs.push(r);
    if (opts.start !== false) {
      await service.start();
      await service.idle();
    }
    return r;
  }

  test('a receiver failing the first N: retried with exponential backoff until delivered, once per channel', async () => {
    hook.failFirst = 2;
    ntfy.failFirst = 1;
    tg.failFirst = 3;
    tg.failWith = { status: 502, body: `bad gateway for /bot${TOKEN}/sendMessage` };
    const r = await rig({ channels: channels() });
    r.service.raise(alert('assign-1'));
    await r.settle();
    assert.deepEqual([hook.accepted.length, ntfy.accepted.length, tg.accepted.length], [0, 0, 0]);

    // Backoff 5 s, 10 s, 20 s: nothing is retried early.
    await r.advance(4.9 * SEC);
    assert.equal(hook.requests.length, 1);
    await r.advance(0.1 * SEC);
    assert.equal(hook.requests.length, 2, 'second attempt at +5 s');
    assert.equal(ntfy.accepted.length, 1, 'ntfy failed once, delivered at +5 s');
    await r.advance(10 * SEC);
    const got = (srv: RecordingServer, key: string): number => srv.accepted.filter((x) => keyOf(x) === key).length;
    assert.equal(got(hook, 'assign-1'), 1, 'third attempt at +15 s delivers');
    assert.equal(tg.requests.length, 3);
    await r.advance(20 * SEC);
    assert.equal(tg.accepted.length, 1, 'fourth attempt at +35 s delivers');

    // Nothing more, however long we wait.
    await r.advance(30 * MIN);
    assert.deepEqual([got(hook, 'assign-1'), got(ntfy, 'assign-1'), got(tg, 'assign-1')], [1, 1, 1]);
    assert.deepEqual(hook.requests.filter((x) => keyOf(x) === 'assign-1').length, 3);
    assert.deepEqual(tg.requests.length, 4);
    // Three failures in a row on "phone" crossed the threshold: reported on the others, then its recovery.
    assert.deepEqual(
      hook.accepted.map(keyOf).filter((k) => k !== 'assign-1'),
      ['legguard:channel-failing:phone:assign-1', 'legguard:channel-recovered:phone:assign-1'],
    );

    const retries = r.events.filter((e) => e.kind === 'retry' && e.channel === 'phone');
    assert.deepEqual(retries.map((e) => (e.kind === 'retry' ? e.nextAttemptAt - T0 : 0)), [5 * SEC, 15 * SEC, 35 * SEC]);
    for (const e of r.events) assert.ok(!JSON.stringify(e).includes(TOKEN), 'no event shows the bot token');
    assert.deepEqual(await r.store.dueDeliveries(ACCOUNT, ['hook', 'ntfy', 'phone'], EpochMs.unsafe(r.clock.now() + 365 * 24 * 60 * MIN), 10), []);
  });

  test('the outbox holds the redacted error and the attempt count between attempts', async () => {
    tg.down = true;
    tg.failWith = { status: 500, body: `oops /bot${TOKEN}/` };
    const r = await rig({ channels: channels().slice(2) });
    r.service.raise(alert('assign-2'));
    await r.settle();
    const due = await r.store.dueDeliveries(ACCOUNT, ['phone'], EpochMs.unsafe(r.clock.now() + 5 * SEC), 10);
    assert.equal(due.length, 1);
    assert.equal(due[0]!.attempts, 1);
    assert.match(due[0]!.lastError ?? '', /channel "phone": .* answered HTTP 500: oops \/bot\[redacted\]\//);
    assert.ok(!(due[0]!.lastError ?? '').includes(TOKEN));
    // What `status` shows: where it sends and the last error, redacted.
    const st = r.service.status().channels[0]!;
    assert.equal(st.consecutiveFailures, 1);
    assert.match(st.target, /^telegram chat 42 via http:\/\/127\.0\.0\.1:\d+\/…$/);
    assert.match(st.lastError ?? '', /oops \/bot\[redacted\]\//);
    assert.ok(!JSON.stringify(r.service.status()).includes(TOKEN));
  });

  test('deduplicated per key: raised twice and committed by the engine too, delivered once', async () => {
    const r = await rig({ channels: channels().slice(0, 1) });
    const a = alert('assign-3');
    await r.store.commit({ account: ACCOUNT, alerts: [a] });
    r.service.raise(a);
    r.service.raise(a);
    await r.settle();
    await r.advance(5 * MIN);
    assert.deepEqual(hook.accepted.map(keyOf), ['assign-3']);
  });

  test('rate limit per channel: the rest wait for the window, critical first', async () => {
    const r = await rig({ channels: [{ type: 'webhook', name: 'hook', urlEnv: 'HOOK_URL', rateLimit: { max: 2, perSeconds: 60 } }] });
    for (let i = 1; i <= 4; i++) r.service.raise(alert(`info-${i}`, { severity: 'info', at: EpochMs.unsafe(T0 + i) }));
    r.service.raise(alert('crit-5', { severity: 'critical', at: EpochMs.unsafe(T0 + 5) }));
    await r.settle();
    assert.deepEqual(hook.accepted.map(keyOf), ['crit-5', 'info-1']);
    assert.ok(r.events.some((e) => e.kind === 'rate-limited' && e.channel === 'hook'));
    await r.advance(59 * SEC);
    assert.equal(hook.accepted.length, 2, 'still inside the window');
    await r.advance(1 * SEC);
    assert.equal(hook.accepted.length, 4);
    await r.advance(60 * SEC);
    assert.deepEqual(hook.accepted.map(keyOf).sort(), ['crit-5', 'info-1', 'info-2', 'info-3', 'info-4']);
  });

  test('severity minimum per channel: below it is skipped on that channel only', async () => {
    const r = await rig({
      channels: [
        { type: 'webhook', name: 'hook', urlEnv: 'HOOK_URL' },
        { type: 'telegram', name: 'phone', tokenEnv: 'TG_TOKEN', chatId: '42', apiBase: tg.url, minSeverity: 'critical' },
      ],
    });
    r.service.raise(alert('info-1', { severity: 'info' }));
    r.service.raise(alert('warn-1', { severity: 'warning' }));
    r.service.raise(alert('crit-1', { severity: 'critical' }));
    await r.settle();
    assert.deepEqual(hook.accepted.map(keyOf).sort(), ['crit-1', 'info-1', 'warn-1']);
    assert.deepEqual(tg.accepted.map(keyOf), ['crit-1']);
    const skipped = r.events.filter((e) => e.kind === 'skipped').map((e) => (e.kind === 'skipped' ? `${e.channel}:${e.key}:${e.reason}` : ''));
    assert.deepEqual(skipped.sort(), [
      "phone:info-1:info is below this channel's minimum (critical)",
      "phone:warn-1:warning is below this channel's minimum (critical)",
    ]);
    await r.advance(10 * MIN);
    assert.equal(tg.requests.length, 1, 'skipped pairs are not retried');
  });

  test('an alert that could not be delivered before a crash is delivered after the restart, exactly once', async () => {
    hook.down = true;
    const first = await rig({ channels: channels().slice(0, 1) });
    first.service.raise(alert('crash-1'));
    await first.settle();
    assert.equal(hook.requests.length, 1);
    assert.equal(hook.accepted.length, 0);
    // The "crash": the process goes away with the delivery still owed. Closing the store is what the OS does to a
    // dead process's file; nothing is flushed that was not already committed.
    await first.stop();

    hook.down = false;
    const clock = new VirtualClock(T0 + 2 * MIN);
    const second = await rig({ channels: channels().slice(0, 1) }, { clock });
    await second.advance(1 * SEC);
    assert.deepEqual(hook.accepted.map(keyOf), ['crash-1']);
    await second.advance(60 * MIN);
    await second.stop();

    // A third start finds nothing owed.
    const third = await rig({ channels: channels().slice(0, 1) }, { clock: new VirtualClock(T0 + 90 * MIN) });
    await third.advance(30 * MIN);
    assert.deepEqual(hook.accepted.map(keyOf), ['crash-1'], 'delivered exactly once across three runs');
  });

  test('a guard killed with SIGKILL after a failed attempt: the next process delivers the alert, exactly once', async () => {
    hook.down = true;
    const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'fixtures', 'crash-child.ts'), dir, `${hook.url}/crash`, 'killed-1'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.on('exit', (code, signal) => resolve(signal ?? code)));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        if (out.includes('\n')) resolve();
      });
      child.on('exit', () => reject(new Error(`child exited before attempting: ${out}${err}`)));
    });
    assert.match(out, /^ATTEMPTED "channel \\"hook\\": .* answered HTTP 500/);
    child.kill('SIGKILL');
    assert.equal(await exited, 'SIGKILL');
    assert.equal(hook.requests.length, 1);
    assert.equal(hook.accepted.length, 0);

    hook.down = false;
    const r = await rig({ channels: [{ type: 'webhook', name: 'hook', url: `${hook.url}/crash` }] }, { clock: new VirtualClock(Date.now() + 2 * 60 * MIN) });
    await r.advance(5 * MIN);
    assert.deepEqual(hook.accepted.map(keyOf), ['killed-1']);
    await r.advance(3 * 60 * MIN);
    assert.deepEqual(hook.accepted.map(keyOf), ['killed-1'], 'once');
  });

  test('an alert the engine committed just before a crash (never raised) is delivered by the next start, once', async () => {
    const store = await openStore({ dataDir: dir });
    await store.commit({ account: ACCOUNT, alerts: [alert('committed-1')] });
    await store.close();
    const r = await rig({ channels: channels() });
    await r.advance(1 * SEC);
    assert.deepEqual([hook.accepted.length, ntfy.accepted.length, tg.accepted.length], [1, 1, 1]);
    await r.stop();
    const again = await rig({ channels: channels() }, { clock: new VirtualClock(T0 + 10 * MIN) });
    await again.advance(10 * MIN);
    assert.deepEqual([hook.accepted.length, ntfy.accepted.length, tg.accepted.length], [1, 1, 1]);
  });

  test('a channel that keeps failing: the others deliver, the failure is reported on them once, and its recovery too', async () => {
    tg.down = true;
    tg.failWith = { status: 500, body: 'telegram is down' };
    const r = await rig({ channels: channels(), delivery: { failureThreshold: 3 } });
    for (let i = 1; i <= 3; i++) r.service.raise(alert(`a-${i}`, { at: EpochMs.unsafe(T0 + i) }));
    await r.settle();
    // Three alerts failed on "phone" in a row: the report goes out on the two channels that work.
    const reportKey = (s: RecordingServer): string[] => s.accepted.map(keyOf).filter((k) => k.startsWith('legguard:channel-failing:phone') || k === 'ALERT CHANNEL FAILING: phone');
    assert.equal(reportKey(hook).length, 1);
    assert.equal(reportKey(ntfy).length, 1);
    const report = JSON.parse(hook.accepted.find((x) => keyOf(x).startsWith('legguard:channel-failing'))!.body) as { severity: string; text: string; facts: Record<string, unknown> };
    assert.equal(report.severity, 'warning');
    assert.match(report.text, /Alerts on channel "phone" \(telegram chat 42 via http:\/\/127\.0\.0\.1:\d+\/…\) are not getting through: 3 failed attempt\(s\) in a row\. Last error: channel "phone": .* answered HTTP 500: telegram is down/);
    assert.equal(report.facts.channel, 'phone');
    assert.deepEqual(hook.accepted.map(keyOf).filter((k) => k.startsWith('a-')).sort(), ['a-1', 'a-2', 'a-3']);
    assert.equal(r.service.status().channels.find((c) => c.name === 'phone')?.failing, true);

    // More alerts, more failures: no second report for the same streak.
    for (let i = 4; i <= 6; i++) r.service.raise(alert(`a-${i}`, { at: EpochMs.unsafe(T0 + i) }));
    await r.advance(2 * MIN);
    assert.equal(reportKey(hook).length, 1);
    assert.equal(reportKey(ntfy).length, 1);
    assert.ok(!tg.requests.some((x) => x.body.includes('ALERT CHANNEL FAILING')), 'the report is not sent on the failing channel itself');

    // Telegram comes back: the alerts it missed arrive, and the others hear it recovered.
    tg.down = false;
    await r.advance(15 * MIN);
    assert.deepEqual(tg.accepted.map(keyOf).sort(), ['a-1', 'a-2', 'a-3', 'a-4', 'a-5', 'a-6']);
    assert.ok(hook.accepted.some((x) => keyOf(x).startsWith('legguard:channel-recovered:phone')));
    assert.ok(ntfy.accepted.some((x) => keyOf(x) === 'Alert channel phone delivers again'));
    assert.equal(r.service.status().channels.find((c) => c.name === 'phone')?.failing, false);
  });

  test('after maxAttempts a delivery is given up (and the channel reported), not retried forever', async () => {
    tg.down = true;
    const r = await rig({ channels: channels(), delivery: { maxAttempts: 3, failureThreshold: 5 } });
    r.service.raise(alert('g-1'));
    await r.settle();
    await r.advance(10 * MIN);
    assert.equal(tg.requests.length, 3);
    assert.ok(r.events.some((e) => e.kind === 'gave-up' && e.channel === 'phone' && e.attempts === 3));
    assert.ok(hook.accepted.some((x) => keyOf(x).startsWith('legguard:channel-failing:phone:g-1')), 'giving up is reported even below the streak threshold');
    await r.advance(24 * 60 * MIN);
    assert.equal(tg.requests.length, 3);
  });

  test('critical incidents repeat on schedule until acknowledged', async () => {
    const r = await rig({ channels: channels().slice(0, 1), escalation: { enabled: true, repeatEveryMinutes: 15 } });
    const a = alert('assign-9', { incidentId: IncidentId.unsafe('ic-spy:assign:9'), strategyId: StrategyId.unsafe('ic-spy') });
    r.service.raise(a);
    r.service.raise(alert('info-9', { severity: 'info', incidentId: IncidentId.unsafe('other:9') }));
    await r.settle();
    await r.advance(14 * MIN);
    assert.deepEqual(hook.accepted.map(keyOf).sort(), ['assign-9', 'info-9']);
    await r.advance(1 * MIN);
    await r.advance(1 * MIN);
    const repeats = (): string[] => hook.accepted.map(keyOf).filter((k) => k.startsWith('legguard:repeat:'));
    assert.deepEqual(repeats(), ['legguard:repeat:1:assign-9']);
    const rep = JSON.parse(hook.accepted.at(-1)!.body) as { title: string; severity: string; incidentId: string; ack: string };
    assert.equal(rep.title, 'NOT ACKNOWLEDGED: assign-9');
    assert.equal(rep.severity, 'critical');
    assert.equal(rep.ack, 'legguard ack ic-spy:assign:9');
    await r.advance(15 * MIN);
    assert.deepEqual(repeats(), ['legguard:repeat:1:assign-9', 'legguard:repeat:2:assign-9']);

    assert.equal(await r.store.ackIncident(ACCOUNT, IncidentId.unsafe('ic-spy:assign:9'), r.clock.now(), 'tester'), true);
    await r.advance(2 * 60 * MIN);
    assert.equal(repeats().length, 2, 'no repeat after the acknowledgement');
  });

  test('a guard restarted long after (a drill record, a guard down for days) numbers its repeat by the repeats sent, not by periods', async () => {
    const first = await rig({ channels: channels().slice(0, 1), escalation: { enabled: true, repeatEveryMinutes: 15 } });
    first.service.raise(alert('assign-11', { incidentId: IncidentId.unsafe('ic-spy:assign:11') }));
    await first.advance(16 * MIN);
    await first.stop();
    // 300 days on: 28 800 periods of 15 min since the first alert, one repeat sent.
    const later = await rig(
      { channels: channels().slice(0, 1), escalation: { enabled: true, repeatEveryMinutes: 15 } },
      { clock: new VirtualClock(T0 + 300 * 24 * 60 * MIN) },
    );
    await later.advance(2 * MIN);
    const repeats = hook.accepted.filter((x) => keyOf(x).startsWith('legguard:repeat:'));
    assert.deepEqual(repeats.map(keyOf), ['legguard:repeat:1:assign-11', 'legguard:repeat:2:assign-11']);
    const text = (JSON.parse(repeats[1]!.body) as { text: string }).text;
    assert.match(text, /First raised 2026-01-28 02:30:05 ET; this is repeat 2\./);
  });

  test('a repeat queued before the acknowledgement but not yet sent is dropped', async () => {
    hook.down = true;
    const r = await rig({ channels: channels().slice(0, 1), escalation: { enabled: true, repeatEveryMinutes: 15 }, delivery: { failureThreshold: 100 } });
    r.service.raise(alert('assign-10', { incidentId: IncidentId.unsafe('inc-10') }));
    await r.advance(16 * MIN);
    assert.ok((await r.store.dueDeliveries(ACCOUNT, ['hook'], EpochMs.unsafe(r.clock.now() + 60 * MIN), 10)).some((d) => d.alert.key === 'legguard:repeat:1:assign-10'));
    await r.store.ackIncident(ACCOUNT, IncidentId.unsafe('inc-10'), r.clock.now(), 'tester');
    hook.down = false;
    await r.advance(20 * MIN);
    assert.deepEqual(hook.accepted.map(keyOf), ['assign-10']);
    assert.ok(r.events.some((e) => e.kind === 'skipped' && e.key === 'legguard:repeat:1:assign-10' && e.reason === 'the incident was acknowledged'));
  });

  test('daily heartbeat at the configured New York time, on every channel (even critical-only), once per day across restarts', async () => {
    // 07:59 ET on Wed 2026-01-28 (EST, UTC-5).
    const start = Date.parse('2026-01-28T12:59:00Z');
    const cfg: AlertsConfigInput = {
      channels: [
        { type: 'webhook', name: 'hook', urlEnv: 'HOOK_URL' },
        { type: 'telegram', name: 'phone', tokenEnv: 'TG_TOKEN', chatId: '42', apiBase: tg.url, minSeverity: 'critical' },
        { type: 'ntfy', name: 'ntfy', server: ntfy.url, topic: 'lg-test', heartbeat: false },
      ],
      heartbeat: { enabled: true, at: '08:00' },
    };
    const r = await rig(cfg, { clock: new VirtualClock(start) });
    assert.equal(r.service.status().nextHeartbeatAt, Date.parse('2026-01-28T13:00:00Z'));
    await r.advance(59 * SEC);
    assert.equal(hook.accepted.length, 0);
    await r.advance(1 * SEC);
    assert.deepEqual(hook.accepted.map(keyOf), ['legguard:heartbeat:2026-01-28']);
    assert.equal(tg.accepted.length, 1, 'heartbeats pass a critical-only minimum: silence must be noticed there too');
    assert.equal(ntfy.accepted.length, 0, 'heartbeat: false');
    const hb = JSON.parse(hook.accepted[0]!.body) as { title: string; text: string };
    assert.equal(hb.title, 'legguard heartbeat 2026-01-28: all quiet');
    assert.match(hb.text, /reach you on: hook, phone, ntfy\./);
    // A restart the same morning does not send another: the key is the date.
    await r.stop();
    const again = await rig(cfg, { clock: new VirtualClock(Date.parse('2026-01-28T13:30:00Z')) });
    await again.service.heartbeat();
    await again.settle();
    assert.equal(hook.accepted.length, 1);
    // The next day's comes at 08:00 ET the next day.
    await again.advance(Date.parse('2026-01-29T13:00:00Z') - again.clock.now());
    assert.deepEqual(hook.accepted.map(keyOf), ['legguard:heartbeat:2026-01-28', 'legguard:heartbeat:2026-01-29']);
  });

  test('stale alerts are not sent to a channel that never had them', async () => {
    const r = await rig({ channels: channels().slice(0, 1), delivery: { staleAfterHours: 24 } }, { clock: new VirtualClock(T0 + 25 * 60 * MIN) });
    r.service.raise(alert('old-1'));
    r.service.raise(alert('new-1', { at: EpochMs.unsafe(T0 + 25 * 60 * MIN) }));
    await r.settle();
    assert.deepEqual(hook.accepted.map(keyOf), ['new-1']);
    assert.ok(r.events.some((e) => e.kind === 'skipped' && e.key === 'old-1' && e.reason.startsWith('stale: raised 2026-01-28 02:30:05 ET')));
  });

  test('start-up probe: an unreachable channel stops the start with startupCheck fail, is reported with warn', async () => {
    const port = await deadPort();
    const dead = { type: 'webhook' as const, name: 'dead', url: `http://127.0.0.1:${port}/x` };
    const failing = await rig({ channels: [...channels(), dead], startupCheck: 'fail' }, { start: false });
    await assert.rejects(failing.service.start(), (e: unknown) => {
      assert.ok(LegguardError.is(e, 'ALERT_CHANNEL_INVALID'));
      assert.match(e.message, /^alert channel "dead": cannot reach http:\/\/127\.0\.0\.1:\d+\/…: ECONNREFUSED$/);
      return true;
    });
    await failing.stop();
    assert.equal(hook.requests.length + ntfy.requests.length, 0);
    assert.equal(tg.requests.length, 1, 'telegram was probed with getMe');
    assert.ok(tg.requests[0]!.path.endsWith('/getMe'));

    const warned = await rig({ channels: [...channels(), dead], startupCheck: 'warn' });
    await warned.settle();
    assert.deepEqual(hook.accepted.map(keyOf), ['legguard:channel-failing:dead:startup-2026-01-28']);
    assert.equal(ntfy.accepted.length, 1);
    assert.equal(warned.service.status().channels.find((c) => c.name === 'dead')?.failing, true);
  });

  test('alerts raised while the store refuses writes are kept and written once it accepts', async () => {
    const r = await rig({ channels: channels().slice(0, 1) });
    const real = r.store.enqueueAlerts.bind(r.store);
    let refuse = true;
    (r.store as { enqueueAlerts: StorePort['enqueueAlerts'] }).enqueueAlerts = (account, alerts) =>
      refuse ? Promise.reject(new LegguardError('STORE_UNWRITABLE', 'disk full')) : real(account, alerts);
    r.service.raise(alert('held-1'));
    await r.settle();
    assert.equal(r.service.status().unwritten, 1);
    assert.ok(r.events.some((e) => e.kind === 'error' && e.error.includes('cannot write 1 alert(s) to the outbox: disk full')));
    refuse = false;
    await r.advance(60 * SEC);
    assert.equal(r.service.status().unwritten, 0);
    assert.deepEqual(hook.accepted.map(keyOf), ['held-1']);
  });
});
