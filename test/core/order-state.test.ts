// The order state machine (issue 11): every status x event, written out as a table apart from the machine's code,
// and a property over random streams of broker reports, executions, reconciliations and the guard's own requests.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ORDER_STATUSES } from '../../src/core/events.js';
import { isFinishedOrder, stepOrder, type OrderEvent, type OrderLife, type StoredOrderStatus } from '../../src/core/order-state.js';

const STATUSES: readonly StoredOrderStatus[] = ['planned', ...ORDER_STATUSES];
const QTY = 4;

function life(status: StoredOrderStatus, filledUnits = 0, cancelRequested = false): OrderLife {
  return { status, filledUnits, quantity: QTY, cancelRequested };
}

/** The status after `ev` from a fresh order of each status (filled 1 of 4 unless planned), or 'refused'. */
type Row = Record<StoredOrderStatus, StoredOrderStatus | 'refused'>;

const EVENTS: readonly [string, OrderEvent, Row][] = [
  ['send', { kind: 'send' }, { planned: 'pending', pending: 'refused', working: 'refused', 'partially-filled': 'refused', filled: 'refused', cancelled: 'refused', rejected: 'refused' }],
  ['broker working 2', { kind: 'broker-status', status: 'working', filledUnits: 2 }, { planned: 'working', pending: 'working', working: 'working', 'partially-filled': 'working', filled: 'refused', cancelled: 'cancelled', rejected: 'rejected' }],
  ['broker working 0', { kind: 'broker-status', status: 'working', filledUnits: 0 }, { planned: 'working', pending: 'working', working: 'working', 'partially-filled': 'working', filled: 'refused', cancelled: 'refused', rejected: 'refused' }],
  ['broker filled 4', { kind: 'broker-status', status: 'filled', filledUnits: 4 }, { planned: 'filled', pending: 'filled', working: 'filled', 'partially-filled': 'filled', filled: 'refused', cancelled: 'cancelled', rejected: 'rejected' }],
  ['broker cancelled 1', { kind: 'broker-status', status: 'cancelled', filledUnits: 1 }, { planned: 'cancelled', pending: 'cancelled', working: 'cancelled', 'partially-filled': 'cancelled', filled: 'refused', cancelled: 'refused', rejected: 'refused' }],
  ['broker rejected 0', { kind: 'broker-status', status: 'rejected', filledUnits: 0 }, { planned: 'rejected', pending: 'rejected', working: 'rejected', 'partially-filled': 'rejected', filled: 'refused', cancelled: 'refused', rejected: 'refused' }],
  ['executed 3', { kind: 'executed', filledUnits: 3 }, { planned: 'pending', pending: 'pending', working: 'working', 'partially-filled': 'partially-filled', filled: 'refused', cancelled: 'cancelled', rejected: 'rejected' }],
  ['missing, executed 4', { kind: 'missing', executedUnits: 4, confirmed: false }, { planned: 'filled', pending: 'filled', working: 'filled', 'partially-filled': 'filled', filled: 'refused', cancelled: 'refused', rejected: 'refused' }],
  ['missing once, executed 2', { kind: 'missing', executedUnits: 2, confirmed: false }, { planned: 'pending', pending: 'pending', working: 'working', 'partially-filled': 'partially-filled', filled: 'refused', cancelled: 'refused', rejected: 'refused' }],
  ['missing twice, executed 2', { kind: 'missing', executedUnits: 2, confirmed: true }, { planned: 'cancelled', pending: 'cancelled', working: 'cancelled', 'partially-filled': 'cancelled', filled: 'refused', cancelled: 'refused', rejected: 'refused' }],
  ['cancel requested', { kind: 'cancel-requested' }, { planned: 'refused', pending: 'pending', working: 'working', 'partially-filled': 'partially-filled', filled: 'refused', cancelled: 'refused', rejected: 'refused' }],
  ['cancel failed', { kind: 'cancel-failed' }, { planned: 'refused', pending: 'refused', working: 'refused', 'partially-filled': 'refused', filled: 'refused', cancelled: 'refused', rejected: 'refused' }],
  ['withdraw', { kind: 'withdraw' }, { planned: 'cancelled', pending: 'refused', working: 'refused', 'partially-filled': 'refused', filled: 'refused', cancelled: 'refused', rejected: 'refused' }],
  ['reject', { kind: 'reject' }, { planned: 'rejected', pending: 'rejected', working: 'refused', 'partially-filled': 'refused', filled: 'refused', cancelled: 'refused', rejected: 'refused' }],
];

/** Planned orders start with nothing filled; the rest with 1 of 4, so that growth and "no new units" both show. */
const startFilled = (s: StoredOrderStatus): number => (s === 'planned' || s === 'pending' ? 0 : s === 'filled' ? QTY : 1);

describe('order state machine', () => {
  for (const [name, ev, row] of EVENTS) {
    test(`${name}: from every status`, () => {
      for (const s of STATUSES) {
        const r = stepOrder(life(s, startFilled(s)), ev);
        const got = r.ok ? r.next.status : 'refused';
        assert.equal(got, row[s], `${s} + ${name}`);
        if (!r.ok) assert.match(r.reason, new RegExp(`^order ${s} refuses '${ev.kind}'`));
      }
    });
  }

  test('the table covers every event kind', () => {
    // send-failed has its own test below (it depends on the filled units).
    const kinds = new Set([...EVENTS.map(([, ev]) => ev.kind), 'send-failed']);
    assert.deepEqual([...kinds].sort(), ['broker-status', 'cancel-failed', 'cancel-requested', 'executed', 'missing', 'reject', 'send', 'send-failed', 'withdraw']);
  });

  test('send-failed: only an order just handed over with nothing filled goes back to planned', () => {
    for (const s of STATUSES) {
      const r = stepOrder(life(s, 0), { kind: 'send-failed' });
      assert.equal(r.ok ? r.next.status : 'refused', s === 'pending' ? 'planned' : 'refused', s);
    }
    assert.equal(stepOrder(life('pending', 1), { kind: 'send-failed' }).ok, false);
  });

  test('a cancel request is a flag on a sent order until the broker finishes it; a failed request clears it', () => {
    const asked = stepOrder(life('working', 1), { kind: 'cancel-requested' });
    assert.ok(asked.ok && asked.next.cancelRequested && asked.next.status === 'working');
    assert.equal(stepOrder(asked.next, { kind: 'cancel-requested' }).ok, false, 'asked twice');
    const failed = stepOrder(asked.next, { kind: 'cancel-failed' });
    assert.ok(failed.ok && !failed.next.cancelRequested);
    const done = stepOrder(asked.next, { kind: 'broker-status', status: 'cancelled', filledUnits: 1 });
    assert.ok(done.ok && done.next.status === 'cancelled' && !done.next.cancelRequested);
  });

  test('planned, partly executed, missing from the broker: still open (its rest counts as working) until a second reconciliation; then done with the executed part', () => {
    // The defect of issue 11: it was marked filled with 2 of 4, so the gate stopped counting the other 2 as working
    // while the broker might still work them, and a re-plan could close them twice.
    const first = stepOrder(life('planned', 0), { kind: 'missing', executedUnits: 2, confirmed: false });
    assert.ok(first.ok);
    assert.deepEqual(first.next, { status: 'pending', filledUnits: 2, quantity: QTY, cancelRequested: false });
    assert.equal(isFinishedOrder(first.next.status), false, 'not finished: its rest is still counted as working');
    const second = stepOrder(first.next, { kind: 'missing', executedUnits: 2, confirmed: true });
    assert.ok(second.ok);
    assert.deepEqual(second.next, { status: 'cancelled', filledUnits: 2, quantity: QTY, cancelRequested: false });
    assert.notEqual(second.next.status, 'filled', 'never filled with fewer units than its quantity');
    // A planned order with no execution was never sent: a reconciliation says nothing about it.
    assert.equal(stepOrder(life('planned', 0), { kind: 'missing', executedUnits: 0, confirmed: true }).ok, false);
  });

  test('broker counts past the quantity, negative or not finite never move the filled units out of [filled, quantity]', () => {
    const r = stepOrder(life('working', 1), { kind: 'broker-status', status: 'partially-filled', filledUnits: 9 });
    assert.ok(r.ok && r.next.filledUnits === QTY);
    for (const bad of [Number.NaN, -3, Number.POSITIVE_INFINITY]) {
      const x = stepOrder(life('working', 2), { kind: 'broker-status', status: 'working', filledUnits: bad });
      assert.ok(x.ok && x.next.filledUnits === 2, String(bad));
    }
  });

  test('property: over any stream of events, filled never decreases nor exceeds the quantity, and a finished order never reopens or changes status', () => {
    const orderStatus = fc.constantFrom(...ORDER_STATUSES);
    const units = fc.oneof(fc.integer({ min: -2, max: 12 }), fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, 2.5));
    const event: fc.Arbitrary<OrderEvent> = fc.oneof(
      fc.constant<OrderEvent>({ kind: 'send' }),
      fc.constant<OrderEvent>({ kind: 'send-failed' }),
      fc.record({ kind: fc.constant('broker-status' as const), status: orderStatus, filledUnits: units }),
      fc.record({ kind: fc.constant('executed' as const), filledUnits: units }),
      fc.record({ kind: fc.constant('missing' as const), executedUnits: units, confirmed: fc.boolean() }),
      fc.constant<OrderEvent>({ kind: 'cancel-requested' }),
      fc.constant<OrderEvent>({ kind: 'cancel-failed' }),
      fc.constant<OrderEvent>({ kind: 'withdraw' }),
      fc.constant<OrderEvent>({ kind: 'reject' }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10 }), fc.constantFrom(...STATUSES), fc.array(event, { maxLength: 40 }), (quantity, start, events) => {
        let cur: OrderLife = { status: start, filledUnits: start === 'filled' ? quantity : 0, quantity, cancelRequested: false };
        for (const ev of events) {
          const r = stepOrder(cur, ev);
          if (!r.ok) continue;
          const next = r.next;
          assert.ok(next.filledUnits >= cur.filledUnits, `filled went down: ${cur.filledUnits} -> ${next.filledUnits}`);
          assert.ok(next.filledUnits <= quantity, `filled ${next.filledUnits} > quantity ${quantity}`);
          assert.ok(Number.isInteger(next.filledUnits), `filled ${next.filledUnits} is whole`);
          assert.equal(next.quantity, quantity);
          if (isFinishedOrder(cur.status)) {
            assert.equal(next.status, cur.status, `finished ${cur.status} moved to ${next.status} on ${ev.kind}`);
            assert.equal(next.cancelRequested, false);
          }
          if (next.status === 'planned') assert.equal(next.filledUnits, 0, 'a planned order has filled nothing');
          cur = next;
        }
      }),
      { numRuns: 500 },
    );
  });
});
