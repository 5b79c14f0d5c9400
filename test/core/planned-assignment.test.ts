import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Holding } from '../../src/core/book.js';
import type { Contract } from '../../src/core/contract.js';
import type { BreakKind, ChangeCause, Detection } from '../../src/core/detection.js';
import { plannedAssignment } from '../../src/core/planned-assignment.js';
import { EpochMs, Qty } from '../../src/core/quantity.js';
import { call, put, sid, SPY } from './fixtures.js';

// 2026-01-31 02:30 ET: the morning after the 2026-01-30 expiry, when its results post.
const AFTER_EXPIRY = Date.parse('2026-01-31T07:30:00Z');
const EARLY = Date.parse('2026-01-28T07:30:00Z');

function det(contract: Contract, before: number, change: number, cause: ChangeCause = 'assignment', settles: Contract | null = null, at = AFTER_EXPIRY): Detection {
  const kind: BreakKind | null = cause === 'assignment' || cause === 'expiration' ? (at < AFTER_EXPIRY ? 'EARLY' : 'EXPIRATION') : null;
  return { strategyId: sid('s'), cause, kind, contract, before: Qty.unsafe(before), change: Qty.unsafe(change), settles, brokerAt: EpochMs.unsafe(at), reason: 'test' };
}

const h = (contract: Contract, qty: number): Holding => ({ contract, qty: Qty.unsafe(qty) });

describe('plannedAssignment: a covered call or a cash-secured put assigned is the plan, anything else is not', () => {
  const c450 = call(450);
  const p450 = put(450);

  test('covered call: the call assigned and its shares delivered, nothing left', () => {
    const p = plannedAssignment('covered-call', [det(c450, -1, 1), det(SPY, 100, -100, 'assignment', c450)], [], AFTER_EXPIRY);
    assert.deepEqual(p && { outcome: p.outcome, early: p.early, keeps: p.keeps, handsOver: p.handsOver, assigned: p.assigned.length }, {
      outcome: 'called-away',
      early: false,
      keeps: [],
      handsOver: [],
      assigned: 1,
    });
  });

  test('covered call with surplus shares: they pass outside once no call is left; kept while calls are', () => {
    const all = plannedAssignment('covered-call', [det(c450, -1, 1), det(SPY, 150, -100, 'assignment', c450)], [h(SPY, 50)], AFTER_EXPIRY)!;
    assert.deepEqual(all.handsOver, [h(SPY, 50)]);
    assert.deepEqual(all.keeps, []);
    const half = plannedAssignment('covered-call', [det(c450, -2, 1, 'assignment', null, EARLY), det(SPY, 200, -100, 'assignment', c450, EARLY)], [h(c450, -1), h(SPY, 100)], EARLY)!;
    assert.equal(half.early, true);
    assert.deepEqual(half.keeps, [h(c450, -1), h(SPY, 100)]);
    assert.deepEqual(half.handsOver, []);
  });

  test('cash-secured put: the shares are handed over, the puts not assigned are kept', () => {
    const p = plannedAssignment('cash-secured-put', [det(p450, -2, 1, 'assignment', null, EARLY), det(SPY, 0, 100, 'assignment', p450, EARLY)], [h(p450, -1), h(SPY, 100)], EARLY)!;
    assert.equal(p.outcome, 'shares-assigned');
    assert.equal(p.early, true);
    assert.deepEqual(p.keeps, [h(p450, -1)]);
    assert.deepEqual(p.handsOver, [h(SPY, 100)]);
  });

  test('another leg expiring worthless in the same batch is part of the plan', () => {
    const c470 = call(470);
    const p = plannedAssignment('covered-call', [det(c450, -1, 1), det(c470, -1, 1, 'expiration'), det(SPY, 200, -100, 'assignment', c450)], [h(SPY, 100)], AFTER_EXPIRY);
    assert.equal(p?.outcome, 'called-away');
  });

  test('not the plan: other kinds, other causes, a leg left naked, short stock, the wrong right, a long leg', () => {
    const settled = [det(c450, -1, 1), det(SPY, 100, -100, 'assignment', c450)];
    assert.equal(plannedAssignment('iron-condor', settled, [], AFTER_EXPIRY), null, 'only covered calls and cash-secured puts');
    assert.equal(plannedAssignment('cash-secured-put', settled, [], AFTER_EXPIRY), null, 'a call assigned on a cash-secured put');
    assert.equal(plannedAssignment('covered-call', [det(SPY, 100, -100, 'manual')], [h(c450, -1)], EARLY), null, 'shares sold under a short call');
    assert.equal(plannedAssignment('covered-call', [det(c450, -2, 1), det(SPY, 100, -100, 'assignment', c450)], [h(c450, -1)], EARLY), null, 'the call left is naked');
    assert.equal(plannedAssignment('covered-call', [det(c450, -1, 1), det(SPY, 0, -100, 'assignment', c450)], [h(SPY, -100)], AFTER_EXPIRY), null, 'short stock');
    assert.equal(plannedAssignment('covered-call', [det(c450, 1, -1, 'exercise'), det(SPY, 100, 100, 'exercise', c450)], [h(SPY, 200)], AFTER_EXPIRY), null, 'an exercise');
    assert.equal(plannedAssignment('covered-call', [det(c450, -1, 1, 'expiration')], [h(SPY, 100)], AFTER_EXPIRY), null, 'an expiry alone is not an assignment');
    assert.equal(plannedAssignment('covered-call', [], [], AFTER_EXPIRY), null);
  });
});
