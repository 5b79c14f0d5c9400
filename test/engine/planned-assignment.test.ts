import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ReplayResult } from '../../src/app/replay.js';
import { describeContract } from '../../src/core/contract.js';
import { StrategyId } from '../../src/core/ids.js';
import { play } from '../support/play.js';

// A covered call or a cash-secured put is written to be assigned: the shares called away, the shares bought. That is
// the plan completing, told as information; only a leg left naked (the shares sold under a short call) is an
// emergency. The time exit (which closes before expiry) and the simulated holders' early exercise are off unless a
// test scripts an assignment itself.

// These runs are about what happens when the assignment at expiry comes: the expiration-day and deep-ITM-put rules,
// which would close the condor before it, are off (they never act on covered calls and cash-secured puts anyway).
const HEAD = `
start: "2026-01-26T09:30:00-05:00"
account: DU0000001
guard: { timeExitDte: null, earlyAssignment: { expiration: off, deepItmPut: off } }
clearing: { earlyExercise: false }
`;

function strategyOf(r: ReplayResult, id: string): ReplayResult['report']['strategies'][number] {
  const s = r.report.strategies.find((x) => x.id === id);
  assert.ok(s, `strategy ${id} in the report`);
  return s;
}

function severities(r: ReplayResult): string[] {
  return r.report.alerts.map((a) => a.severity);
}

function outside(r: ReplayResult): string[] {
  return r.engine.book.holdings(null).map((h) => `${h.qty > 0 ? '+' : ''}${h.qty} ${describeContract(h.contract)}`);
}

function states(r: ReplayResult, id: string): string[] {
  return r.timeline.flatMap((e) => (e.kind === 'state' && e.strategyId === id ? [`${e.from ?? '-'} -> ${e.to} (${e.reason})`] : []));
}

describe('a covered call or a cash-secured put assigned: the plan completing, not a break', () => {
  test('a covered call in the money at expiry: called away as planned, CLOSED and flat, one info alert, no incident', async () => {
    const r = await play(`
name: covered call called away at expiry
${HEAD}
underlyings: { SPY: { price: 455.00, volatility: 0.18 } }
strategies:
  - id: cc
    legs:
      - { symbol: SPY, qty: 100 }
      - { symbol: SPY, right: C, strike: 450, expiry: "2026-01-30", qty: -1 }
until: "2026-01-31T10:00:00-05:00"
`);
    const s = strategyOf(r, 'cc');
    assert.equal(s.kind, 'covered-call');
    assert.equal(s.state, 'CLOSED');
    assert.equal(s.broken, null, 'not broken');
    assert.deepEqual(s.holdings, []);
    assert.deepEqual(r.report.positions, [], 'the shares went with the call');
    assert.equal(r.report.orders.length, 0);
    assert.deepEqual(severities(r), ['info']);
    const a = r.report.alerts[0]!;
    assert.equal(a.title, 'CALLED AWAY AS PLANNED: cc');
    assert.equal(a.incidentId, null);
    assert.match(a.text, /SPY 2026-01-30 450 C x1 was assigned at expiry and the 100 SPY shares were delivered against it/);
    assert.deepEqual(states(r, 'cc'), [
      'PENDING -> OPEN (every leg is at the broker: +100 SPY, -1 SPY 2026-01-30 450 C)',
      'OPEN -> CLOSED (called away as planned)',
    ]);
    assert.deepEqual(r.report.detections, [], 'no incident among the detections');
  });

  test('a covered call assigned early (before expiry): the shares called away early, still as planned: nothing was naked', async () => {
    const r = await play(`
name: covered call called away early
${HEAD}
underlyings: { SPY: { price: 470.00, volatility: 0.18 } }
strategies:
  - id: cc
    legs:
      - { symbol: SPY, qty: 100 }
      - { symbol: SPY, right: C, strike: 450, expiry: "2026-02-20", qty: -1 }
events:
  - { at: "2026-01-28T02:30:00-05:00", assign: { symbol: SPY, right: C, strike: 450, expiry: "2026-02-20", qty: 1 } }
until: "2026-01-28T10:30:00-05:00"
`);
    const s = strategyOf(r, 'cc');
    assert.equal(s.state, 'CLOSED');
    assert.equal(s.broken, null);
    assert.deepEqual(r.report.positions, []);
    assert.equal(r.report.orders.length, 0);
    assert.deepEqual(severities(r), ['info']);
    assert.equal(r.report.alerts[0]!.title, 'CALLED AWAY EARLY: cc');
    assert.match(r.report.alerts[0]!.text, /assigned early \(before its expiry on 2026-02-20\) and the 100 SPY shares were delivered against it: the covered call ended as planned, only sooner\. Nothing is left/);
  });

  test('one of two covered calls assigned early: the rest is still a covered call and stays OPEN, untouched', async () => {
    const r = await play(`
name: half a covered call called away
${HEAD}
underlyings: { SPY: { price: 470.00, volatility: 0.18 } }
strategies:
  - id: cc
    legs:
      - { symbol: SPY, qty: 200 }
      - { symbol: SPY, right: C, strike: 450, expiry: "2026-02-20", qty: -2 }
events:
  - { at: "2026-01-28T02:30:00-05:00", assign: { symbol: SPY, right: C, strike: 450, expiry: "2026-02-20", qty: 1 } }
until: "2026-01-28T10:30:00-05:00"
`);
    const s = strategyOf(r, 'cc');
    assert.equal(s.state, 'OPEN');
    assert.equal(s.broken, null);
    assert.deepEqual(s.holdings.map((h) => `${h.qty} ${h.contract}`).sort(), ['-1 SPY 2026-02-20 450 C', '100 SPY']);
    assert.equal(r.report.orders.length, 0);
    assert.deepEqual(severities(r), ['info']);
    assert.match(r.report.alerts[0]!.text, /as a covered call allows\. cc still holds \+100 SPY, -1 SPY 2026-02-20 450 C and stays OPEN/);
  });

  test('after one of two calls is called away, the rest is a whole covered call: assigned at expiry, it ends CLOSED as planned', async () => {
    const r = await play(`
name: half a covered call called away, the rest at expiry
${HEAD}
underlyings: { SPY: { price: 470.00, volatility: 0.18 } }
strategies:
  - id: cc
    legs:
      - { symbol: SPY, qty: 200 }
      - { symbol: SPY, right: C, strike: 450, expiry: "2026-02-20", qty: -2 }
events:
  - { at: "2026-01-28T02:30:00-05:00", assign: { symbol: SPY, right: C, strike: 450, expiry: "2026-02-20", qty: 1 } }
until: "2026-02-21T10:30:00-05:00"
`);
    const s = strategyOf(r, 'cc');
    assert.equal(s.state, 'CLOSED');
    assert.equal(s.broken, null);
    assert.deepEqual(r.report.positions, []);
    assert.equal(r.report.orders.length, 0);
    assert.deepEqual(r.report.alerts.map((a) => [a.severity, a.title]), [['info', 'CALLED AWAY EARLY: cc'], ['info', 'CALLED AWAY AS PLANNED: cc']]);
  });

  test('after one of two calls is called away, the time exit leaves the rest to its plan: told, not closed, called away at expiry', async () => {
    const r = await play(`
name: half a covered call called away, then the time exit
start: "2026-01-26T09:30:00-05:00"
account: DU0000001
clearing: { earlyExercise: false }
underlyings: { SPY: { price: 470.00, volatility: 0.18 } }
strategies:
  - id: cc
    legs:
      - { symbol: SPY, qty: 200 }
      - { symbol: SPY, right: C, strike: 450, expiry: "2026-02-20", qty: -2 }
events:
  - { at: "2026-01-28T02:30:00-05:00", assign: { symbol: SPY, right: C, strike: 450, expiry: "2026-02-20", qty: 1 } }
until: "2026-02-23T10:30:00-05:00"
`);
    const s = strategyOf(r, 'cc');
    assert.equal(s.state, 'CLOSED');
    assert.equal(s.broken, null, 'not handed to the emergency path');
    assert.equal(r.report.orders.length, 0, 'the time exit sold neither the shares nor bought back the call');
    assert.deepEqual(r.report.positions, [], 'the rest was called away at expiry');
    assert.deepEqual(
      r.report.alerts.map((a) => [a.severity, a.title]),
      [
        ['info', 'CALLED AWAY EARLY: cc'],
        ['warning', 'TimeExit: cc'],
        // Expiration day: the call in the money, its assignment the plan: reported, not acted on (the spot is known
        // from the broker's answer at start).
        ['info', 'cc: ExpirationRisk assignment risk'],
        ['info', 'CALLED AWAY AS PLANNED: cc'],
      ],
    );
    const told = r.report.alerts.find((a) => a.title === 'TimeExit: cc')!;
    assert.match(told.text, /a covered-call is written to be assigned: not closed; roll or close it by hand/);
    assert.equal(told.at?.slice(0, 10), '2026-02-19', 'once, on the day before expiry');
  });

  test('a cash-secured put in the money at expiry: the shares are bought as planned and kept (outside any strategy), CLOSED', async () => {
    const r = await play(`
name: cash-secured put assigned at expiry
${HEAD}
underlyings: { SPY: { price: 440.00, volatility: 0.18 } }
strategies:
  - id: csp
    legs:
      - { symbol: SPY, right: P, strike: 450, expiry: "2026-01-30", qty: -1 }
until: "2026-02-02T10:30:00-05:00"
`);
    const s = strategyOf(r, 'csp');
    assert.equal(s.kind, 'cash-secured-put');
    assert.equal(s.state, 'CLOSED');
    assert.equal(s.broken, null, 'not broken');
    assert.deepEqual(s.holdings, []);
    assert.equal(r.report.orders.length, 0, 'nothing sold: the trader wanted the shares');
    assert.deepEqual(r.report.positions.map((p) => [p.symbol, p.secType, p.qty]), [['SPY', 'STK', 100]], 'the shares are still there after the open');
    assert.deepEqual(outside(r), ['+100 SPY'], 'held outside any strategy');
    assert.deepEqual(severities(r), ['info']);
    const a = r.report.alerts[0]!;
    assert.equal(a.title, 'SHARES ASSIGNED AS PLANNED: csp');
    assert.match(a.text, /SPY 2026-01-30 450 P x1 was assigned at expiry: the account bought 100 SPY at 450/);
    assert.match(a.text, /kept, outside any strategy/);
    assert.deepEqual(states(r, 'csp'), [
      'PENDING -> OPEN (every leg is at the broker: -1 SPY 2026-01-30 450 P)',
      'OPEN -> CLOSED (put assigned as planned: the shares are kept outside any strategy)',
    ]);
  });

  test('one of two cash-secured puts assigned early: the shares are kept outside, the other put stays guarded', async () => {
    const r = await play(`
name: half a cash-secured put assigned
${HEAD}
underlyings: { SPY: { price: 430.00, volatility: 0.18 } }
strategies:
  - id: csp
    legs:
      - { symbol: SPY, right: P, strike: 450, expiry: "2026-02-20", qty: -2 }
events:
  - { at: "2026-01-28T02:30:00-05:00", assign: { symbol: SPY, right: P, strike: 450, expiry: "2026-02-20", qty: 1 } }
until: "2026-01-28T10:30:00-05:00"
`);
    const s = strategyOf(r, 'csp');
    assert.equal(s.state, 'OPEN');
    assert.equal(s.broken, null);
    assert.deepEqual(s.holdings.map((h) => `${h.qty} ${h.contract}`), ['-1 SPY 2026-02-20 450 P']);
    assert.deepEqual(outside(r), ['+100 SPY']);
    assert.equal(r.report.orders.length, 0);
    assert.deepEqual(severities(r), ['info']);
    assert.equal(r.report.alerts[0]!.title, 'SHARES ASSIGNED EARLY: csp');
  });

  test('a covered call whose shares were sold while the call is still short: a naked call, still an emergency', async () => {
    const r = await play(`
name: covered call, shares sold
${HEAD}
underlyings: { SPY: { price: 455.00, volatility: 0.18 } }
strategies:
  - id: cc
    legs:
      - { symbol: SPY, qty: 100 }
      - { symbol: SPY, right: C, strike: 460, expiry: "2026-02-20", qty: -1 }
events:
  - { at: "2026-01-27T10:00:00-05:00", trade: { symbol: SPY, qty: -100 } }
until: "2026-01-27T11:00:00-05:00"
`);
    const s = strategyOf(r, 'cc');
    assert.equal(s.broken?.cause, 'manual');
    assert.notEqual(s.state, 'CLOSED');
    assert.notEqual(s.state, 'OPEN');
    assert.ok(r.report.alerts.some((a) => a.severity === 'critical' && a.strategyId === 'cc'), 'a critical alert');
    assert.deepEqual(r.engine.strategies.get(StrategyId.unsafe('cc'))!.def.kind, 'covered-call');
  });

  test('an iron condor short put assigned at expiry is still a break: only covered calls and cash-secured puts plan on it', async () => {
    const r = await play(`
name: condor short put assigned at expiry
${HEAD}
underlyings: { SPY: { price: 445.00, volatility: 0.18 } }
strategies:
  - id: ic
    legs:
      - { symbol: SPY, right: P, strike: 440, expiry: "2026-01-30", qty: -1 }
      - { symbol: SPY, right: P, strike: 430, expiry: "2026-01-30", qty: 1 }
      - { symbol: SPY, right: C, strike: 460, expiry: "2026-01-30", qty: -1 }
      - { symbol: SPY, right: C, strike: 470, expiry: "2026-01-30", qty: 1 }
events:
  - { at: "2026-01-29T10:00:00-05:00", price: { SPY: 436.00 } }
until: "2026-01-31T10:00:00-05:00"
`);
    const s = strategyOf(r, 'ic');
    assert.equal(s.broken?.cause, 'assignment');
    assert.equal(s.broken?.kind, 'EXPIRATION');
    assert.ok(r.report.alerts.some((a) => a.severity === 'critical'));
  });
});
