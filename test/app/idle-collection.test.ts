// The guard's full collections: right after start-up in a few rounds, then now and then; never while the engine has
// work queued (a collection waits for the next tick); none after stop.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fullCollection, startIdleCollection } from '../../src/app/idle-collection.js';

/** Timers run by hand: `advance(ms)` fires what falls due, in order. */
function manualTimers(): { setTimer: (fn: () => void, ms: number) => { unref?: () => void }; clearTimer: (t: { unref?: () => void }) => void; advance: (ms: number) => void; now: () => number } {
  let now = 0;
  let timers: { at: number; fn: () => void; handle: { unref?: () => void } }[] = [];
  return {
    setTimer: (fn, ms) => {
      const handle = { unref: () => undefined };
      timers.push({ at: now + ms, fn, handle });
      return handle;
    },
    clearTimer: (h) => {
      timers = timers.filter((t) => t.handle !== h);
    },
    advance: (ms) => {
      const until = now + ms;
      for (;;) {
        timers.sort((a, b) => a.at - b.at);
        const next = timers[0];
        if (next === undefined || next.at > until) break;
        timers.shift();
        now = next.at;
        next.fn();
      }
      now = until;
    },
    now: () => now,
  };
}

test('collections: at once, then settleRounds rounds apart, then every everyMs; a busy engine postpones one; stop ends them', () => {
  const t = manualTimers();
  const at: number[] = [];
  let busy = false;
  const stop = startIdleCollection({ collect: () => at.push(t.now()), busy: () => busy, settleMs: 2000, settleRounds: 3, everyMs: 300_000, setTimer: t.setTimer, clearTimer: t.clearTimer });
  t.advance(0);
  assert.deepEqual(at, [0], 'once the guard guards');
  busy = true;
  t.advance(2000);
  assert.deepEqual(at, [0], 'not while the engine has work');
  busy = false;
  t.advance(2000);
  t.advance(2000);
  assert.deepEqual(at, [0, 4000, 6000], 'the start-up rounds, one postponed by the busy engine');
  t.advance(299_999);
  assert.deepEqual(at, [0, 4000, 6000]);
  t.advance(1);
  assert.deepEqual(at, [0, 4000, 6000, 306_000], 'then every five minutes');
  stop();
  t.advance(10_000_000);
  assert.equal(at.length, 4, 'none after stop');
});

test('the full collection is reachable in this runtime and gives back garbage', () => {
  const collect = fullCollection();
  assert.ok(collect !== null, 'V8 exposes gc to a new context once --expose-gc is set at run time');
  const holder: { garbage: unknown[] | null } = { garbage: Array.from({ length: 200_000 }, (_, i) => ({ i, s: `x${i}` })) };
  const before = process.memoryUsage().heapUsed;
  holder.garbage = null;
  collect();
  assert.ok(process.memoryUsage().heapUsed < before, `heap used ${before} -> ${process.memoryUsage().heapUsed}`);
});
