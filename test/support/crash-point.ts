import { existsSync, writeSync } from 'node:fs';
import type { CrashPoint } from '../../src/engine/guard-engine.js';

const POINTS: readonly CrashPoint[] = ['decision-committed', 'order-sent', 'fill-applied'];
/** How long a hold waits for its release file before it lets the guard go on anyway. */
const HOLD_LIMIT_MS = 60_000;

/**
 * `<point>[:<n>]` (LEGGUARD_DRILL_CRASH_AT, read by the drills' entry point only): a hook that kills this process with
 * SIGKILL the n-th time the engine reaches the point, as a power cut would. Undefined for an empty spec.
 *
 * With `holdUntil` (LEGGUARD_DRILL_HOLD_UNTIL, a file path) it does not kill: at the n-th point it prints
 * `drill: holding at <point>:<n>` and blocks the process until that file exists (at most a minute), so that a drill
 * can change the world at an exact point of the close (cut the guard off its store) before the guard goes on.
 */
export function crashPointFrom(spec: string | undefined, holdUntil?: string): ((p: CrashPoint) => void) | undefined {
  if (spec === undefined || spec === '') return undefined;
  const [point, nth = '1'] = spec.split(':');
  if (!POINTS.includes(point as CrashPoint) || !/^\d+$/.test(nth) || Number(nth) < 1) {
    throw new Error(`LEGGUARD_DRILL_CRASH_AT must be one of ${POINTS.join(', ')}, optionally :<n>; got ${JSON.stringify(spec)}`);
  }
  let seen = 0;
  return (p) => {
    if (p !== point) return;
    seen++;
    if (seen !== Number(nth)) return;
    if (holdUntil === undefined || holdUntil === '') {
      process.kill(process.pid, 'SIGKILL');
      return;
    }
    writeSync(1, `drill: holding at ${point}:${nth}\n`);
    const cell = new Int32Array(new SharedArrayBuffer(4));
    for (let waited = 0; !existsSync(holdUntil) && waited < HOLD_LIMIT_MS; waited += 10) Atomics.wait(cell, 0, 0, 10);
    writeSync(1, `drill: released at ${point}:${nth}\n`);
  };
}
