import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { contractKey, isOption, option, stock, type Contract } from '../../src/core/contract.js';
import { groupPositions } from '../../src/core/grouping/group-positions.js';
import type { Leg } from '../../src/core/leg.js';
import { Qty } from '../../src/core/quantity.js';
import { inferKind } from '../../src/core/strategy-kind.js';

/**
 * Random books built from random structures of every kind (on two underlyings, a few expiries and strikes, so they
 * share contracts and net) plus noise legs, netted as a broker shows them.
 */
const SYMBOLS = ['SPY', 'QQQ'] as const;
const EXPIRIES = ['2026-01-30', '2026-02-27', '2026-03-20'] as const;
const STRIKES = [420, 425, 430, 435, 440, 445, 450] as const;

const o = (symbol: string, right: 'C' | 'P', si: number, ei: number): Contract =>
  option({ symbol, right, strike: STRIKES[Math.min(si, STRIKES.length - 1)]!, expiry: EXPIRIES[ei]! });
const L = (contract: Contract, qty: number): Leg => ({ contract, qty: Qty.unsafe(qty) });

type Maker = (s: string, k: number, e: number, n: number, sign: number) => Leg[];
const MAKERS: readonly Maker[] = [
  (s, k, e, n, g) => [L(o(s, 'P', k, e), g * n), L(o(s, 'P', k + 1, e), -g * n), L(o(s, 'C', k + 3, e), -g * n), L(o(s, 'C', k + 4, e), g * n)],
  (s, k, e, n, g) => [L(o(s, 'P', k, e), g * n), L(o(s, 'P', k + 2, e), -g * n), L(o(s, 'C', k + 2, e), -g * n), L(o(s, 'C', k + 4, e), g * n)],
  (s, k, e, n, g) => [L(o(s, 'P', k, e), g * n), L(o(s, 'P', k + 1, e), -g * n)],
  (s, k, e, n, g) => [L(o(s, 'C', k, e), g * n), L(o(s, 'C', k + 2, e), -g * n)],
  (s, k, e, n, g) => [L(o(s, 'P', k, e), g * n), L(o(s, 'C', k + 2, e), g * n)],
  (s, k, e, n, g) => [L(o(s, 'P', k, e), g * n), L(o(s, 'C', k, e), g * n)],
  (s, k, e, n, g) => [L(o(s, 'C', k, e), g * n), L(o(s, 'C', k + 1, e), -2 * g * n), L(o(s, 'C', k + 2, e), g * n)],
  (s, k, e, n, g) => [L(o(s, 'C', k, e), -g * n), L(o(s, 'C', k, (e + 1) % 3), g * n)],
  (s, k, e, n, g) => [L(o(s, 'P', k, e), -g * n), L(o(s, 'P', k + 1, (e + 1) % 3), g * n)],
  (s, k, e, n) => [L(stock(s), 100 * n), L(o(s, 'C', k, e), -n)],
  (s, k, e, n) => [L(o(s, 'P', k, e), -n)],
  (s, k, e, n) => [L(stock(s), 100 * n), L(o(s, 'P', k, e), n), L(o(s, 'C', k + 2, e), -n)],
  (s, k, e, n, g) => [L(o(s, 'C', k, e), g * n), L(o(s, 'C', k + 2, e), -2 * g * n)],
];

const structureArb = fc
  .tuple(
    fc.constantFrom(...SYMBOLS),
    fc.integer({ min: 0, max: MAKERS.length - 1 }),
    fc.integer({ min: 0, max: 2 }),
    fc.integer({ min: 0, max: 2 }),
    fc.integer({ min: 1, max: 3 }),
    fc.constantFrom(1, -1),
  )
  .map(([s, m, k, e, n, g]) => MAKERS[m]!(s, k, e, n, g));

const noiseArb = fc
  .tuple(fc.constantFrom(...SYMBOLS), fc.boolean(), fc.constantFrom<'C' | 'P'>('C', 'P'), fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 2 }), fc.integer({ min: -3, max: 3 }))
  .map(([s, isStock, r, k, e, q]) => (isStock ? L(stock(s), q * 37) : L(o(s, r, k, e), q)));

function net(legs: readonly Leg[]): Map<string, { contract: Contract; qty: number }> {
  const m = new Map<string, { contract: Contract; qty: number }>();
  for (const l of legs) {
    const k = contractKey(l.contract);
    m.set(k, { contract: l.contract, qty: (m.get(k)?.qty ?? 0) + l.qty });
  }
  for (const [k, v] of m) if (v.qty === 0) m.delete(k);
  return m;
}

const bookArb = fc
  .tuple(fc.array(structureArb, { maxLength: 6 }), fc.array(noiseArb, { maxLength: 6 }))
  .map(([structures, noise]) => [...net([...structures.flat(), ...noise]).values()].map((v) => L(v.contract, v.qty)));

describe('groupPositions (property)', () => {
  test('quantities are conserved exactly; no proposal mixes underlyings; each kind is what inferKind says', () => {
    fc.assert(
      fc.property(bookArb, fc.array(fc.integer(), { maxLength: 1 }), (book, [salt]) => {
        // Combos traded together: some of the book's own two-leg pieces, to exercise that path too.
        const together = salt === undefined ? [] : [book.slice(0, 2 + (Math.abs(salt) % 3))];
        const g = groupPositions({ positions: book, together });
        const out = net([...g.proposals.flatMap((p) => p.legs), ...g.ungrouped]);
        const want = net(book);
        assert.deepEqual(new Map([...out].map(([k, v]) => [k, v.qty])), new Map([...want].map(([k, v]) => [k, v.qty])));
        for (const p of g.proposals) {
          assert.equal(new Set(p.legs.map((l) => l.contract.symbol)).size, 1, `${p.id} mixes underlyings`);
          assert.equal(p.legs[0]!.contract.symbol, p.symbol);
          assert.equal(p.kind, inferKind(p.legs), p.id);
          if (p.source === 'pattern') assert.notEqual(p.kind, 'custom', p.id);
          assert.ok(p.legs.every((l) => l.qty !== 0));
          assert.equal(new Set(p.legs.map((l) => contractKey(l.contract))).size, p.legs.length);
        }
        assert.equal(new Set(g.proposals.map((p) => p.id)).size, g.proposals.length, 'ids are distinct');
        assert.ok(g.ungrouped.every((l) => l.qty !== 0));
        // Pattern-only groupings are the same for the book in any order.
        assert.deepEqual(groupPositions({ positions: [...book].reverse(), together }), g);
      }),
      { numRuns: 400 },
    );
  });

  test('a book of whole structures of one kind each, on separate underlyings, leaves nothing ungrouped', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAKERS.length - 1 }), fc.integer({ min: 1, max: 3 }), fc.constantFrom(1, -1), (m, n, g) => {
        const legs = MAKERS[m]!('SPY', 1, 0, n, g);
        const out = groupPositions({ positions: legs });
        assert.equal(out.ungrouped.length, 0);
        assert.equal(out.proposals.length, 1);
        assert.equal(out.proposals[0]!.kind, inferKind(legs));
        assert.ok(legs.every((l) => !isOption(l.contract) || out.proposals[0]!.legs.some((p) => contractKey(p.contract) === contractKey(l.contract))));
      }),
    );
  });
});
