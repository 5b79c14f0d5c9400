import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadScenario, parseScenario } from '../../src/adapters/sim/load-scenario.js';
import { ScenarioRun } from '../../src/adapters/sim/scenario-run.js';
import { LegguardError } from '../../src/core/errors.js';
import { contractKey, stock } from '../../src/core/contract.js';
import type { BrokerEvent } from '../../src/core/events.js';
import { spy } from './fixtures.js';

const root = new URL('../../', import.meta.url).pathname;

/** A small valid scenario as an object; tests break one field at a time. */
function base(): Record<string, unknown> {
  return {
    name: 't',
    start: '2026-01-26T09:30:00-05:00',
    until: '2026-01-28T10:30:00-05:00',
    account: 'DU0000001',
    underlyings: { SPY: { price: 445 }, SPX: { price: 5000, kind: 'index' } },
    strategies: [
      {
        id: 'v',
        legs: [
          { symbol: 'SPY', right: 'P', strike: 440, expiry: '2026-01-30', qty: -2 },
          { symbol: 'SPY', right: 'P', strike: 435, expiry: '2026-01-30', qty: 2 },
        ],
      },
    ],
    events: [],
  };
}

function expectInvalid(doc: unknown, field: string, problem: RegExp): void {
  const text = typeof doc === 'string' ? doc : JSON.stringify(doc);
  assert.throws(
    () => parseScenario(text, 'scenarios/bad.yaml'),
    (e: unknown) => {
      assert.ok(LegguardError.is(e, 'SCENARIO_INVALID'), `expected SCENARIO_INVALID, got ${String(e)}`);
      assert.equal(e.exitCode, 2);
      assert.ok(e.message.startsWith('scenarios/bad.yaml: '), `names the file: ${e.message}`);
      // Shape errors name the field in the message; YAML and top-level errors carry it in the details.
      if (field.startsWith('(')) assert.equal(e.details.field, field, e.message);
      else assert.ok(e.message.includes(`${field}: `), `names the field ${field}: ${e.message}`);
      assert.match(e.message, problem);
      return true;
    },
  );
}

const withEvent = (ev: Record<string, unknown>): Record<string, unknown> => ({ ...base(), events: [ev] });

describe('scenario loader', () => {
  test('the three seed scenarios load: strategies as definitions with inferred kinds, guard block raw', async () => {
    for (const f of ['iron-condor-put-assigned', 'short-call-assigned-ex-dividend', 'assignment-before-time-exit']) {
      const s = await loadScenario(join(root, 'scenarios', `${f}.yaml`));
      assert.equal(s.strategies.length, 1, f);
      const st = s.strategies[0]!;
      assert.equal(st.kind, 'iron-condor', f);
      assert.equal(st.account, 'DU0000001');
      assert.equal(st.legs.length, 4);
      assert.ok(st.legs.every((l) => l.contract.secType === 'OPT' && l.contract.style === 'american' && l.contract.multiplier === 100), f);
      // The seed's ex-dividend scenario is about what happens when the assignment comes: its look-ahead rule only warns.
      const early = f === 'short-call-assigned-ex-dividend' ? { earlyAssignment: { exDividend: 'alert' } } : {};
      assert.deepEqual(s.guard, { onAssignment: 'close', timeExitDte: 1, ...early });
      assert.ok(s.until > s.start, f);
    }
  });

  test('the example in scenarios/README.md is valid and runs', async () => {
    const md = await readFile(join(root, 'scenarios', 'README.md'), 'utf8');
    const yaml = /```yaml\n([\s\S]*?)```/.exec(md)![1]!;
    const s = parseScenario(yaml, 'README.md');
    assert.deepEqual(s.strategies.map((x) => [x.id, x.kind, x.policy ?? null]), [
      ['ic-spy', 'vertical', null],
      ['cc-spy', 'covered-call', 'hedge'],
    ]);
    assert.ok(s.strategies[0]!.createdAt < s.strategies[1]!.createdAt, 'file order is creation order');
    assert.equal(s.outside.length, 1);
    const run = new ScenarioRun(s);
    // Two strategies' stock and the outside shares net into one broker position.
    assert.equal(run.broker.position(stock('SPY')), 200);
    const events: BrokerEvent[] = [];
    run.broker.subscribe((e) => events.push(e));
    await run.broker.connect();
    await run.finish(() => run.broker.advance(0));
    const execs = events.filter((e) => e.kind === 'execution');
    assert.deepEqual(execs.map((e) => [e.orderId, e.orderRef, e.liquidation, e.qty]), [
      [null, null, false, 2],
      [null, null, true, 1],
    ]);
    assert.deepEqual(events.filter((e) => e.kind === 'connection').map((e) => e.state), ['connected', 'disconnected', 'connected']);
    assert.equal(run.broker.fillModel.mode, 'reject');
    assert.equal(run.broker.position(stock('SPY')), 400);
  });

  test('every kind of bad input names the file, the field and the problem', () => {
    expectInvalid('name: [unclosed', '(yaml)', /not valid YAML at line 1/);
    expectInvalid('- just\n- a list\n', '(top level)', /mapping/);
    const { name: _n, ...noName } = base();
    expectInvalid(noName, 'name', /expected string/);
    expectInvalid({ ...base(), colour: 'blue' }, '(top level)', /Unrecognized key: "colour"/);
    expectInvalid({ ...base(), start: '2026-01-26 09:30' }, 'start', /UTC offset/);
    expectInvalid({ ...base(), until: '2026-01-25T09:30:00-05:00' }, 'until', /after start/);
    expectInvalid({ ...base(), account: 'DU-1' }, 'account', /letters or digits/);
    expectInvalid({ ...base(), underlyings: {} }, 'underlyings', /at least one/);
    expectInvalid({ ...base(), underlyings: { SPY: { price: -1 } } }, 'underlyings.SPY.price', /expected number to be >0/);
    const legs = (l: Record<string, unknown>) => ({ ...base(), strategies: [{ id: 'v', legs: [l] }] });
    expectInvalid(legs({ symbol: 'SPY', right: 'P', expiry: '2026-01-30', qty: -1 }), 'strategies[0].legs[0].strike', /an option needs strike/);
    expectInvalid(legs({ symbol: 'SPY', right: 'P', strike: 440, expiry: '2026-02-30', qty: -1 }), 'strategies[0].legs[0].expiry', /not a real date/);
    expectInvalid(legs({ symbol: 'SPY', right: 'X', strike: 440, expiry: '2026-01-30', qty: -1 }), 'strategies[0].legs[0].right', /Invalid option/);
    expectInvalid(legs({ symbol: 'SPY', right: 'P', strike: 440, expiry: '2026-01-30', qty: 0 }), 'strategies[0].legs[0].qty', /must not be 0/);
    expectInvalid(legs({ symbol: 'SPY', right: 'P', strike: 440, expiry: '2026-01-30', qty: 1.5 }), 'strategies[0].legs[0].qty', /int/);
    expectInvalid(legs({ symbol: 'QQQ', qty: 100 }), 'strategies[0].legs[0].symbol', /QQQ is not among the underlyings \(SPY, SPX\)/);
    expectInvalid(legs({ symbol: 'SPX', qty: 1 }), 'strategies[0].legs[0].symbol', /index/);
    expectInvalid(legs({ symbol: 'SPY', secType: 'STK', strike: 440, qty: 1 }), 'strategies[0].legs[0].strike', /a stock \(secType STK\) has no strike/);
    expectInvalid(legs({ symbol: 'SPY', right: 'P', strike: 440, expiry: '2026-01-23', qty: -1 }), 'strategies[0].legs[0].expiry', /already expired/);
    expectInvalid({ ...base(), strategies: [{ id: 'v', legs: [] }] }, 'strategies[0].legs', /at least one leg/);
    expectInvalid({ ...base(), strategies: [...(base().strategies as unknown[]), ...(base().strategies as unknown[])] }, 'strategies[1].id', /duplicate strategy id v/);
    expectInvalid({ ...base(), guard: { onAssignment: 'closee' } }, 'guard.onAssignment', /close/);
    expectInvalid({ ...base(), guard: { timeExitDays: 1 } }, 'guard', /Unrecognized key: "timeExitDays"/);
    expectInvalid({ ...base(), clearing: { postAt: '10:00' } }, 'clearing.postAt', /before 09:00/);
    const divs = { SPY: { price: 1.5, dividends: [{ exDate: '2026-01-29', amount: 1.74 }] } };
    expectInvalid({ ...base(), underlyings: divs }, 'underlyings.SPY.price', /above the 1.74 of dividends still to come/);
  });

  test('bad events are named by their index', () => {
    const at = '2026-01-27T10:00:00-05:00';
    expectInvalid(withEvent({ at, price: { SPY: 440 }, fills: { mode: 'reject' } }), 'events[0]', /exactly one of .*; got price and fills/);
    expectInvalid(withEvent({ at }), 'events[0]', /got none/);
    expectInvalid(withEvent({ at, price: { QQQ: 1 } }), 'events[0].price.QQQ', /not among the underlyings/);
    expectInvalid(withEvent({ at: '2026-01-25T10:00:00-05:00', price: { SPY: 1 } }), 'events[0].at', /before start/);
    expectInvalid(withEvent({ at: '2026-02-25T10:00:00-05:00', price: { SPY: 1 } }), 'events[0].at', /after until/);
    expectInvalid(
      { ...base(), events: [{ at, price: { SPY: 1 } }, { at: '2026-01-27T09:59:00-05:00', price: { SPY: 2 } }] },
      'events[1].at',
      /time order/,
    );
    expectInvalid(withEvent({ at, assign: { symbol: 'SPY', qty: 1 } }), 'events[0].assign', /must name an option/);
    expectInvalid(withEvent({ at, assign: { symbol: 'SPY', right: 'P', strike: 440, expiry: '2026-01-30', qty: -1 } }), 'events[0].assign.qty', />0/);
    expectInvalid(
      withEvent({ at, assign: { symbol: 'SPX', right: 'P', strike: 5100, expiry: '2026-01-30', qty: 1 } }),
      'events[0].assign',
      /European/,
    );
    expectInvalid(
      withEvent({ at: '2026-01-28T02:30:00-05:00', trade: { symbol: 'SPY', right: 'P', strike: 435, expiry: '2026-01-30', qty: -1 } }),
      'events[0].at',
      /options trade 09:30-16:00/,
    );
    expectInvalid(withEvent({ at: '2026-01-27T21:00:00-05:00', liquidate: { symbol: 'SPY', qty: 100 } }), 'events[0].at', /stock trades 04:00-20:00/);
    const p440 = { symbol: 'SPY', right: 'P', strike: 440, expiry: '2026-01-30' };
    const p435 = { symbol: 'SPY', right: 'P', strike: 435, expiry: '2026-01-30' };
    expectInvalid(withEvent({ at, trade: { legs: [{ ...p440, qty: -1 }] } }), 'events[0].trade.legs', /at least 2 legs/);
    expectInvalid(withEvent({ at, trade: { legs: [{ ...p440, qty: -1 }, { ...p440, qty: 1 }] } }), 'events[0].trade.legs[1]', /same contract as leg 1/);
    expectInvalid(withEvent({ at, trade: { legs: [{ ...p440, qty: -1 }, { ...p435, qty: 0 }] } }), 'events[0].trade.legs[1].qty', /must not be 0/);
    expectInvalid(withEvent({ at, trade: { legs: [{ ...p440, qty: -1 }, { ...p435, symbol: 'QQQ', qty: 1 }] } }), 'events[0].trade.legs[1].symbol', /not among the underlyings/);
    expectInvalid(withEvent({ at, trade: { legs: [{ ...p440, qty: -1 }, { ...p435, qty: 1 }], qty: 1 } }), 'events[0].trade', /Unrecognized key: "qty"/);
    expectInvalid(
      withEvent({ at: '2026-01-28T02:30:00-05:00', trade: { legs: [{ ...p440, qty: -1 }, { ...p435, qty: 1 }] } }),
      'events[0].at',
      /options trade 09:30-16:00/,
    );
    expectInvalid(withEvent({ at, fills: { mode: 'sometimes' } }), 'events[0].fills.mode', /Invalid option/);
    expectInvalid(withEvent({ at, disconnect: { seconds: 0 } }), 'events[0].disconnect.seconds', />0/);
    expectInvalid(
      { ...base(), underlyings: { SPY: { price: 445, dividends: [{ exDate: '2026-01-29', amount: 1.74 }] } }, events: [{ at, price: { SPY: 1.7 } }] },
      'events[0].price.SPY',
      /above the 1.74 of dividends/,
    );
  });

  test('times lie within two years of start and durations are bounded, naming the field', () => {
    const at = '2026-01-27T10:00:00-05:00';
    expectInvalid({ ...base(), until: '9999-12-31T00:00:00Z' }, 'until', /must lie in the years 1990-2100/);
    expectInvalid({ ...base(), until: '2029-01-28T10:30:00-05:00' }, 'until', /within 731 days \(two years\) of start/);
    expectInvalid({ ...base(), start: '0001-01-01T00:00:00Z' }, 'start', /must lie in the years/);
    expectInvalid({ ...base(), events: [{ at: '9999-01-01T00:00:00Z', price: { SPY: 1 } }] }, 'events[0].at', /must lie in the years/);
    expectInvalid(withEvent({ at, disconnect: { seconds: 1e300 } }), 'events[0].disconnect.seconds', /at most 604800 \(7 days\)/);
    expectInvalid(withEvent({ at, disconnect: { seconds: 7 * 86_400 + 1 } }), 'events[0].disconnect.seconds', /at most 604800/);
    expectInvalid(withEvent({ at, fills: { mode: 'delayed', delayMs: 1e15 } }), 'events[0].fills.delayMs', /at most 86400000/);
    // Just inside the bounds is fine: two years less a day, a disconnect of exactly a week.
    const ok = parseScenario(
      JSON.stringify({ ...base(), until: '2028-01-25T10:30:00-05:00', events: [{ at, disconnect: { seconds: 7 * 86_400 } }] }),
      'scenarios/ok.yaml',
    );
    assert.equal(ok.events[0]!.kind, 'disconnect');
  });

  test('a missing file is SCENARIO_INVALID naming it', async () => {
    await assert.rejects(loadScenario('/nonexistent/scenario.yaml'), (e: unknown) => {
      assert.ok(LegguardError.is(e, 'SCENARIO_INVALID'), 'code');
      assert.match(e.message, /^\/nonexistent\/scenario\.yaml: cannot read the scenario: no such file/);
      return true;
    });
  });

  test('a file on disk goes through the same checks', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'legguard-scn-'));
    const file = join(dir, 'x.yaml');
    await writeFile(file, 'name: x\nstart: "2026-01-26T09:30:00-05:00"\n');
    await assert.rejects(loadScenario(file), (e: unknown) => LegguardError.is(e, 'SCENARIO_INVALID') && e.message.startsWith(`${file}: `));
  });
});

describe('scenario run', () => {
  test('steps event by event on the virtual clock; the broker shows each change at its time', async () => {
    const s = await loadScenario(join(root, 'scenarios', 'iron-condor-put-assigned.yaml'));
    const run = new ScenarioRun(s);
    const seen: BrokerEvent[] = [];
    run.broker.subscribe((e) => seen.push(e));
    await run.broker.connect();
    assert.equal(run.clock.now(), Date.parse('2026-01-26T09:30:00-05:00'));
    assert.equal(run.remaining, 2);
    const first = await run.step(() => run.broker.advance(0));
    assert.deepEqual(first.map((a) => [a.event.kind, a.at, a.text]), [['price', Date.parse('2026-01-27T10:00:00-05:00'), 'price SPY 436.10']]);
    const second = await run.step(() => run.broker.advance(0));
    assert.equal(second[0]!.event.kind, 'assign');
    assert.equal(run.clock.now(), Date.parse('2026-01-28T02:30:00-05:00'));
    await run.broker.advance(0);
    const pos = seen.filter((e) => e.kind === 'position');
    assert.deepEqual(pos.map((p) => [contractKey(p.contract), p.qty]), [
      ['OPT:SPY:2026-01-30:P:440', 0],
      ['STK:SPY', 200],
    ]);
    assert.equal(seen.filter((e) => e.kind === 'execution').length, 0);
    assert.deepEqual(await run.step(), []);
    assert.equal(run.done, false);
    await run.finish();
    assert.equal(run.done, true);
    assert.equal(run.clock.now(), s.until);
    assert.equal(run.history().length, 2);
  });

  test('the ex-dividend seed: the clearing house, not the file, assigns the short call on the ex-date morning', async () => {
    const run = new ScenarioRun(await loadScenario(join(root, 'scenarios', 'short-call-assigned-ex-dividend.yaml')));
    await run.clock.advanceTo(Date.parse('2026-03-20T10:30:00-04:00'));
    const d = run.broker.clearing.decisions;
    assert.equal(d.length, 1);
    assert.equal(d[0]!.kind, 'early-call-ex-dividend');
    assert.equal(d[0]!.postAt, Date.parse('2026-03-20T02:30:00-04:00'));
    const k = d[0]!.assigned;
    assert.equal(run.broker.position(spy('C', 460, '2026-03-27')), -2 + k);
    assert.equal(run.broker.position(stock('SPY')), -100 * k);
    // Left alone (no guard), the rest lives to the 27 March expiry: the remaining short 460 calls are assigned and the
    // long 465 calls exercised (-100 * (2 - k) + 200 shares), the puts expire: the account ends flat.
    await run.finish();
    assert.deepEqual(run.broker.allPositions(), []);
  });

  test('the DTE 1.5 seed: one of two short puts assigned at 02:30 on the day before expiry', async () => {
    const run = new ScenarioRun(await loadScenario(join(root, 'scenarios', 'assignment-before-time-exit.yaml')));
    await run.step();
    await run.step();
    assert.equal(run.clock.now(), Date.parse('2026-01-29T02:30:00-05:00'));
    assert.equal(run.broker.position(spy('P', 440)), -1);
    assert.equal(run.broker.position(stock('SPY')), 100);
    // Left alone (no guard), the other short put is assigned at expiry (SPY 437.50 < 440) and the wings expire.
    await run.finish();
    assert.equal(run.broker.position(spy('P', 440)), 0);
    assert.equal(run.broker.position(stock('SPY')), 200);
    assert.deepEqual(run.broker.allPositions().map((p) => [contractKey(p.contract), p.qty]), [['STK:SPY', 200]]);
  });

  test('a run past the expiry settles it: ITM short assigned, the rest expires', async () => {
    const s = parseScenario(
      JSON.stringify({ ...base(), events: [{ at: '2026-01-30T15:00:00-05:00', price: { SPY: 437 } }], until: '2026-02-02T09:30:00-05:00' }),
      'expiry.yaml',
    );
    const run = new ScenarioRun(s);
    await run.finish();
    assert.equal(run.broker.position(spy('P', 440)), 0);
    assert.equal(run.broker.position(spy('P', 435)), 0);
    assert.equal(run.broker.position(stock('SPY')), 200);
  });

  test('a scripted event the account cannot take stops the run naming the event', async () => {
    const s = parseScenario(
      JSON.stringify(withEvent({ at: '2026-01-27T10:00:00-05:00', assign: { symbol: 'SPY', right: 'P', strike: 440, expiry: '2026-01-30', qty: 3 } })),
      'over.yaml',
    );
    const run = new ScenarioRun(s);
    await assert.rejects(run.step(), (e: unknown) => {
      assert.ok(LegguardError.is(e, 'SCENARIO_INVALID'), 'code');
      assert.match(e.message, /^over\.yaml: events\[0\]\.assign: cannot assign 3 of SPY 2026-01-30 440 P: the account is short 2/);
      return true;
    });
  });

  test("a combo trade: every leg fills at once as one order of the account holder's (one permanent id)", async () => {
    const at = '2026-01-27T10:00:00-05:00';
    const legs = [
      { symbol: 'SPY', right: 'P', strike: 430, expiry: '2026-01-30', qty: -1 },
      { symbol: 'SPY', right: 'P', strike: 425, expiry: '2026-01-30', qty: 1 },
    ];
    const s = parseScenario(JSON.stringify(withEvent({ at, trade: { legs } })), 'combo.yaml');
    assert.equal(s.events[0]!.kind, 'combo');
    const run = new ScenarioRun(s);
    const seen: BrokerEvent[] = [];
    run.broker.subscribe((e) => seen.push(e));
    await run.broker.connect();
    const done = await run.step(() => run.broker.advance(0));
    assert.match(done[0]!.text, /combo outside legguard: -1 SPY 2026-01-30 430 P, \+1 SPY 2026-01-30 425 P/);
    await run.broker.advance(0);
    const xs = seen.filter((e) => e.kind === 'execution');
    assert.deepEqual(xs.map((e) => [contractKey(e.contract), e.side, e.qty]), [
      ['OPT:SPY:2026-01-30:P:430', 'SELL', 1],
      ['OPT:SPY:2026-01-30:P:425', 'BUY', 1],
    ]);
    assert.ok(xs[0]!.permId !== undefined && xs[0]!.permId !== null && xs[0]!.permId === xs[1]!.permId, 'one permanent id');
  });

  test('disconnect restores after the given seconds, with dataLost as written', async () => {
    const s = parseScenario(JSON.stringify(withEvent({ at: '2026-01-27T10:00:00-05:00', disconnect: { seconds: 600, dataLost: true } })), 'd.yaml');
    const run = new ScenarioRun(s);
    const conn: [string, boolean, number][] = [];
    run.broker.subscribe((e) => {
      if (e.kind === 'connection') conn.push([e.state, e.dataLost, e.tsEvent]);
    });
    await run.broker.connect();
    await run.finish();
    const t = Date.parse('2026-01-27T10:00:00-05:00');
    assert.deepEqual(conn.slice(1), [
      ['disconnected', false, t],
      ['connected', true, t + 600_000],
    ]);
  });
});
