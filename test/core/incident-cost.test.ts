import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IsoDate, stock, type Contract, type OptionContract } from '../../src/core/contract.js';
import { describeCost, executionsCash, incidentCost, midOf, settlementCash, type ClosingFill, type HeldAtDetection } from '../../src/core/incident-cost.js';

const opt = (right: 'C' | 'P', strike: number): OptionContract => ({
  secType: 'OPT',
  symbol: 'SPY',
  right,
  strike,
  expiry: IsoDate.unsafe('2026-01-30'),
  multiplier: 100,
  style: 'american',
  settlement: 'physical',
  currency: 'USD',
});

test('mid: both sides, half the ask when nothing is bid, the bid or the last otherwise', () => {
  assert.equal(midOf(1, 1.2), 1.1);
  assert.equal(midOf(0, 0.04), 0.02);
  assert.equal(midOf(null, 0.04), 0.02);
  assert.equal(midOf(2, null), 2);
  assert.equal(midOf(null, null, 3), 3);
  assert.equal(midOf(null, null), null);
});

const spy = stock('SPY');
/** The condor just before its short 440 puts were assigned, at the last marks before the break. */
const BEFORE: HeldAtDetection[] = [
  { contract: opt('P', 440), qty: -2, mid: 3.95 },
  { contract: opt('C', 460), qty: -2, mid: 0.01 },
  { contract: opt('P', 435), qty: 2, mid: 2.055 },
  { contract: opt('C', 465), qty: 2, mid: 0.01 },
];
const HELD: HeldAtDetection[] = [
  { contract: spy, qty: 200, mid: 436.1 },
  { contract: opt('C', 460), qty: -2, mid: 0.01 },
  { contract: opt('P', 435), qty: 2, mid: 2.055 },
  { contract: opt('C', 465), qty: 2, mid: 0.01 },
];
/** The assignment: the puts gone (no cash of their own), 200 SPY bought at the 440 strike. */
const ASSIGNED = [
  { contract: opt('P', 440), change: 2, cash: 0 },
  { contract: spy, change: 200, cash: -88_000 },
];
const FILLS: ClosingFill[] = [
  { ref: 'stk', contract: spy, qty: -200, price: 436.09, midAtSend: 436.1, commission: 1 },
  { ref: 'call', contract: opt('C', 460), qty: 2, price: 0.02, midAtSend: 0.01, commission: 1.3 },
  { ref: 'put', contract: opt('P', 435), qty: -1, price: 1.9, midAtSend: 1.95, commission: 0.65 },
  { ref: 'put', contract: opt('P', 435), qty: -1, price: 1.84, midAtSend: 1.95, commission: 0.65 },
];

test('an assigned condor: mark at detection, realized per order, slippage, commissions, the total against the last marks before the break', () => {
  const c = incidentCost({ incidentId: 'ic:assignment:1', strategyId: 'ic', beforeBreak: BEFORE, held: HELD, breaks: ASSIGNED, fills: FILLS });
  assert.equal(c.markAtDetection, 87_220 - 2 + 411 + 2);
  assert.deepEqual(c.orders, [
    { ref: 'stk', realized: 87_218, slippage: 2, fills: 1, commissions: 1 },
    { ref: 'call', realized: -4, slippage: 2, fills: 1, commissions: 1.3 },
    { ref: 'put', realized: 374, slippage: 16, fills: 2, commissions: 1.3 },
  ]);
  assert.equal(c.realized, 87_588);
  assert.equal(c.slippage, 20);
  assert.equal(c.commissions, 3.6);
  assert.equal(c.commissionsPending, 0);
  // The 465 C wing was left to expire: it is in the mark, not in what the close is measured against.
  assert.equal(c.versusMark, 87_588 - (87_220 - 2 + 411));
  assert.equal(c.valueBeforeBreak, -790 - 2 + 411 + 2);
  assert.equal(c.breakCash, -88_000);
  assert.equal(c.leftAtMark, 2, 'the wing, at its mark');
  // -88,000 + 87,588 - 3.60 + 2 - (-379): the assignment cost $34.60 against closing the condor before it.
  assert.equal(c.total, -34.6);
  assert.deepEqual(c.beforeBreak[0], { contract: 'SPY 2026-01-30 440 P', qty: -2, mid: 3.95 });
  assert.match(describeCost(c), /^cost: -\$34\.6 against closing at the last marks before the break \(-\$379 then\); the break moved -\$88,000; the close realized \$87,588 in 3 orders \(\$20 slippage vs mid, \$3\.6 commissions\); \$2 left at its mark; -\$41 against the mark at detection/);
});

test('total and commissions: table', () => {
  const rows: { name: string; breaks: { contract: Contract; change: number; cash: number | null }[]; fills: ClosingFill[]; total: number | null; commissions: number | null; pending: number; left: number | null }[] = [
    { name: 'the wing expires worthless later in the incident: its value is lost', breaks: [...ASSIGNED, { contract: opt('C', 465), change: -2, cash: 0 }], fills: FILLS, total: -36.6, commissions: 3.6, pending: 0, left: 0 },
    { name: 'a commission report not in yet: left out and counted pending', breaks: ASSIGNED, fills: FILLS.map((f, i) => (i === 0 ? { ...f, commission: null } : f)), total: -33.6, commissions: 2.6, pending: 1, left: 2 },
    { name: 'no report at all: commissions unknown (null), total without them', breaks: ASSIGNED, fills: FILLS.map((f) => ({ ...f, commission: null })), total: -31, commissions: null, pending: 4, left: 2 },
    { name: 'a break whose cash is unknown (cash-settled): total unknown, never zero', breaks: [{ contract: opt('P', 440), change: 2, cash: null }], fills: [], total: null, commissions: null, pending: 0, left: 411 },
    {
      name: 'nothing closed yet: what is held counts at its mark',
      breaks: ASSIGNED,
      fills: [],
      total: round2(-88_000 + (87_220 - 2 + 411 + 2) - (-379)),
      commissions: null,
      pending: 0,
      left: 87_220 - 2 + 411 + 2,
    },
  ];
  for (const r of rows) {
    const c = incidentCost({ incidentId: 'i', strategyId: 's', beforeBreak: BEFORE, held: HELD, breaks: r.breaks, fills: r.fills });
    assert.equal(c.total, r.total, `${r.name}: total`);
    assert.equal(c.commissions, r.commissions, `${r.name}: commissions`);
    assert.equal(c.commissionsPending, r.pending, `${r.name}: pending`);
    assert.equal(c.leftAtMark, r.left, `${r.name}: left`);
  }
});

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

test('the cash a detected change moved: table', () => {
  const put440 = opt('P', 440);
  const call460 = opt('C', 460);
  const spx = { ...opt('P', 5000), symbol: 'SPX', settlement: 'cash' as const };
  const rows: { name: string; d: Parameters<typeof settlementCash>[0]; seen: number | null; cash: number | null }[] = [
    { name: 'stock bought on an assigned short put, at its strike', d: { contract: spy, change: 200, cause: 'assignment', settles: put440 }, seen: null, cash: -88_000 },
    { name: 'stock sold on an assigned short call', d: { contract: spy, change: -200, cause: 'assignment', settles: call460 }, seen: null, cash: 92_000 },
    { name: 'stock bought by exercising a long call', d: { contract: spy, change: 100, cause: 'exercise', settles: call460 }, seen: null, cash: -46_000 },
    { name: 'the assigned put itself: no cash of its own', d: { contract: put440, change: 2, cause: 'assignment', settles: null }, seen: null, cash: 0 },
    { name: 'a physical option expiring', d: { contract: opt('C', 465), change: -2, cause: 'expiration', settles: null }, seen: null, cash: 0 },
    { name: 'a cash-settled option assigned: its settlement is not reported', d: { contract: spx, change: 1, cause: 'assignment', settles: null }, seen: null, cash: null },
    { name: 'a manual close with its executions seen', d: { contract: put440, change: 2, cause: 'manual', settles: null }, seen: -790, cash: -790 },
    { name: 'a manual close not seen', d: { contract: put440, change: 2, cause: 'manual', settles: null }, seen: null, cash: null },
    { name: 'a liquidation of stock with its executions', d: { contract: spy, change: -200, cause: 'liquidation', settles: null }, seen: 87_000, cash: 87_000 },
    { name: 'no change', d: { contract: spy, change: 0, cause: 'unknown', settles: null }, seen: null, cash: 0 },
  ];
  for (const r of rows) assert.equal(settlementCash(r.d, r.seen), r.cash, r.name);
  assert.equal(executionsCash(put440, [{ qty: 1, price: 3.9 }, { qty: 1, price: 4 }]), -790);
  assert.equal(executionsCash(spy, [{ qty: -200, price: 435 }]), 87_000);
});

test('an unknown mid makes the mark and the slippage unknown, never zero', () => {
  const p = opt('P', 435);
  const c = incidentCost({ incidentId: 'i', strategyId: 's', beforeBreak: [{ contract: p, qty: 2, mid: null }], held: [{ contract: p, qty: 2, mid: null }], breaks: [], fills: [{ ref: 'r', contract: p, qty: -2, price: 1, midAtSend: null }] });
  assert.equal(c.markAtDetection, null);
  assert.equal(c.slippage, null);
  assert.equal(c.versusMark, null);
  assert.equal(c.valueBeforeBreak, null);
  assert.equal(c.total, null);
  assert.equal(c.realized, 200);
});
