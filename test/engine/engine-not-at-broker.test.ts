// Hardening item 7: a strategy typed with legs the broker does not hold was "detected" as broken the moment the
// guard compared it with the broker: a never-held vertical became `broken: manual ... trade outside legguard`, a
// never-held covered call raised an ASSIGNMENT alert. Only what the broker holds is guarded: such a strategy waits
// PENDING, the guard says which legs are not at the broker, nothing about them is a detection or an order, and it is
// guarded (OPEN) from the reconciliation that finds every leg.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildStrategies } from '../../src/adapters/sim/load-scenario.js';
import { contractKey, option, stock } from '../../src/core/contract.js';
import { EpochMs } from '../../src/core/quantity.js';
import { guardStrategies } from '../../src/app/replay.js';
import { guardNewStrategies } from '../../src/cli/strategies-writes.js';
import type { Alert } from '../../src/ports/alerts.js';
import { GuardHarness } from '../support/guard-harness.js';
import { ironCondor } from '../support/play.js';

const FEB = '2026-02-20';
const put = (strike: number, expiry = FEB) => option({ symbol: 'SPY', right: 'P', strike, expiry });

// ic is held; vert and cc were never opened; typo's long put was typed 395 where the account holds the 390;
// twin repeats ic's short puts, which the broker shows once (ic's).
const YAML = `
name: strategies not at the broker
start: "2026-01-26T09:30:00-05:00"
account: DU0000001
underlyings: { SPY: { price: 445.00, volatility: 0.18 }, QQQ: { price: 400.00, volatility: 0.20 } }
strategies:
${ironCondor('ic')}
  - id: vert
    legs:
      - { symbol: SPY, right: P, strike: 420, expiry: "${FEB}", qty: -1 }
      - { symbol: SPY, right: P, strike: 415, expiry: "${FEB}", qty: 1 }
  - id: cc
    legs:
      - { symbol: QQQ, secType: STK, qty: 100 }
      - { symbol: QQQ, right: C, strike: 410, expiry: "${FEB}", qty: -1 }
  - id: typo
    legs:
      - { symbol: SPY, right: P, strike: 400, expiry: "${FEB}", qty: -1 }
      - { symbol: SPY, right: P, strike: 395, expiry: "${FEB}", qty: 1 }
  - id: twin
    legs:
      - { symbol: SPY, right: P, strike: 440, expiry: "2026-01-30", qty: -2 }
guard: { onAssignment: close, timeExitDte: null }
events:
  - { at: "2026-01-27T10:00:00-05:00", price: { SPY: 436.10 } }
  - { at: "2026-01-28T02:30:00-05:00", assign: { symbol: SPY, right: P, strike: 440, expiry: "2026-01-30", qty: 2 } }
  - { at: "2026-01-29T10:00:00-05:00", trade: { symbol: SPY, right: P, strike: 395, expiry: "${FEB}", qty: 1 } }
until: "2026-01-29T12:00:00-05:00"
`;

const NEVER = new Set(['vert', 'cc', 'typo', 'twin']);

async function harness(): Promise<GuardHarness> {
  const h = await GuardHarness.create(YAML);
  // The account as it really is: only ic, typo's short put, and the 390 put typo meant.
  const b = h.run.broker;
  for (const c of [put(420), put(415), stock('QQQ'), option({ symbol: 'QQQ', right: 'C', strike: 410, expiry: FEB }), put(395)]) b.setPosition(c, 0);
  b.setPosition(put(440, '2026-01-30'), -2);
  b.setPosition(put(390), 1);
  return h;
}

async function stateOf(h: GuardHarness, id: string): Promise<{ state: string; holdings: [string, number][] }> {
  const r = (await h.store.listStrategies(h.scenario.account)).find((x) => x.definition.id === id);
  assert.ok(r, `${id} in the store`);
  return { state: r.state, holdings: r.holdings.map((x) => [contractKey(x.contract), x.qty]) };
}

describe('strategies whose legs the broker does not hold', () => {
  test('loaded at start: they wait PENDING, named legs "not at the broker"; never a detection, an order or a break', async () => {
    const h = await harness();
    await h.start();
    await h.runTo('2026-01-26T09:35:00-05:00');

    for (const id of NEVER) assert.equal((await stateOf(h, id)).state, 'PENDING', `${id} waits`);
    assert.equal((await stateOf(h, 'ic')).state, 'OPEN', 'ic is at the broker: guarded');
    const warn = new Map<string, Alert>(h.alerts.raised.filter((a) => a.strategyId !== null && NEVER.has(a.strategyId)).map((a) => [a.strategyId!, a]));
    assert.deepEqual([...warn.keys()].sort(), ['cc', 'twin', 'typo', 'vert']);
    for (const a of warn.values()) {
      assert.equal(a.severity, 'warning');
      assert.match(a.title, /^NOT AT THE BROKER: \S+ is not guarded$/);
    }
    assert.match(warn.get('vert')!.text, /-1 SPY 2026-02-20 420 P \(the broker shows none\).*\+1 SPY 2026-02-20 415 P \(the broker shows none\)/s);
    assert.match(warn.get('cc')!.text, /\+100 QQQ \(the broker shows none\).*-1 QQQ 2026-02-20 410 C \(the broker shows none\)/s);
    // Partly there: the held leg is named, and it stays outside any strategy until every leg is at the broker.
    assert.match(warn.get('typo')!.text, /\+1 SPY 2026-02-20 395 P \(the broker shows none\)/);
    assert.match(warn.get('typo')!.text, /At the broker: -1 SPY 2026-02-20 400 P, which stays outside any strategy until every leg is there/);
    assert.match(warn.get('twin')!.text, /-2 SPY 2026-01-30 440 P \(the broker shows -2, held by ic\)/);
    const notes = h.entries('note').filter((n) => n.strategyId !== null && NEVER.has(n.strategyId));
    assert.deepEqual([...new Set(notes.map((n) => n.strategyId))].sort(), ['cc', 'twin', 'typo', 'vert'], 'each says so on the timeline');

    // The night's assignment of ic's puts is ic's alone; nothing about the others changes.
    await h.runTo('2026-01-29T09:00:00-05:00');
    const detections = h.entries('detection');
    assert.deepEqual(detections.filter((d) => d.detection.strategyId !== null && NEVER.has(d.detection.strategyId)), [], 'no detection for a leg never held');
    const ics = detections.filter((d) => d.detection.strategyId === 'ic');
    assert.ok(ics.length > 0 && ics.every((d) => d.detection.cause === 'assignment'), `ic: ${ics.map((d) => d.detection.cause).join(', ')}`);
    assert.deepEqual(h.broker.sent.filter((o) => NEVER.has(o.strategyId)).map((o) => o.ref), [], 'no order for them');
    assert.deepEqual(h.alerts.raised.filter((a) => a.severity === 'critical' && a.strategyId !== 'ic').map((a) => a.title), [], 'no critical alert but ic\'s');
    for (const id of NEVER) assert.equal((await stateOf(h, id)).state, 'PENDING', `${id} still waits`);
    assert.equal(h.alerts.raised.filter((a) => a.strategyId === 'vert').length, 1, 'said once, not every minute');

    // The account holder buys the 395 put typo named: from the next reconciliation typo is guarded, holding its legs.
    await h.runTo('2026-01-29T10:02:00-05:00');
    const typo = await stateOf(h, 'typo');
    assert.equal(typo.state, 'OPEN');
    assert.deepEqual(typo.holdings.sort(), [[contractKey(put(395)), 1], [contractKey(put(400)), -1]]);
    const adopted = h.entries('state').filter((s) => s.strategyId === 'typo');
    assert.deepEqual(adopted.map((s) => [s.from, s.to]), [['PENDING', 'OPEN']]);
    assert.match(adopted[0]!.reason, /every leg is at the broker/);
    assert.deepEqual(h.entries('detection').filter((d) => d.detection.strategyId === 'typo'), []);
    await h.finish();
  });

  test('short puts assigned before any guard saw the condor: still not a detection, but a critical alert says it may be', async () => {
    // The trader types ic at 10:05; the broker assigned its short puts at 10:00. From positions alone this is the
    // same as a typo in the short puts beside 200 shares held for another reason: the guard names the possibility.
    const h = await GuardHarness.create(`
name: assigned before first sight
start: "2026-01-28T10:05:00-05:00"
account: DU0000001
underlyings: { SPY: { price: 436.10, volatility: 0.18 } }
strategies:
${ironCondor('ic', FEB)}
guard: { onAssignment: close, timeExitDte: null }
until: "2026-01-28T10:30:00-05:00"
`);
    h.run.broker.setPosition(put(440), 0);
    h.run.broker.setPosition(stock('SPY'), 200);
    await h.start();
    await h.runTo('2026-01-28T10:10:00-05:00');
    assert.equal((await stateOf(h, 'ic')).state, 'PENDING');
    const [a, ...more] = h.alerts.raised.filter((x) => x.strategyId === 'ic');
    assert.deepEqual(more, []);
    assert.equal(a!.severity, 'critical');
    assert.match(a!.text, /not at the broker: -2 SPY 2026-02-20 440 P \(the broker shows none\)/);
    assert.match(a!.text, /The broker shows \+200 SPY that no strategy holds: what assigning -2 SPY 2026-02-20 440 P would have delivered\. If it was assigned before a guard first saw ic, what is left of ic is at risk and not guarded: act on it yourself\./);
    assert.deepEqual(h.entries('detection').filter((d) => d.detection.strategyId !== null), []);
    assert.deepEqual(h.broker.sent, []);
    await h.finish();
  });

  test('added to the store while the guard runs: the same, and guarded once the account holder opens the legs', async () => {
    const h = await GuardHarness.create(
      `
name: added while running
start: "2026-01-26T09:30:00-05:00"
account: DU0000001
underlyings: { SPY: { price: 445.00, volatility: 0.18 } }
strategies:
${ironCondor('ic')}
guard: { onAssignment: close, timeExitDte: null }
events:
  - { at: "2026-01-26T11:00:00-05:00", trade: { symbol: SPY, right: P, strike: 420, expiry: "${FEB}", qty: -1 } }
  - { at: "2026-01-26T11:00:00-05:00", trade: { symbol: SPY, right: P, strike: 415, expiry: "${FEB}", qty: 1 } }
until: "2026-01-26T11:10:00-05:00"
`,
      { watchStore: true },
    );
    await h.start();
    await h.runTo('2026-01-26T10:00:00-05:00');
    const [late] = buildStrategies(
      [{ id: 'late', legs: [{ symbol: 'SPY', right: 'P', strike: 420, expiry: FEB, qty: -1 }, { symbol: 'SPY', right: 'P', strike: 415, expiry: FEB, qty: 1 }] }],
      h.scenario.account,
      h.run.clock.now(),
    );
    await guardStrategies(h.store, [late!], EpochMs.unsafe(h.run.clock.now()));
    await h.runTo('2026-01-26T10:05:00-05:00');
    assert.equal((await stateOf(h, 'late')).state, 'PENDING');
    assert.ok(h.alerts.raised.some((a) => a.strategyId === 'late' && a.title === 'NOT AT THE BROKER: late is not guarded'));
    assert.deepEqual(h.entries('detection'), [], 'nothing detected');

    await h.runTo('2026-01-26T11:03:00-05:00');
    const s = await stateOf(h, 'late');
    assert.equal(s.state, 'OPEN');
    assert.deepEqual(s.holdings.sort(), [[contractKey(put(415)), 1], [contractKey(put(420)), -1]]);
    assert.deepEqual(h.entries('detection').filter((d) => d.detection.strategyId !== null), [], 'the opening trades are nobody\'s break');
    assert.deepEqual(h.broker.sent, []);
    await h.finish();
  });

  test('a typo fixed with --replace while the guard runs: the new legs are checked, and found', async () => {
    const h = await GuardHarness.create(
      `
name: typo fixed
start: "2026-01-26T09:30:00-05:00"
account: DU0000001
underlyings: { SPY: { price: 445.00, volatility: 0.18 } }
positions:
  - { symbol: SPY, right: P, strike: 420, expiry: "${FEB}", qty: -1 }
  - { symbol: SPY, right: P, strike: 410, expiry: "${FEB}", qty: 1 }
guard: { onAssignment: close, timeExitDte: null }
until: "2026-01-26T10:30:00-05:00"
`,
      { watchStore: true },
    );
    const typed = (long: number, at: number) =>
      buildStrategies(
        [{ id: 'vert', legs: [{ symbol: 'SPY', right: 'P', strike: 420, expiry: FEB, qty: -1 }, { symbol: 'SPY', right: 'P', strike: long, expiry: FEB, qty: 1 }] }],
        h.scenario.account,
        at,
      );
    await guardNewStrategies(h.store, h.scenario.account, typed(415, h.run.clock.now()), { replace: false, now: h.run.clock.now(), source: 'test' });
    await h.start();
    await h.runTo('2026-01-26T09:40:00-05:00');
    assert.equal((await stateOf(h, 'vert')).state, 'PENDING');
    assert.ok(h.alerts.raised.some((a) => a.strategyId === 'vert' && /\+1 SPY 2026-02-20 415 P \(the broker shows none\)/.test(a.text)));

    await guardNewStrategies(h.store, h.scenario.account, typed(410, h.run.clock.now()), { replace: true, now: h.run.clock.now(), source: 'test' });
    await h.runTo('2026-01-26T09:42:00-05:00');
    const s = await stateOf(h, 'vert');
    assert.equal(s.state, 'OPEN', 'guarded with the corrected leg, without a restart');
    assert.deepEqual(s.holdings.sort(), [[contractKey(put(410)), 1], [contractKey(put(420)), -1]]);
    assert.ok(h.alerts.raised.some((a) => a.strategyId === 'vert' && a.title === 'GUARDED: vert'));
    assert.deepEqual(h.entries('detection').filter((d) => d.detection.strategyId !== null), []);
    await h.finish();
  });
});
