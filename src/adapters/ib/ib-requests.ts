import type { ContractDetails } from '@stoqey/ib';
import type { Contract } from '../../core/contract.js';
import { LegguardError } from '../../core/errors.js';
import type { ExecutionReport } from '../../core/events.js';
import { EpochMs } from '../../core/quantity.js';
import type { DividendInfo, Quote, UnderlyingInfo } from '../../ports/broker.js';
import type { Clock, TimerHandle } from '../../ports/clock.js';

export interface Waiter<T> {
  resolve(v: T): void;
  reject(e: unknown): void;
}

/** A request TWS answers under its request id, with what has arrived for it so far. */
export type Req =
  | { kind: 'quote'; contract: Contract; bid: number | null; ask: number | null; last: number | null; close: number | null; und: number | null; done: Waiter<Quote | null>; timer: TimerHandle }
  | { kind: 'underlying'; symbol: string; index: boolean; price: number | null; dividends: DividendInfo[] | null; done: Waiter<UnderlyingInfo>; timer: TimerHandle; settle: TimerHandle | null }
  | { kind: 'details'; what: string; results: ContractDetails[]; done: Waiter<ContractDetails[]>; timer: TimerHandle }
  | { kind: 'executions'; since: number | null; rows: ExecutionReport[]; done: Waiter<ExecutionReport[]>; timer: TimerHandle };

/** A request TWS answers with a list and an end marker (positions, open orders): one at a time, joined. */
export interface Round<T> {
  readonly waiters: Waiter<T>[];
  timer: TimerHandle | null;
}

/**
 * Request ids and the callers waiting on them. Ids live far above order ids: TWS reports errors for both by the same
 * number, and a contract details request must never be taken for an order (or the reverse). Every wait is bounded:
 * a request TWS does not answer in time fails with BROKER_TIMEOUT (a quote or an underlying answers with what came:
 * `onTimeout` decides), and everything fails at once when the connection goes.
 */
export class Requests {
  private nextReqId = 1_500_000_000;
  private readonly pending = new Map<number, Req>();

  constructor(
    /** Real time. */
    private readonly clock: Clock,
    private readonly timeoutMs: number,
    private readonly name: string,
  ) {}

  get size(): number {
    return this.pending.size;
  }

  get(id: number): Req | undefined {
    return this.pending.get(id);
  }

  /** Removes the request and stops its timer; the caller answers it. */
  take(id: number): Req | undefined {
    const r = this.pending.get(id);
    if (!r) return undefined;
    this.pending.delete(id);
    r.timer.cancel();
    if (r.kind === 'underlying') r.settle?.cancel();
    return r;
  }

  /**
   * Starts a request: `make` builds its record, `fire` sends it (through the pacer); `onTimeout` answers it when TWS
   * is late (return true), or it fails with BROKER_TIMEOUT.
   */
  request<T>(
    make: (done: Waiter<T>, timer: TimerHandle) => Req,
    what: string,
    fire: (id: number) => Promise<void>,
    onTimeout: (id: number, r: Req) => boolean = () => false,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const id = this.nextReqId++;
      const timer = this.clock.setTimer(EpochMs.unsafe(this.clock.now() + this.timeoutMs), () => {
        const r = this.pending.get(id);
        if (!r || onTimeout(id, r)) return;
        this.pending.delete(id);
        reject(new LegguardError('BROKER_TIMEOUT', `${this.name}: TWS did not answer ${what} within ${this.timeoutMs / 1000} s`, { request: what, timeoutMs: this.timeoutMs }));
      });
      this.pending.set(id, make({ resolve, reject }, timer));
      fire(id).catch((e: unknown) => {
        this.pending.delete(id);
        timer.cancel();
        reject(e instanceof Error ? e : new LegguardError('INTERNAL', String(e)));
      });
    });
  }

  /**
   * A list request (positions, open orders): callers while one is under way join it; it fails for all of them when
   * the end does not come in time or the request cannot be sent.
   */
  joinRound<T, R extends Round<T>>(slot: { get(): R | null; set(r: R | null): void }, make: (first: Waiter<T>) => R, what: string, fire: () => Promise<void>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const current = slot.get();
      if (current) {
        current.waiters.push({ resolve, reject });
        return;
      }
      const round = make({ resolve, reject });
      slot.set(round);
      round.timer = this.clock.setTimer(EpochMs.unsafe(this.clock.now() + this.timeoutMs), () => {
        if (slot.get() !== round) return;
        slot.set(null);
        const e = new LegguardError('BROKER_TIMEOUT', `${this.name}: TWS did not finish ${what} within ${this.timeoutMs / 1000} s`, { request: what, timeoutMs: this.timeoutMs });
        for (const w of round.waiters) w.reject(e);
      });
      fire().catch((e: unknown) => {
        if (slot.get() === round) slot.set(null);
        round.timer?.cancel();
        for (const w of round.waiters) w.reject(e);
      });
    });
  }

  /** Fails every request waiting (the connection went). */
  failAll(error: LegguardError): void {
    for (const id of [...this.pending.keys()]) this.take(id)?.done.reject(error);
  }
}

/** Ends a round: no longer in its slot, its timer stopped. Returns its waiters (none when it was not the one). */
export function endRound<R extends Round<unknown>>(slot: { get(): R | null; set(r: R | null): void }): R | null {
  const round = slot.get();
  if (!round) return null;
  slot.set(null);
  round.timer?.cancel();
  return round;
}
