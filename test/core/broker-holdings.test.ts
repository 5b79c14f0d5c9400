import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { heldAtBroker } from '../../src/core/broker-holdings.js';
import { option, stock, type Contract } from '../../src/core/contract.js';
import { Qty } from '../../src/core/quantity.js';

const c120 = option({ symbol: 'XOM', right: 'C', strike: 120, expiry: '2026-02-20' });
const p100 = option({ symbol: 'XOM', right: 'P', strike: 100, expiry: '2026-02-20' });
const xom = stock('XOM');
const h = (contract: Contract, qty: number): { contract: Contract; qty: Qty } => ({ contract, qty: Qty.unsafe(qty) });
const qtys = (r: ReturnType<typeof heldAtBroker>): [string, number[]][] => r.map((s) => [s.id, s.holdings.map((x) => x.qty)]);

describe('heldAtBroker', () => {
  test('table', () => {
    const cases: { name: string; wants: { id: string; holdings: ReturnType<typeof h>[] }[]; broker: ReturnType<typeof h>[]; held: [string, number[]][]; missing: number[] }[] = [
      { name: 'all there', wants: [{ id: 'a', holdings: [h(c120, -1), h(p100, -1)] }], broker: [h(c120, -1), h(p100, -1)], held: [['a', [-1, -1]]], missing: [0] },
      { name: 'the call gone (assigned)', wants: [{ id: 'a', holdings: [h(c120, -1), h(p100, -1)] }], broker: [h(p100, -1), h(xom, -100)], held: [['a', [-1]]], missing: [1] },
      { name: 'partly there', wants: [{ id: 'a', holdings: [h(c120, -2)] }], broker: [h(c120, -1)], held: [['a', [-1]]], missing: [1] },
      { name: 'opposite sign is not it', wants: [{ id: 'a', holdings: [h(c120, -1)] }], broker: [h(c120, 1)], held: [['a', []]], missing: [1] },
      {
        name: 'shared contract handed out oldest first',
        wants: [{ id: 'a', holdings: [h(c120, -2)] }, { id: 'b', holdings: [h(c120, -2)] }],
        broker: [h(c120, -3)],
        held: [['a', [-2]], ['b', [-1]]],
        missing: [0, 1],
      },
      { name: 'more at the broker than wanted', wants: [{ id: 'a', holdings: [h(c120, -1)] }], broker: [h(c120, -5)], held: [['a', [-1]]], missing: [0] },
    ];
    for (const c of cases) {
      const r = heldAtBroker(c.wants, c.broker);
      assert.deepEqual(qtys(r), c.held, c.name);
      assert.deepEqual(r.map((s) => s.missing.length), c.missing, c.name);
    }
    assert.deepEqual(heldAtBroker([{ id: 'a', holdings: [h(c120, -2)] }], [h(c120, -1)])[0]!.missing, ['XOM 2026-02-20 120 C: wants -2, the broker shows -1 for it']);
  });
});
