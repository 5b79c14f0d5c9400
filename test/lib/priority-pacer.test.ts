import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { VirtualClock } from '../../src/adapters/clock/virtual-clock.js';
import { PriorityPacer } from '../../src/lib/priority-pacer.js';
import { LegguardError } from '../../src/core/errors.js';

describe('request pacer', () => {
  test('never more than the limit in any sliding second, whatever is submitted when', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 10 }), fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 1500 })), { maxLength: 60 }), async (limit, jobs) => {
        const clock = new VirtualClock(0);
        const pacer = new PriorityPacer(clock, limit);
        const ran: number[] = [];
        const done: Promise<void>[] = [];
        for (const [prio, at] of [...jobs].sort((a, b) => a[1] - b[1])) {
          await clock.advanceTo(at);
          done.push(pacer.submit(prio, () => ran.push(clock.now())));
        }
        await clock.advanceTo(clock.now() + 60_000);
        await Promise.all(done);
        assert.equal(ran.length, jobs.length);
        for (let i = 0; i + limit < ran.length; i++) assert.ok(ran[i + limit]! - ran[i]! >= 1000, `window starting at run ${i}`);
      }),
      { numRuns: 60 },
    );
  });

  test('queued work leaves most dangerous first (lower tier first), ties in submission order', async () => {
    const clock = new VirtualClock(0);
    const pacer = new PriorityPacer(clock, 2);
    const order: string[] = [];
    const all = [
      pacer.submit(3, () => order.push('fill-1')),
      pacer.submit(3, () => order.push('fill-2')),
      pacer.submit(3, () => order.push('long-a')),
      pacer.submit(2, () => order.push('spread')),
      pacer.submit(10, () => order.push('data')),
      pacer.submit(0, () => order.push('naked-a')),
      pacer.submit(1, () => order.push('stock')),
      pacer.submit(0, () => order.push('naked-b')),
      pacer.submit(-1, () => order.push('cancel')),
    ];
    assert.deepEqual(order, ['fill-1', 'fill-2']);
    await clock.advanceTo(5000);
    await Promise.all(all);
    assert.deepEqual(order, ['fill-1', 'fill-2', 'cancel', 'naked-a', 'naked-b', 'stock', 'spread', 'long-a', 'data']);
  });

  test('a job that throws rejects its own promise only; rejectAll rejects what is queued', async () => {
    const clock = new VirtualClock(0);
    const pacer = new PriorityPacer(clock, 1);
    await assert.rejects(pacer.submit(0, () => { throw new LegguardError('BROKER_DISCONNECTED', 'gone'); }), /gone/);
    const queued = pacer.submit(0, () => undefined);
    assert.equal(pacer.pending, 1);
    pacer.rejectAll(new LegguardError('BROKER_DISCONNECTED', 'connection lost'));
    await assert.rejects(queued, /connection lost/);
    assert.throws(() => new PriorityPacer(clock, 0), /whole number >= 1/);
  });
});
