import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadScenario } from '../../src/adapters/sim/load-scenario.js';
import { MemoryStore } from '../../src/adapters/store/memory-store.js';
import { allClosedAndFlat, replay, type ReplayResult } from '../../src/app/replay.js';

const SCENARIOS = join(import.meta.dirname, '..', '..', 'scenarios');

const stores = new WeakMap<ReplayResult, MemoryStore>();

async function play(file: string): Promise<ReplayResult> {
  const store = new MemoryStore();
  await store.init();
  const r = await replay({ scenario: await loadScenario(join(SCENARIOS, file)), store });
  stores.set(r, store);
  return r;
}

/** The metadata of the risk decisions the engine journaled (the store's record, not the timeline). */
async function journaledRisks(r: ReplayResult, rule: string): Promise<Record<string, unknown>[]> {
  const entries = await stores.get(r)!.journal({ account: r.run.broker.account, types: ['decision'] });
  return entries.map((e) => e.data as { rule: string; metadata: Record<string, unknown> }).filter((d) => d.rule === rule).map((d) => d.metadata);
}

/** Closed before the holder could exercise: no break, no assignment, flat, no stock ever traded, no clearing decision. */
function assertClosedBefore(r: ReplayResult, id: string, rule: string, before: string): void {
  const flat = allClosedAndFlat(r.report);
  assert.ok(flat.ok, flat.problems.join('; '));
  const s = r.report.strategies.find((x) => x.id === id)!;
  assert.equal(s.broken, null, 'never broken');
  assert.deepEqual(r.report.detections.filter((d) => d.cause === 'assignment'), [], 'no assignment');
  assert.deepEqual(r.run.broker.clearing.decisions, [], 'the clearing house found nothing to assign');
  assert.ok(r.report.orders.every((o) => o.legs.every((l) => l.secType !== 'STK')), 'no stock traded');
  const closes = r.report.risks.filter((x) => x.action === 'CLOSE');
  assert.equal(closes.length, 1, JSON.stringify(r.report.risks));
  const c = closes[0]!;
  assert.equal(c.rule, rule);
  assert.ok(c.at! < before, `acted at ${c.at}, before ${before}`);
  const sent = r.report.orders.filter((o) => o.placedAt !== null);
  assert.ok(sent.length > 0 && sent.every((o) => o.placedAt! >= c.at! && o.placedAt! < before), 'the orders went out after the flag, before the deadline');
}

describe('early-assignment rules in replays: the clearing house decides on its own (nothing scripted)', () => {
  test('ex-dividend call (default policy close): the XOM strangle is closed on Thursday, the day before the ex-date', async () => {
    const r = await play('strangle-closed-before-ex-dividend.yaml');
    // Thursday 2026-02-12, before actBy 15:30 New York (20:30 UTC).
    assertClosedBefore(r, 'strangle-xom', 'ExDividendCall', '2026-02-12T20:30:00.000Z');
    const n = r.report.risks[0]!.numbers;
    assert.equal(n['S'], 128);
    assert.equal(n['K'], 120);
    assert.equal(n['D'], 1.03);
    assert.ok((n['putValue'] as number) + (n['carry'] as number) < 1.03, 'D > P(S - D) + carry');
    assert.ok((n['americanValue'] as number) < 8, 'holding is worth less than exercising (S - K = 8)');
    assert.equal(n['exDate'], '2026-02-13');
    assert.ok(r.report.orders.every((o) => o.placedAt! < '2026-02-13T05:00:00.000Z'), 'all before the ex-date');
    // The roll that would keep the strangle, journaled with the flag: shown, never sent.
    assert.equal(n['rollTo'], '2026-03-20');
    assert.match(String(n['roll']), /^roll XOM 2026-02-20 -> 2026-03-20: buy 1 XOM 2026-02-20 120 C at \d+\.\d\d, sell 1 XOM 2026-03-20 120 C at \d+\.\d\d, buy 1 XOM 2026-02-20 100 P at .*; net (credit|debit) \d+\.\d\d/);
    assert.equal(typeof n['rollNet'], 'number');
    assert.match(r.report.risks[0]!.reason, /to keep the position instead \(shown, not sent\): roll XOM/);
    assert.ok(r.report.orders.every((o) => o.legs.every((l) => !JSON.stringify(l).includes('2026-03-20'))), 'no order for the roll');
    const journaled = await journaledRisks(r, 'ExDividendCall');
    assert.equal(journaled.length, 1);
    assert.deepEqual([journaled[0]!['rollTo'], journaled[0]!['rollNet'], journaled[0]!['roll']], [n['rollTo'], n['rollNet'], n['roll']], 'the journal has the roll');
  });

  test("the demo's fourth reaction: seed scenario 2's condor under the default policy, closed the day before the ex-date", async () => {
    const r = await play('short-call-closed-before-ex-dividend.yaml');
    // Thursday 2026-03-19 before 15:30 New York (EDT: 19:30 UTC).
    assertClosedBefore(r, 'ic-spy-mar', 'ExDividendCall', '2026-03-19T19:30:00.000Z');
    assert.equal(r.report.risks[0]!.numbers['S'], 475);
  });

  test('deep ITM put (default policy close): the put spread is closed the morning ACME falls, before the close', async () => {
    const r = await play('put-spread-closed-deep-itm.yaml');
    assertClosedBefore(r, 'ps-acme', 'DeepItmPut', '2026-03-03T20:30:00.000Z');
    const n = r.report.risks[0]!.numbers;
    assert.equal(n['S'], 60);
    assert.ok(Math.abs((n['americanValue'] as number) - 40) < 0.005, `American value ${n['americanValue']} at intrinsic 40`);
  });

  test('expiration day (default policy close): the call spread is closed from 15:00, before the close', async () => {
    const r = await play('call-spread-closed-on-expiration-day.yaml');
    assertClosedBefore(r, 'cs-acme', 'ExpirationRisk', '2026-03-06T20:30:00.000Z');
    assert.equal(r.report.risks[0]!.at, '2026-03-06T20:00:00.000Z', '15:00 New York');
  });

  test('policy alert (the seed scenario): warned with the numbers on Thursday, assigned, closed as an emergency as before', async () => {
    const r = await play('strangle-call-assigned-ex-dividend.yaml');
    const warned = r.report.risks.filter((x) => x.rule === 'ExDividendCall');
    assert.equal(warned.length, 1, 'one warning for the day');
    assert.equal(warned[0]!.action, 'ALERT_ONLY');
    assert.match(warned[0]!.reason, /suggested: close or roll the call/);
    assert.ok(warned[0]!.at! >= '2026-02-12T14:30:00.000Z' && warned[0]!.at! < '2026-02-12T21:00:00.000Z', 'on Thursday in the session');
    assert.ok(r.report.alerts.some((a) => a.severity === 'warning' && /ExDividendCall/.test(a.title)));
    const alert = r.report.alerts.find((a) => a.severity === 'warning' && /ExDividendCall/.test(a.title))!;
    assert.match(alert.text, /to keep the position instead \(shown, not sent\): roll XOM 2026-02-20 -> 2026-03-20: .*net (credit|debit) \d+\.\d\d/, 'the alert shows the roll');
    assert.equal(warned[0]!.numbers['rollTo'], '2026-03-20');
    assert.equal((await journaledRisks(r, 'ExDividendCall'))[0]!['rollTo'], '2026-03-20', 'the journal has the roll');
    const s = r.report.strategies.find((x) => x.id === 'strangle-xom')!;
    assert.equal(s.broken?.cause, 'assignment');
    assert.equal(r.run.broker.clearing.decisions.length, 1);
    assert.ok(allClosedAndFlat(r.report).ok);
  });
});
