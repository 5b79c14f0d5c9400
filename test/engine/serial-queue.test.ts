import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SerialQueue } from '../../src/engine/serial-queue.js';

describe('SerialQueue: two lanes, events first', () => {
  test('a waiting event step runs before every waiting rule step; each lane keeps its order', async () => {
    const q = new SerialQueue(() => {});
    const seen: string[] = [];
    void q.push(() => void seen.push('r1'), 'rule');
    void q.push(() => void seen.push('r2'), 'rule');
    void q.push(() => void seen.push('e1'));
    void q.push(() => void seen.push('e2'), 'event');
    await q.idle();
    assert.deepEqual(seen, ['e1', 'e2', 'r1', 'r2']);
  });

  test('an event pushed by a rule step, or during the yield before the next rule step, goes before that step', async () => {
    const q = new SerialQueue(() => {});
    const seen: string[] = [];
    void q.push(() => {
      seen.push('r1');
      void q.push(() => void seen.push('e-inside'));
      setImmediate(() => void q.push(() => void seen.push('e-next-turn')));
    }, 'rule');
    void q.push(() => void seen.push('r2'), 'rule');
    void q.push(() => void seen.push('r3'), 'rule');
    await q.idle();
    assert.deepEqual(seen, ['r1', 'e-inside', 'e-next-turn', 'r2', 'r3']);
  });

  test('one step at a time; a step that throws is reported and the queue goes on; idle waits for steps queued by steps', async () => {
    const errors: unknown[] = [];
    const q = new SerialQueue((e) => errors.push(e));
    let running = 0;
    let most = 0;
    const seen: number[] = [];
    const step = (i: number) => async () => {
      running++;
      most = Math.max(most, running);
      await new Promise((r) => setImmediate(r));
      seen.push(i);
      running--;
      if (i === 2) throw new Error('boom');
      if (i === 3) void q.push(step(9), 'rule');
    };
    for (const i of [1, 2, 3]) void q.push(step(i), i === 2 ? 'rule' : 'event');
    assert.equal(q.size, 3);
    await q.idle();
    assert.deepEqual(seen, [1, 3, 2, 9]);
    assert.equal(most, 1);
    assert.equal(errors.length, 1);
    assert.equal(q.size, 0);
  });
});
