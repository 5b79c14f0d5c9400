import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Book } from '../../src/core/book.js';
import { contractKey } from '../../src/core/contract.js';
import type { PositionReport } from '../../src/core/events.js';
import { AccountId } from '../../src/core/ids.js';
import { IncrementalReconciler } from '../../src/core/incremental-reconcile.js';
import { EpochMs, Qty } from '../../src/core/quantity.js';
import { reconcile, type ReconcileInput } from '../../src/core/reconcile.js';
import type { BrokerSnapshot } from '../../src/ports/broker.js';
import { bookSpecArb, buildBook, legQty, strategyName, UNIVERSE } from './arbitraries.js';

const ACC = AccountId.unsafe('DU1');
const OTHER = AccountId.unsafe('DU2');
const AT = EpochMs.unsafe(Date.parse('2026-01-28T09:00:00-05:00'));

/** One step between two reconciliations: the book or the broker moves, or nothing does. */
type Change =
  | { kind: 'book'; holder: number; ci: number; qty: number }
  | { kind: 'remove-strategy'; holder: number }
  | { kind: 'add-strategy'; ci: number; qty: number }
  | { kind: 'broker'; ci: number; qty: number }
  | { kind: 'broker-clear' }
  | { kind: 'quiet' };

const ci = fc.integer({ min: 0, max: UNIVERSE.length - 1 });
const q = fc.integer({ min: -3, max: 3 });
const changeArb: fc.Arbitrary<Change> = fc.oneof(
  fc.record({ kind: fc.constant('book' as const), holder: fc.integer({ min: -1, max: 5 }), ci, qty: q }),
  fc.record({ kind: fc.constant('remove-strategy' as const), holder: fc.nat(5) }),
  fc.record({ kind: fc.constant('add-strategy' as const), ci, qty: q.filter((x) => x !== 0) }),
  fc.record({ kind: fc.constant('broker' as const), ci, qty: q }),
  fc.constant({ kind: 'broker-clear' as const }),
  fc.constant({ kind: 'quiet' as const }),
);

/** How a snapshot reports the broker's positions: repeats, zeros, another account's, in any order. */
interface Noise {
  readonly dup: number[];
  readonly zeros: boolean;
  readonly other: number | null;
  readonly reverse: boolean;
}
const noiseArb: fc.Arbitrary<Noise> = fc.record({
  dup: fc.array(ci, { maxLength: 2 }),
  zeros: fc.boolean(),
  other: fc.option(ci, { nil: null }),
  reverse: fc.boolean(),
});

function snapshotOf(broker: Map<number, number>, step: number, noise: Noise): BrokerSnapshot {
  const at = EpochMs.unsafe(AT + step * 1_000);
  const pos = (i: number, qty: number, tsEvent: number, account = ACC, avgCost: number | null = null): PositionReport => ({
    kind: 'position', account, contract: { ...UNIVERSE[i]! }, qty: Qty.unsafe(qty), avgCost, tsEvent: EpochMs.unsafe(tsEvent), tsInit: at,
  });
  const positions: PositionReport[] = [];
  for (const [i, qty] of broker) if (qty !== 0 || noise.zeros) positions.push(pos(i, qty, at - 10));
  // A repeat: an older report with another quantity, which the later one overrides.
  for (const i of noise.dup) positions.push(pos(i, (broker.get(i) ?? 0) + legQty(UNIVERSE[i]!, 1), at - 500, ACC, 7));
  if (noise.other !== null) positions.push(pos(noise.other, legQty(UNIVERSE[noise.other]!, 2), at, OTHER));
  if (noise.reverse) positions.reverse();
  return { account: ACC, at, positions, openOrders: [], executions: [] };
}

function apply(book: Book, broker: Map<number, number>, c: Change, added: { n: number }): void {
  switch (c.kind) {
    case 'book': {
      const holder = c.holder < 0 ? null : strategyName(c.holder);
      if (holder !== null && !book.hasStrategy(holder)) return;
      book.set(holder, UNIVERSE[c.ci]!, Qty.unsafe(legQty(UNIVERSE[c.ci]!, c.qty)));
      return;
    }
    case 'remove-strategy':
      book.removeStrategy(strategyName(c.holder));
      return;
    case 'add-strategy': {
      const id = strategyName(100 + added.n++);
      book.addStrategy(id);
      book.set(id, UNIVERSE[c.ci]!, Qty.unsafe(legQty(UNIVERSE[c.ci]!, c.qty)));
      return;
    }
    case 'broker':
      broker.set(c.ci, legQty(UNIVERSE[c.ci]!, c.qty));
      return;
    case 'broker-clear':
      broker.clear();
      return;
    case 'quiet':
      return;
  }
}

describe('incremental reconciliation', () => {
  test('equals the full reconcile() after every change, over random sequences of book and broker changes', () => {
    fc.assert(
      fc.property(bookSpecArb, fc.array(fc.tuple(changeArb, noiseArb, fc.boolean()), { minLength: 1, maxLength: 25 }), (spec, steps) => {
        const book = buildBook(spec);
        // The broker starts where the book is, give or take the first steps.
        const broker = new Map<number, number>();
        UNIVERSE.forEach((c, i) => {
          const n = book.net(contractKey(c));
          if (n !== 0) broker.set(i, n);
        });
        const inc = new IncrementalReconciler();
        const added = { n: 0 };
        steps.forEach(([change, noise, reset], step) => {
          apply(book, broker, change, added);
          if (reset) inc.reset();
          const snapshot = snapshotOf(broker, step, noise);
          const input: ReconcileInput = { snapshot, book, storeOrders: [], isKnownExecution: () => false, executionsSince: null, now: snapshot.at };
          const full = reconcile(input);
          const { keys, ...got } = inc.pass(input, book.takeTouched());
          assert.deepEqual(got, full, `step ${step} (${change.kind})`);
          assert.deepEqual(keys, snapshot.positions.map((p) => contractKey(p.contract)));
          for (const p of full.positions) assert.notEqual(p.qty, book.net(contractKey(p.contract)));
        });
      }),
      { numRuns: 300 },
    );
  });

  test('a quiet pass after a full one finds what the full one found, and nothing new where nothing changed', () => {
    const book = new Book();
    book.addStrategy(strategyName(0));
    book.set(strategyName(0), UNIVERSE[0]!, Qty.unsafe(-2));
    book.set(strategyName(0), UNIVERSE[1]!, Qty.unsafe(2));
    // The broker shows one leg short of the book: a discrepancy, found by the full pass and still there in the next.
    const broker = new Map<number, number>([[0, -2]]);
    const noise: Noise = { dup: [], zeros: false, other: null, reverse: false };
    const inc = new IncrementalReconciler();
    const first = inc.pass(inputOf(book, snapshotOf(broker, 0, noise)), book.takeTouched());
    assert.deepEqual(first.discrepancies.map((d) => d.kind), ['leg-missing']);
    const second = inc.pass(inputOf(book, snapshotOf(broker, 1, noise)), book.takeTouched());
    assert.deepEqual(second.discrepancies.map((d) => d.kind), ['leg-missing']);
    assert.equal(second.positions[0]!.tsEvent, AT + 1_000, 'the made-up report carries this snapshot time');
    // The book follows the broker: nothing differs any more.
    book.set(strategyName(0), UNIVERSE[1]!, Qty.zero);
    const third = inc.pass(inputOf(book, snapshotOf(broker, 2, noise)), book.takeTouched());
    assert.deepEqual(third.discrepancies, []);
    assert.equal(inc.present(contractKey(UNIVERSE[0]!)), true);
    assert.equal(inc.present(contractKey(UNIVERSE[1]!)), false);
  });
});

function inputOf(book: Book, snapshot: BrokerSnapshot): ReconcileInput {
  return { snapshot, book, storeOrders: [], isKnownExecution: () => false, executionsSince: null, now: snapshot.at };
}
