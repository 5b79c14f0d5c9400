// What the wire bench's two threads share: the trading morning, the account, the put spreads and a clock on real time
// from that morning. The guard runs on the main thread; the TWS-protocol gateway with its simulator on a worker
// (wire-gateway-worker.ts), as TWS runs in a process of its own.
import { ScaledClock } from '../src/adapters/clock/scaled-clock.js';
import { option } from '../src/core/contract.js';
import { AccountId, StrategyId } from '../src/core/ids.js';
import { EpochMs, Qty } from '../src/core/quantity.js';
import type { StrategyDefinition } from '../src/core/strategy.js';
import type { Clock, TimerHandle } from '../src/ports/clock.js';

export const ACCOUNT = AccountId.unsafe('DU0000001');
/** A Tuesday, 10:00 New York: regular hours, so closing orders go out at once. */
export const START = EpochMs.unsafe(Date.parse('2026-01-27T10:00:00-05:00'));
/** The guard's client id at the gateway. */
export const GUARD_CLIENT = 17;

/**
 * Underlyings the spreads rotate through (the simulated market trades any symbol it is given): enough that an
 * assignment rarely comes within the correlation window of the guard's last trade in its stock (the run waits when it
 * would).
 */
export const SYMBOLS = Array.from({ length: 100 }, (_, i) => `U${String(i).padStart(3, '0')}`);

/**
 * Put credit spreads, one lot, 440/435 near the money, each on contracts of its own: consecutive ones on different
 * underlyings (100 in rotation), weekly expiries for the rest. An assignment of the short put leaves 100 shares and
 * the long put, closed by two orders (the stock first: tier 1; then the put).
 */
export function spreads(n: number): StrategyDefinition[] {
  const out: StrategyDefinition[] = [];
  for (let i = 0; i < n; i++) {
    const symbol = SYMBOLS[i % SYMBOLS.length]!;
    const expiry = new Date(Date.parse('2026-02-06T12:00:00Z') + Math.floor(i / SYMBOLS.length) * 7 * 86_400_000).toISOString().slice(0, 10);
    const legs = [
      { contract: option({ symbol, right: 'P', strike: 440, expiry }), qty: Qty.unsafe(-1) },
      { contract: option({ symbol, right: 'P', strike: 435, expiry }), qty: Qty.unsafe(1) },
    ];
    out.push({ id: StrategyId.unsafe(`ps${i}`), account: ACCOUNT, kind: 'vertical', legs, createdAt: EpochMs.unsafe(START - n + i) });
  }
  return out;
}

/**
 * Real time from a chosen instant (a trading morning), whose timers do not keep the process alive: the simulator
 * arms its clearing house for the next close, hours away, and has no way to disarm it.
 */
export class MorningClock implements Clock {
  private readonly inner = new ScaledClock(1);
  constructor(start: EpochMs) {
    this.inner.sync(start);
  }
  now(): EpochMs {
    return this.inner.now();
  }
  perf(): number {
    return this.inner.perf();
  }
  setTimer(at: EpochMs, fn: () => void): TimerHandle {
    const h = setTimeout(fn, Math.min(Math.max(0, at - this.now()), 2 ** 31 - 1));
    h.unref();
    return { cancel: () => clearTimeout(h) };
  }
}
