import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Book } from '../../src/core/book.js';
import { contractKey, describeContract, option, type Contract } from '../../src/core/contract.js';
import type { Detection } from '../../src/core/detection.js';
import { detect, type DetectorOutput, type PositionChange } from '../../src/core/detector.js';
import type { ExecutionReport } from '../../src/core/events.js';
import { AccountId, ExecId, OrderRef } from '../../src/core/ids.js';
import { EpochMs, Price, Qty } from '../../src/core/quantity.js';
import { call, put, sid, SPY } from './fixtures.js';

const T = (iso: string): EpochMs => EpochMs.unsafe(Date.parse(iso));
const EARLY_AT = T('2026-01-28T02:30:00-05:00'); // before the 2026-01-30 expiry
const AFTER_EXPIRY = T('2026-01-31T06:00:00-05:00'); // the Saturday morning after a Friday expiry
const WINDOW = 3000;

function bookOf(rows: readonly [string | null, Contract, number][]): Book {
  const b = new Book();
  for (const [h, c, q] of rows) {
    if (h !== null) b.addStrategy(sid(h));
    b.apply(h === null ? null : sid(h), c, q);
  }
  return b;
}

interface RunOpts {
  at?: EpochMs;
  /** Milliseconds since the changes were first seen (0: just now). */
  waited?: number;
  execs?: ExecutionReport[];
  price?: number | null;
}

/** Runs the detector for broker positions `broker` (contract -> qty) and checks the sums it promises. */
function run(book: Book, broker: readonly [Contract, number][], o: RunOpts = {}): DetectorOutput {
  const at = o.at ?? EARLY_AT;
  const changes: PositionChange[] = broker.map(([contract, qty]) => ({
    contract,
    brokerQty: Qty.unsafe(qty),
    brokerAt: at,
    firstSeenAt: EpochMs.unsafe(at),
  }));
  const out = detect({
    book,
    changes,
    foreignExecutions: o.execs ?? [],
    now: EpochMs.unsafe(at + (o.waited ?? 0)),
    pairingWindowMs: WINDOW,
    underlyingPrice: () => (o.price === undefined ? 445 : o.price),
  });
  const pendingKeys = new Set(out.pending.map((p) => contractKey(p.contract)));
  const sums = new Map<string, number>();
  for (const d of out.detections) sums.set(contractKey(d.contract), (sums.get(contractKey(d.contract)) ?? 0) + d.change);
  for (const [c, qty] of broker) {
    const k = contractKey(c);
    if (pendingKeys.has(k)) {
      assert.equal(sums.get(k) ?? 0, 0, `${k} is pending, so nothing of it is explained`);
      continue;
    }
    assert.equal(sums.get(k) ?? 0, qty - book.net(k), `detections on ${k} sum to the broker's delta`);
  }
  for (const [k, s] of sums) {
    if (!broker.some(([c]) => contractKey(c) === k)) assert.equal(s, 0, `${k} did not change at the broker, so its detections net to zero`);
  }
  return out;
}

/** `ic assignment EARLY SPY 2026-01-30 440 P -2 +2` */
function fmt(ds: readonly Detection[]): string[] {
  return ds.map((d) => `${d.strategyId ?? 'outside'} ${d.cause}${d.kind ? ` ${d.kind}` : ''} ${describeContract(d.contract)} ${d.before} ${d.change > 0 ? '+' : ''}${d.change}`);
}

function exec(id: string, c: Contract, side: 'BUY' | 'SELL', qty: number, opts: { liquidation?: boolean; ref?: string; at?: number } = {}): ExecutionReport {
  const at = EpochMs.unsafe(opts.at ?? EARLY_AT - 1000);
  return {
    kind: 'execution',
    account: AccountId.unsafe('DU1'),
    execId: ExecId.unsafe(id),
    orderId: null,
    orderRef: opts.ref === undefined ? null : OrderRef.unsafe(opts.ref),
    contract: c,
    side,
    qty: Qty.unsafe(qty),
    price: Price.unsafe(1),
    liquidation: opts.liquidation ?? false,
    tsEvent: at,
    tsInit: at,
  };
}

const IC: [string, Contract, number][] = [
  ['ic', put(435), 2],
  ['ic', put(440), -2],
  ['ic', call(460), -2],
  ['ic', call(465), 2],
];

describe('detector: settlements', () => {
  test("seed 1: an iron condor's short put assigned early", () => {
    const out = run(bookOf(IC), [[put(440), 0], [SPY, 200]]);
    assert.deepEqual(fmt(out.detections), ['ic assignment EARLY SPY 2026-01-30 440 P -2 +2', 'ic assignment EARLY SPY 0 +200']);
    assert.equal(out.detections[1]!.settles !== null && contractKey(out.detections[1]!.settles), contractKey(put(440)));
    assert.deepEqual([out.pending, out.recheckAt], [[], null]);
  });

  test('partial assignment: 1 of 2', () => {
    const out = run(bookOf(IC), [[put(440), -1], [SPY, 100]]);
    assert.deepEqual(fmt(out.detections), ['ic assignment EARLY SPY 2026-01-30 440 P -2 +1', 'ic assignment EARLY SPY 0 +100']);
  });

  test('both short legs assigned together: the stock nets to zero at the broker and is still attributed', () => {
    const out = run(bookOf(IC), [[put(440), 0], [call(460), 0]]);
    assert.deepEqual(fmt(out.detections), [
      'ic assignment EARLY SPY 2026-01-30 460 C -2 +2',
      'ic assignment EARLY SPY 0 -200',
      'ic assignment EARLY SPY 2026-01-30 440 P -2 +2',
      'ic assignment EARLY SPY -200 +200',
    ]);
  });

  test('a short call assigned while shares are held outside any strategy: those shares stay outside', () => {
    const b = bookOf([['cc', call(460), -1], [null, SPY, 100]]);
    const out = run(b, [[call(460), 0], [SPY, 0]]);
    assert.deepEqual(fmt(out.detections), ['cc assignment EARLY SPY 2026-01-30 460 C -1 +1', 'cc assignment EARLY SPY 0 -100']);
  });

  test("a covered call's stock called away leaves the strategy flat", () => {
    const b = bookOf([['cc', SPY, 100], ['cc', call(460), -1]]);
    const out = run(b, [[call(460), 0], [SPY, 0]]);
    assert.deepEqual(fmt(out.detections), ['cc assignment EARLY SPY 2026-01-30 460 C -1 +1', 'cc assignment EARLY SPY 100 -100']);
  });

  test('two strategies on one underlying: the assigned one changes, the other is left whole', () => {
    const b = bookOf([...IC, ['csp', put(430), -1], ['cc', SPY, 100], ['cc', call(470), -1]]);
    const out = run(b, [[put(440), 0], [SPY, 300]]);
    assert.ok(out.detections.every((d) => d.strategyId === sid('ic')));
  });

  test('options of two strategies settling together net their stock: +200 and -100 show as +100', () => {
    const b = bookOf([['a', put(440), -2], ['b', call(460), -1]]);
    const out = run(b, [[put(440), 0], [call(460), 0], [SPY, 100]]);
    assert.deepEqual(fmt(out.detections), [
      'b assignment EARLY SPY 2026-01-30 460 C -1 +1',
      'b assignment EARLY SPY 0 -100',
      'a assignment EARLY SPY 2026-01-30 440 P -2 +2',
      'a assignment EARLY SPY 0 +200',
    ]);
  });

  test('legs that net at the broker: the decrease goes to the strategy holding that sign, oldest first', () => {
    const b = bookOf([['a', put(440), 1], ['b', put(440), -2], ['c', put(440), -1]]); // the broker shows -2
    const out = run(b, [[put(440), -1], [SPY, 100]]);
    assert.deepEqual(fmt(out.detections), ['b assignment EARLY SPY 2026-01-30 440 P -2 +1', 'b assignment EARLY SPY 0 +100']);
  });

  test('exercise of a long call; an assignment posted after the expiry close is EXPIRATION', () => {
    const b = bookOf([['lc', call(450), 1]]);
    assert.deepEqual(fmt(run(b, [[call(450), 0], [SPY, 100]]).detections), ['lc exercise EARLY SPY 2026-01-30 450 C 1 -1', 'lc exercise EARLY SPY 0 +100']);
    const ex = run(bookOf(IC), [[put(440), 0], [SPY, 200]], { at: AFTER_EXPIRY });
    assert.deepEqual(ex.detections.map((d) => d.kind), ['EXPIRATION', 'EXPIRATION']);
  });

  test('stock that arrives before its option waits, then both are matched', () => {
    const b = bookOf(IC);
    const first = run(b, [[SPY, 200]]);
    assert.deepEqual(first.detections, []);
    assert.equal(first.pending.length, 1);
    assert.match(first.pending[0]!.reason, /SPY stock moved \+200; waiting/);
    assert.equal(first.recheckAt, EARLY_AT + WINDOW);
    const both = run(b, [[SPY, 200], [put(440), 0]], { waited: 1000 });
    assert.equal(both.detections.length, 2);
  });
});

describe('detector: waiting and the pairing window', () => {
  test('an option shrink without stock waits, then is a manual trade before expiry', () => {
    const b = bookOf(IC);
    const now = run(b, [[put(440), 0]]);
    assert.deepEqual([now.detections.length, now.pending.length, now.recheckAt], [0, 1, EARLY_AT + WINDOW]);
    assert.equal(now.pending[0]!.delta, 2);
    assert.match(now.pending[0]!.reason, /waiting for the SPY stock that would make it an assignment/);
    const later = run(b, [[put(440), 0]], { waited: WINDOW });
    assert.deepEqual(fmt(later.detections), ['ic manual SPY 2026-01-30 440 P -2 +2']);
    assert.match(later.detections[0]!.reason, /before expiry with no stock and no execution/);
  });

  test('out of the money at expiry: pending, then expiration; unknown price or in the money: unknown', () => {
    const b = bookOf(IC);
    const gone: [Contract, number][] = [[put(440), 0], [put(435), 0], [call(460), 0], [call(465), 0]];
    assert.equal(run(b, gone, { at: AFTER_EXPIRY }).pending.length, 4);
    const otm = run(b, gone, { at: AFTER_EXPIRY, waited: WINDOW, price: 450 });
    assert.ok(otm.detections.every((d) => d.cause === 'expiration' && d.kind === 'EXPIRATION'));
    assert.equal(otm.detections.length, 4);
    const blind = run(b, gone, { at: AFTER_EXPIRY, waited: WINDOW, price: null });
    assert.ok(blind.detections.every((d) => d.cause === 'unknown'));
    assert.match(blind.detections[0]!.reason, /price of SPY is unknown/);
    // SPY at 436: the 440 put is in the money yet no stock came; the 435 put and the calls expired.
    const itm = run(b, gone, { at: AFTER_EXPIRY, waited: WINDOW, price: 436 });
    assert.deepEqual(itm.detections.map((d) => `${describeContract(d.contract)} ${d.cause}`).sort(), [
      'SPY 2026-01-30 435 P expiration',
      'SPY 2026-01-30 440 P unknown',
      'SPY 2026-01-30 460 C expiration',
      'SPY 2026-01-30 465 C expiration',
    ]);
    // At the money is not exercised by exception.
    assert.equal(run(bookOf([['p', put(440), -1]]), [[put(440), 0]], { at: AFTER_EXPIRY, waited: WINDOW, price: 440 }).detections[0]!.cause, 'expiration');
  });

  test('an ITM put assigned at expiry and an OTM call expiring: the put pairs at once, the call waits', () => {
    const b = bookOf(IC);
    const out = run(b, [[put(440), 0], [put(435), 0], [call(460), 0], [call(465), 0], [SPY, 200]], { at: AFTER_EXPIRY, price: 436 });
    assert.deepEqual(fmt(out.detections), ['ic assignment EXPIRATION SPY 2026-01-30 440 P -2 +2', 'ic assignment EXPIRATION SPY 0 +200']);
    assert.deepEqual(out.pending.map((p) => describeContract(p.contract)).sort(), ['SPY 2026-01-30 435 P', 'SPY 2026-01-30 460 C', 'SPY 2026-01-30 465 C']);
  });

  test("a vertical's legs vanishing with no stock are not taken for a settlement pair unless it is likely", () => {
    // Before expiry: the short put could be assigned, but the long put is exercised only by its holder; together
    // they would net the stock to zero, exactly like a manual close whose executions have not come yet.
    const b = bookOf(IC);
    const early = run(b, [[put(440), 0], [put(435), 0]]);
    assert.deepEqual([early.detections.length, early.pending.length], [0, 2]);
    assert.deepEqual(
      run(b, [[put(440), 0], [put(435), 0]], { waited: WINDOW }).detections.map((d) => d.cause),
      ['manual', 'manual'],
    );
    // At expiry with both calls in the money (SPY at 470): short assigned, long exercised, stock nets to zero.
    const itm = run(b, [[call(460), 0], [call(465), 0]], { at: AFTER_EXPIRY, price: 470 });
    assert.deepEqual(fmt(itm.detections), [
      'ic assignment EXPIRATION SPY 2026-01-30 460 C -2 +2',
      'ic assignment EXPIRATION SPY 0 -200',
      'ic exercise EXPIRATION SPY 2026-01-30 465 C 2 -2',
      'ic exercise EXPIRATION SPY -200 +200',
    ]);
  });

  test('a position that grows on a strategy contract: pending, then unknown, to the outside', () => {
    const b = bookOf(IC);
    assert.equal(run(b, [[put(440), -3]]).pending.length, 1);
    assert.deepEqual(fmt(run(b, [[put(440), -3]], { waited: WINDOW }).detections), ['outside unknown SPY 2026-01-30 440 P 0 -1']);
    // A flip: the strategy goes to zero, the rest is the outside's.
    assert.deepEqual(fmt(run(b, [[put(440), 1]], { waited: WINDOW }).detections), ['ic unknown SPY 2026-01-30 440 P -2 +2', 'outside unknown SPY 2026-01-30 440 P 0 +1']);
  });

  test('stock nothing explains: unknown after the window; a decrease goes to the oldest strategy holding it', () => {
    const b = bookOf([['cc', SPY, 100], ['cc', call(460), -1], [null, SPY, 50]]);
    assert.deepEqual(fmt(run(b, [[SPY, 100]], { waited: WINDOW }).detections), ['cc unknown SPY 100 -50']);
    assert.deepEqual(fmt(run(b, [[SPY, 200]], { waited: WINDOW }).detections), ['outside unknown SPY 50 +50']);
  });
});

describe('detector: executions not ours', () => {
  test('a manual close of one leg is manual at once; its executions are reported as used', () => {
    const b = bookOf(IC);
    const out = run(b, [[put(435), 0]], { execs: [exec('x1', put(435), 'SELL', 2)] });
    assert.deepEqual(fmt(out.detections), ['ic manual SPY 2026-01-30 435 P 2 -2']);
    assert.deepEqual(out.usedExecIds, ['x1']);
  });

  test("the broker's liquidation is liquidation; legguard's own executions are ignored", () => {
    const b = bookOf(IC);
    const out = run(b, [[call(460), 0]], { execs: [exec('l1', call(460), 'BUY', 2, { liquidation: true }), exec('own', call(460), 'BUY', 2, { ref: 'lg/ic/i/g/0' })] });
    assert.deepEqual(fmt(out.detections), ['ic liquidation SPY 2026-01-30 460 C -2 +2']);
    assert.deepEqual(out.usedExecIds, ['l1']);
  });

  test('part manual, part assigned: the execution explains its part, the stock the rest', () => {
    const b = bookOf(IC);
    const out = run(b, [[put(440), 0], [SPY, 100]], { execs: [exec('x1', put(440), 'BUY', 1)] });
    assert.deepEqual(fmt(out.detections), [
      'ic manual SPY 2026-01-30 440 P -2 +1',
      'ic assignment EARLY SPY 2026-01-30 440 P -1 +1',
      'ic assignment EARLY SPY 0 +100',
    ]);
  });

  test('a manual trade of shares outside any strategy', () => {
    const b = bookOf([...IC, [null, SPY, 100]]);
    const out = run(b, [[SPY, 300]], { execs: [exec('s1', SPY, 'BUY', 200)] });
    assert.deepEqual(fmt(out.detections), ['outside manual SPY 100 +200']);
  });

  test('executions larger than the change wait for the position that shows them; duplicates count once', () => {
    const b = bookOf(IC);
    // Two executions of 1, the position shows only the first so far.
    const x = [exec('x1', put(435), 'SELL', 1, { at: EARLY_AT - 2000 }), exec('x2', put(435), 'SELL', 1), exec('x1', put(435), 'SELL', 1, { at: EARLY_AT - 2000 })];
    const out = run(b, [[put(435), 1]], { execs: x });
    assert.deepEqual(fmt(out.detections), ['ic manual SPY 2026-01-30 435 P 2 -1']);
    assert.deepEqual(out.usedExecIds, ['x1']);
  });
});

describe('detector: cash settlement and index options', () => {
  const spx = (k: number, style?: 'american'): Contract =>
    option({ symbol: 'SPX', right: 'P', strike: k, expiry: '2026-01-30', ...(style ? { style } : {}) });

  test('a European index option moves no stock: before expiry it is not an assignment', () => {
    const b = bookOf([['ix', spx(5000), -1], ['ix', spx(4950), 1]]);
    const out = run(b, [[spx(5000), 0]]);
    assert.equal(out.pending.length, 1);
    assert.match(out.pending[0]!.reason, /European option cannot be exercised early/);
    assert.deepEqual(fmt(run(b, [[spx(5000), 0]], { waited: WINDOW }).detections), ['ix manual SPX 2026-01-30 5000 P -1 +1']);
  });

  test('at expiry a cash-settled option goes as expiration at once, in or out of the money', () => {
    const b = bookOf([['ix', spx(5000), -1], ['ix', spx(4950), 1]]);
    const out = run(b, [[spx(5000), 0], [spx(4950), 0]], { at: AFTER_EXPIRY, price: 4900 });
    assert.deepEqual(fmt(out.detections), ['ix expiration EXPIRATION SPX 2026-01-30 4950 P 1 -1', 'ix expiration EXPIRATION SPX 2026-01-30 5000 P -1 +1']);
  });

  test('an American cash-settled option (OEX-like) can be assigned early, with no stock', () => {
    const b = bookOf([['ix', spx(5000, 'american'), -1]]);
    assert.deepEqual(fmt(run(b, [[spx(5000, 'american'), 0]]).detections), ['ix assignment EARLY SPX 2026-01-30 5000 P -1 +1']);
  });
});

describe('detector: input hygiene', () => {
  test('contracts whose broker position equals the book are ignored; the same contract twice is one change', () => {
    const b = bookOf(IC);
    assert.deepEqual(run(b, [[put(440), -2]]).detections, []);
    const changes: PositionChange[] = [
      { contract: put(440), brokerQty: Qty.unsafe(-1), brokerAt: EARLY_AT, firstSeenAt: EARLY_AT },
      { contract: put(440), brokerQty: Qty.unsafe(0), brokerAt: EpochMs.unsafe(EARLY_AT + 10), firstSeenAt: EpochMs.unsafe(EARLY_AT + 10) },
      { contract: SPY, brokerQty: Qty.unsafe(200), brokerAt: EpochMs.unsafe(EARLY_AT + 10), firstSeenAt: EpochMs.unsafe(EARLY_AT + 10) },
    ];
    const out = detect({ book: b, changes, foreignExecutions: [], now: EpochMs.unsafe(EARLY_AT + 10), pairingWindowMs: WINDOW, underlyingPrice: () => null });
    assert.deepEqual(fmt(out.detections), ['ic assignment EARLY SPY 2026-01-30 440 P -2 +2', 'ic assignment EARLY SPY 0 +200']);
    assert.equal(out.detections[0]!.brokerAt, EARLY_AT + 10);
  });

  test('many options on one underlying at once stay fast and exact', () => {
    const rows: [string, Contract, number][] = [];
    const broker: [Contract, number][] = [];
    let stock = 0;
    for (let i = 0; i < 150; i++) {
      const c = i % 2 === 0 ? put(300 + i) : call(300 + i);
      rows.push([`s${i}`, c, -1 - (i % 3)]);
      if (i % 5 !== 0) {
        broker.push([c, 0]);
        stock += c.right === 'P' ? 100 * (1 + (i % 3)) : -100 * (1 + (i % 3));
      }
    }
    broker.push([SPY, stock]);
    const out = run(bookOf(rows), broker);
    assert.equal(out.pending.length, 0);
    assert.equal(out.detections.filter((d) => d.cause === 'assignment' && d.contract.secType === 'OPT').length, 120);
  });
});
