import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MinHeap } from '../../src/lib/min-heap.js';
import { seededRandom } from '../../src/adapters/sim/seeded-random.js';

test('MinHeap pops in the order a stable sort gives, over random pushes and pops', () => {
  const rnd = seededRandom('min-heap');
  for (let round = 0; round < 200; round++) {
    const h = new MinHeap<{ p: number; seq: number }>((a, b) => a.p < b.p || (a.p === b.p && a.seq < b.seq));
    const model: { p: number; seq: number }[] = [];
    let seq = 0;
    for (let step = 0; step < 100; step++) {
      if (rnd() < 0.6) {
        const x = { p: Math.floor(rnd() * 5), seq: seq++ };
        h.push(x);
        model.push(x);
      } else {
        model.sort((a, b) => a.p - b.p || a.seq - b.seq);
        assert.equal(h.pop(), model.shift());
      }
      assert.equal(h.size, model.length);
    }
    model.sort((a, b) => a.p - b.p || a.seq - b.seq);
    assert.equal(h.peek(), model[0]);
    const out = [];
    for (let x = h.pop(); x !== undefined; x = h.pop()) out.push(x);
    assert.deepEqual(out, model);
  }
});

test('MinHeap: empty pops undefined; clear empties it', () => {
  const h = new MinHeap<number>((a, b) => a < b);
  assert.equal(h.pop(), undefined);
  h.push(2);
  h.push(1);
  assert.deepEqual(h.clear().sort(), [1, 2]);
  assert.equal(h.size, 0);
  assert.equal(h.peek(), undefined);
});
