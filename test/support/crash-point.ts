import type { CrashPoint } from '../../src/engine/guard-engine.js';

const POINTS: readonly CrashPoint[] = ['decision-committed', 'order-sent', 'fill-applied'];

/**
 * `<point>[:<n>]` (LEGGUARD_DRILL_CRASH_AT, read by the drills' entry point only): a hook that kills this process with
 * SIGKILL the n-th time the engine reaches the point, as a power cut would. Undefined for an empty spec.
 */
export function crashPointFrom(spec: string | undefined): ((p: CrashPoint) => void) | undefined {
  if (spec === undefined || spec === '') return undefined;
  const [point, nth = '1'] = spec.split(':');
  if (!POINTS.includes(point as CrashPoint) || !/^\d+$/.test(nth) || Number(nth) < 1) {
    throw new Error(`LEGGUARD_DRILL_CRASH_AT must be one of ${POINTS.join(', ')}, optionally :<n>; got ${JSON.stringify(spec)}`);
  }
  let seen = 0;
  return (p) => {
    if (p !== point) return;
    seen++;
    if (seen === Number(nth)) process.kill(process.pid, 'SIGKILL');
  };
}
