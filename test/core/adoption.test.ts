import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { checkPending, describeMissingLeg, type AdoptionInput, type PendingVerdict } from '../../src/core/adoption.js';
import { Book } from '../../src/core/book.js';
import { contractKey, type Contract } from '../../src/core/contract.js';
import { AccountId, type ContractKey } from '../../src/core/ids.js';
import { EpochMs, Qty } from '../../src/core/quantity.js';
import type { StrategyDefinition } from '../../src/core/strategy.js';
import { legQty, UNIVERSE } from './arbitraries.js';
import { call, leg, put, sid, SPY } from './fixtures.js';

const ACC = AccountId.unsafe('DU1');

function def(id: string, rank: number, legs: readonly [Contract, number][]): StrategyDefinition {
  return { id: sid(id), account: ACC, kind: 'custom', legs: legs.map(([c, q]) => leg(c, q)), createdAt: EpochMs.unsafe(rank) };
}

function brokerOf(positions: readonly [Contract, number][]): AdoptionInput['broker'] {
  const m = new Map<ContractKey, { contract: Contract; qty: Qty }>();
  for (const [c, q] of positions) m.set(contractKey(c), { contract: c, qty: Qty.unsafe((m.get(contractKey(c))?.qty ?? 0) + q) });
  return m;
}

/** A book whose strategies (and outside) are `held`, with `pending` registered and holding nothing. */
function bookOf(held: readonly [string, readonly [Contract, number][]][], pending: readonly StrategyDefinition[], outside: readonly [Contract, number][] = []): Book {
  const b = new Book();
  held.forEach(([id, legs], i) => {
    b.addStrategy(sid(id), i);
    for (const [c, q] of legs) b.apply(sid(id), c, q);
  });
  for (const p of pending) b.addStrategy(p.id, 100 + p.createdAt);
  for (const [c, q] of outside) b.apply(null, c, q);
  return b;
}

const summary = (vs: readonly PendingVerdict[]): string[] =>
  vs.map((v) => `${v.strategyId} ${v.kind}${v.kind === 'wait' ? ` ${v.symbols.join(',')}` : ` ${v.legs.map((l) => (l.present ? '+' : '-')).join('')}`}`);

const vert = def('vert', 1, [[put(420), -1], [put(415), 1]]);

describe('checkPending: which pending strategies the broker holds', () => {
  test('nothing at the broker: missing, every leg absent, nothing taken', () => {
    const r = checkPending({ pending: [vert], book: bookOf([], [vert]), broker: brokerOf([]), busy: () => false });
    assert.deepEqual(summary(r.verdicts), ['vert missing --']);
    assert.deepEqual(r.verdicts[0]!.kind !== 'wait' && r.verdicts[0]!.legs.map(describeMissingLeg), [
      '-1 SPY 2026-01-30 420 P (the broker shows none)',
      '+1 SPY 2026-01-30 415 P (the broker shows none)',
    ]);
    assert.deepEqual(r.outside, []);
  });

  test('every leg at the broker, new to the book or outside any strategy: adopted, the outside giving up what it had', () => {
    const fresh = checkPending({ pending: [vert], book: bookOf([], [vert]), broker: brokerOf([[put(420), -1], [put(415), 1]]), busy: () => false });
    assert.deepEqual(summary(fresh.verdicts), ['vert adopt ++']);
    assert.deepEqual(fresh.outside, [], 'taken from what the book did not have yet');
    const seen = checkPending({ pending: [vert], book: bookOf([], [vert], [[put(420), -3], [put(415), 1]]), broker: brokerOf([[put(420), -3], [put(415), 1]]), busy: () => false });
    assert.deepEqual(summary(seen.verdicts), ['vert adopt ++']);
    assert.deepEqual(seen.outside.map((o) => [contractKey(o.contract), o.qty]).sort(), [[contractKey(put(415)), 0], [contractKey(put(420)), -2]]);
  });

  test('partly there: missing, saying which legs are; and a leg held by another strategy is not there', () => {
    const half = checkPending({ pending: [vert], book: bookOf([], [vert]), broker: brokerOf([[put(420), -1]]), busy: () => false });
    assert.deepEqual(summary(half.verdicts), ['vert missing +-']);
    const taken = checkPending({ pending: [vert], book: bookOf([['ic', [[put(420), -1]]]], [vert]), broker: brokerOf([[put(420), -1], [put(415), 1]]), busy: () => false });
    assert.deepEqual(summary(taken.verdicts), ['vert missing -+']);
    assert.equal(taken.verdicts[0]!.kind !== 'wait' && describeMissingLeg(taken.verdicts[0]!.legs[0]!), '-1 SPY 2026-01-30 420 P (the broker shows -1, held by ic)');
    const short = checkPending({ pending: [vert], book: bookOf([], [vert]), broker: brokerOf([[put(420), -1], [put(415), 1], [SPY, 0]]), busy: () => false });
    assert.deepEqual(summary(short.verdicts), ['vert adopt ++']);
  });

  test('two strategies for one position: the older takes it; a typo in the older does not cost the younger its legs', () => {
    const a = def('a', 1, [[put(440), -2]]);
    const b = def('b', 2, [[put(440), -2]]);
    const r = checkPending({ pending: [a, b], book: bookOf([], [a, b]), broker: brokerOf([[put(440), -2]]), busy: () => false });
    assert.deepEqual(summary(r.verdicts), ['a adopt +', 'b missing -']);
    assert.equal(r.verdicts[1]!.kind !== 'wait' && describeMissingLeg(r.verdicts[1]!.legs[0]!), '-2 SPY 2026-01-30 440 P (the broker shows -2, held by a)');
    const typo = def('a', 1, [[put(440), -2], [put(435), 2]]);
    const s = checkPending({ pending: [typo, b], book: bookOf([], [typo, b]), broker: brokerOf([[put(440), -2]]), busy: () => false });
    assert.deepEqual(summary(s.verdicts), ['a missing --', 'b adopt +']);
    const both = checkPending({ pending: [a, b], book: bookOf([], [a, b]), broker: brokerOf([[put(440), -4]]), busy: () => false });
    assert.deepEqual(summary(both.verdicts), ['a adopt +', 'b adopt +']);
  });

  test('legs of two strategies that net at the broker: both adopted when the broker shows exactly the net', () => {
    const a = def('a', 1, [[put(440), -2], [call(450), -2]]);
    const b = def('b', 2, [[put(440), 2], [put(430), -2]]);
    const broker = brokerOf([[call(450), -2], [put(430), -2]]);
    assert.deepEqual(summary(checkPending({ pending: [a, b], book: bookOf([], [a, b]), broker, busy: () => false }).verdicts), ['a adopt ++', 'b adopt ++']);
    // Alone, neither is there: the broker shows no 440 put.
    assert.deepEqual(summary(checkPending({ pending: [b], book: bookOf([], [b]), broker, busy: () => false }).verdicts), ['b missing -+']);
  });

  test('an option that shrank on the underlying, or the guard trading there: wait, take nothing', () => {
    // ic's short put was assigned: the put is gone and 200 shares appeared; a pending covered call wants 100 shares.
    const cc = def('cc', 1, [[SPY, 100], [call(470), -1]]);
    const book = bookOf([['ic', [[put(440), -2]]]], [cc]);
    const r = checkPending({ pending: [cc], book, broker: brokerOf([[SPY, 200], [call(470), -1]]), busy: () => false });
    assert.deepEqual(summary(r.verdicts), ['cc wait SPY']);
    assert.deepEqual(r.outside, []);
    const busy = checkPending({ pending: [vert], book: bookOf([], [vert]), broker: brokerOf([[put(420), -1], [put(415), 1]]), busy: (k) => k === contractKey(put(415)) });
    assert.deepEqual(summary(busy.verdicts), ['vert wait SPY']);
    // Once the detector gave the shares to ic, the covered call finds none free.
    const after = bookOf([['ic', [[SPY, 200]]]], [cc]);
    assert.deepEqual(summary(checkPending({ pending: [cc], book: after, broker: brokerOf([[SPY, 200], [call(470), -1]]), busy: () => false }).verdicts), ['cc missing -+']);
  });

  test('partly there, beside unclaimed stock that assigning its missing short options would have delivered: said so', () => {
    const ic = def('ic', 1, [[put(440), -2], [put(435), 2], [call(460), -2], [call(465), 2]]);
    const broker = brokerOf([[put(435), 2], [call(460), -2], [call(465), 2], [SPY, 200]]);
    const r = checkPending({ pending: [ic], book: bookOf([], [ic]), broker, busy: () => false });
    assert.deepEqual(summary(r.verdicts), ['ic missing -+++']);
    const v = r.verdicts[0]!;
    assert.ok(v.kind === 'missing');
    assert.deepEqual(v.looksAssigned.map((h) => [contractKey(h.stock), h.shares, h.options.map((o) => contractKey(o.contract))]), [['STK:SPY', 200, [contractKey(put(440))]]]);
    // Other shares, or none: no such hint; nor for a strategy none of whose legs is there (a never-held covered call).
    const other = checkPending({ pending: [ic], book: bookOf([], [ic]), broker: brokerOf([[put(435), 2], [call(460), -2], [call(465), 2], [SPY, 100]]), busy: () => false });
    assert.ok(other.verdicts[0]!.kind === 'missing' && other.verdicts[0]!.looksAssigned.length === 0);
    const cc = def('cc', 1, [[SPY, 100], [call(470), -1]]);
    const never = checkPending({ pending: [cc], book: bookOf([], [cc]), broker: brokerOf([]), busy: () => false });
    assert.ok(never.verdicts[0]!.kind === 'missing' && never.verdicts[0]!.looksAssigned.length === 0);
  });

  test('properties: an adopted set is covered, nothing flips the outside or overshoots the broker, the rest takes nothing', () => {
    const legArb = fc.tuple(fc.integer({ min: 0, max: UNIVERSE.length - 1 }), fc.integer({ min: -3, max: 3 }).filter((q) => q !== 0));
    fc.assert(
      fc.property(
        fc.array(fc.array(legArb, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 4 }),
        fc.array(legArb, { maxLength: 4 }),
        fc.array(legArb, { maxLength: 6 }),
        (pendingSpec, outsideSpec, extraSpec) => {
          const pending = pendingSpec.map((legs, i) => def(`p${i}`, i, legs.map(([ci, q]) => [UNIVERSE[ci]!, legQty(UNIVERSE[ci]!, q)] as [Contract, number])));
          const outside = outsideSpec.map(([ci, q]) => [UNIVERSE[ci]!, legQty(UNIVERSE[ci]!, q)] as [Contract, number]);
          // The broker: the outside, plus some of the pending legs and other positions.
          const broker = brokerOf([...outside, ...extraSpec.map(([ci, q]) => [UNIVERSE[ci]!, legQty(UNIVERSE[ci]!, q)] as [Contract, number])]);
          const book = bookOf([], pending, outside);
          const r = checkPending({ pending, book, broker, busy: () => false });
          const after = book.clone();
          for (const v of r.verdicts) if (v.kind === 'adopt') for (const l of v.legs) after.set(v.strategyId, l.contract, l.want);
          for (const o of r.outside) after.set(null, o.contract, o.qty);
          for (const c of UNIVERSE) {
            const key = contractKey(c);
            const b = broker.get(key)?.qty ?? 0;
            const gapBefore = b - book.net(key);
            const gapAfter = b - after.net(key);
            assert.ok(gapAfter === 0 || Math.sign(gapAfter) === Math.sign(gapBefore) || gapBefore === 0, `${key}: the gap ${gapBefore} became ${gapAfter}`);
            assert.ok(Math.abs(gapAfter) <= Math.abs(gapBefore), `${key}: the gap grew from ${gapBefore} to ${gapAfter}`);
            const o0 = book.holding(null, key);
            const o1 = after.holding(null, key);
            assert.ok(o1 === 0 || Math.sign(o1) === Math.sign(o0), `${key}: outside ${o0} became ${o1}`);
            assert.ok(Math.abs(o1) <= Math.abs(o0), `${key}: outside grew from ${o0} to ${o1}`);
          }
          for (const v of r.verdicts) {
            if (v.kind !== 'adopt') assert.ok(after.isFlat(v.strategyId), `${v.strategyId} took something without being adopted`);
            else assert.ok(v.legs.every((l) => l.present), `${v.strategyId} adopted with a leg not present`);
          }
        },
      ),
      { numRuns: 400 },
    );
  });
});
