import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * Full garbage collections the guard asks for while it has nothing to do.
 *
 * Why: a guard's live heap is small (about 56 MB at 10,000 strategies, measured with a heap snapshot), but its
 * start-up allocates several times that (the strategies read, adopted and committed, a first rule pass), and V8 grows
 * the old generation to a multiple of the live size before it collects: the process then sits at 280-420 MB RSS for
 * minutes, on a machine that may also run TWS. A full collection once the start-up is over, and one every few minutes
 * when the engine is idle, gives that memory back (RSS about 160 MB here). It costs one pause of a few tens of ms
 * (proportional to the live heap), taken only when no event, timer or commit waits on the engine's queue; an event
 * that arrives during it waits for it like for any other step.
 *
 * Node exposes V8's `gc` only with `--expose-gc`; setting the flag at run time exposes it to a new context, which is
 * how it is reached here (the method Node's `v8.setFlagsFromString` documentation shows). Where that fails, nothing is
 * collected and the guard runs as before.
 */
export function fullCollection(): (() => void) | null {
  try {
    setFlagsFromString('--expose-gc');
    const gc: unknown = runInNewContext('gc');
    return typeof gc === 'function' ? () => void (gc as () => unknown)() : null;
  } catch {
    return null;
  }
}

export interface IdleCollectionOptions {
  /** The collection itself (`fullCollection()` in the daemon). */
  readonly collect: () => void;
  /** True while the engine has work queued or running: a collection then waits for the next tick. */
  readonly busy: () => boolean;
  /** Collections right after the start-up, this far apart (the start-up's garbage goes in a few rounds). */
  readonly settleMs: number;
  readonly settleRounds: number;
  /** Then one every `everyMs`. */
  readonly everyMs: number;
  /** Timers on this machine's clock; `unref`'d, so that they never keep a stopping process alive. */
  readonly setTimer: (fn: () => void, ms: number) => { unref?: () => void };
  readonly clearTimer: (t: { unref?: () => void }) => void;
}

/** Starts the schedule; returns its stop. A busy engine postpones a collection by one `settleMs`. */
export function startIdleCollection(o: IdleCollectionOptions): () => void {
  let timer: { unref?: () => void } | null = null;
  let settled = 0;
  let stopped = false;
  const arm = (ms: number): void => {
    if (stopped) return;
    timer = o.setTimer(tick, ms);
    timer.unref?.();
  };
  const tick = (): void => {
    timer = null;
    if (o.busy()) return arm(o.settleMs);
    o.collect();
    if (settled < o.settleRounds) settled++;
    arm(settled < o.settleRounds ? o.settleMs : o.everyMs);
  };
  arm(0);
  return () => {
    stopped = true;
    if (timer) o.clearTimer(timer);
    timer = null;
  };
}
