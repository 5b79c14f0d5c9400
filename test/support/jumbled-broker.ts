import { contractKey } from '../../src/core/contract.js';
import type { BrokerEvent } from '../../src/core/events.js';
import type { AccountId, BrokerOrderId } from '../../src/core/ids.js';
import type { OrderRequest } from '../../src/core/order.js';
import { EpochMs } from '../../src/core/quantity.js';
import { seededRandom } from '../../src/adapters/sim/seeded-random.js';
import type { BrokerPort, BrokerSnapshot, PlaceAck, Quote, UnderlyingInfo } from '../../src/ports/broker.js';
import type { Clock, TimerHandle } from '../../src/ports/clock.js';

/** How a `JumbledBroker` mangles delivery. All zero (the default) passes every event on once, in order. */
export interface JumbleOptions {
  /** Seeds every choice: the same seed and the same inner events give the same delivery. */
  readonly seed: string;
  /** Chance that an event is delivered twice. */
  readonly duplicate: number;
  /** Deliver the events of one instant in a random order (position reports of one contract keep theirs). */
  readonly shuffle: boolean;
  /** Chance that an execution, order status, commission or notice is held back to a later instant ... */
  readonly holdBack: number;
  /** ... of up to this many milliseconds. */
  readonly holdBackMs: number;
  /**
   * Chance that a position report is held back (up to `holdBackMs`); later reports of the same contract wait behind
   * it, so levels still arrive in order.
   */
  readonly holdBackPositions: number;
}

export const CLEAN: JumbleOptions = { seed: 'clean', duplicate: 0, shuffle: false, holdBack: 0, holdBackMs: 0, holdBackPositions: 0 };

interface Slot {
  readonly event: BrokerEvent;
  /** Arrival order from the inner broker; a duplicate shares its original's. */
  readonly seq: number;
}

/**
 * A `BrokerPort` in front of a real one (the SimBroker in tests) that delivers the inner broker's events duplicated,
 * shuffled and late, deterministically from a seed, the way IB's separate message streams (executions, order status,
 * positions) can interleave. Commands go straight through; every `placeOrder` is recorded so that a test can check
 * that no order ref was ever sent twice, across engine restarts on the same broker.
 *
 * What it never does, because a real broker connection never does it: reorder two position reports of one contract
 * (a position report is a level, not a change; TWS sends them on one ordered stream, so a stale level never overtakes
 * a newer one) or move anything across a connection event (pending events are delivered first).
 */
export class JumbledBroker implements BrokerPort {
  readonly name: string;
  readonly account: AccountId;
  /** Every order the guard sent through this broker, in order, across engine restarts. */
  readonly sent: OrderRequest[] = [];
  readonly cancels: BrokerOrderId[] = [];
  /** Events delivered, counting duplicates; and events the inner broker produced. */
  delivered = 0;
  received = 0;

  private readonly opts: JumbleOptions;
  private readonly rnd: () => number;
  private readonly listeners: ((e: BrokerEvent) => void)[] = [];
  private buffer: Slot[] = [];
  private flushTimer: TimerHandle | null = null;
  private readonly held = new Set<{ slot: Slot; timer: TimerHandle }>();
  /** Per contract, the latest time a position report of it is held back to. */
  private readonly positionsUntil = new Map<string, number>();
  private seq = 0;

  constructor(
    private readonly inner: BrokerPort,
    private readonly clock: Clock,
    opts: Partial<JumbleOptions> = {},
  ) {
    this.opts = { ...CLEAN, ...opts };
    this.rnd = seededRandom(`jumble|${this.opts.seed}`);
    this.name = `jumbled:${inner.name}`;
    this.account = inner.account;
    inner.subscribe((e) => this.take(e));
  }

  // ------------------------------------------------------------------ commands: straight through

  connect(): Promise<void> {
    return this.inner.connect();
  }

  disconnect(): Promise<void> {
    return this.inner.disconnect();
  }

  isConnected(): boolean {
    return this.inner.isConnected();
  }

  subscribe(listener: (event: BrokerEvent) => void): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  snapshot(opts: { executionsSince: EpochMs | null }): Promise<BrokerSnapshot> {
    return this.inner.snapshot(opts);
  }

  async placeOrder(order: OrderRequest): Promise<PlaceAck> {
    const ack = await this.inner.placeOrder(order);
    // Recorded once the broker took it: a placement refused for a dropped link never went out.
    this.sent.push(order);
    return ack;
  }

  exerciseOptions(request: Parameters<BrokerPort['exerciseOptions']>[0]): ReturnType<BrokerPort['exerciseOptions']> {
    return this.inner.exerciseOptions(request);
  }

  async cancelOrder(orderId: BrokerOrderId): Promise<void> {
    await this.inner.cancelOrder(orderId);
    this.cancels.push(orderId);
  }

  quote(contract: Parameters<BrokerPort['quote']>[0]): Promise<Quote | null> {
    return this.inner.quote(contract);
  }

  underlying(symbol: string): Promise<UnderlyingInfo> {
    return this.inner.underlying(symbol);
  }

  /** Delivers `e` to the guard now, as if the broker had just sent it (no jumbling): a test's event at a chosen moment. */
  inject(e: BrokerEvent): void {
    this.delivered++;
    for (const l of [...this.listeners]) l(e);
  }

  /** Refs sent more than once, with their counts; empty when every order went out once. */
  sentTwice(): [string, number][] {
    const n = new Map<string, number>();
    for (const o of this.sent) n.set(o.ref, (n.get(o.ref) ?? 0) + 1);
    return [...n].filter(([, c]) => c > 1);
  }

  // ------------------------------------------------------------------ delivery

  private take(e: BrokerEvent): void {
    this.received++;
    if (e.kind === 'connection') {
      // Nothing crosses a connection event: what is pending goes first, held-back events included.
      for (const h of this.held) {
        h.timer.cancel();
        this.buffer.push(h.slot);
      }
      this.held.clear();
      this.positionsUntil.clear();
      this.flush();
      this.deliver(e);
      return;
    }
    const slot: Slot = { event: e, seq: this.seq++ };
    const copies = this.rnd() < this.opts.duplicate ? 2 : 1;
    const now = this.clock.now();
    for (let i = 0; i < copies; i++) {
      const chance = e.kind === 'position' ? this.opts.holdBackPositions : e.kind === 'quote' ? 0 : this.opts.holdBack;
      let at = this.opts.holdBackMs > 0 && this.rnd() < chance ? now + 1 + Math.floor(this.rnd() * this.opts.holdBackMs) : now;
      if (e.kind === 'position') {
        // Behind any report of the same contract still held back: the timers of one instant run in creation order.
        const key = contractKey(e.contract);
        at = Math.max(at, this.positionsUntil.get(key) ?? now);
        if (at > now) this.positionsUntil.set(key, at);
      }
      if (at > now) this.hold(slot, EpochMs.unsafe(at));
      else this.buffer.push(slot);
    }
    this.armFlush();
  }

  private hold(slot: Slot, at: EpochMs): void {
    const h = {
      slot,
      timer: this.clock.setTimer(at, () => {
        this.held.delete(h);
        this.buffer.push(slot);
        this.flush();
      }),
    };
    this.held.add(h);
  }

  private armFlush(): void {
    this.flushTimer ??= this.clock.setTimer(this.clock.now(), () => this.flush());
  }

  private flush(): void {
    this.flushTimer?.cancel();
    this.flushTimer = null;
    const batch = this.opts.shuffle ? this.shuffled(this.buffer) : this.buffer;
    this.buffer = [];
    for (const s of batch) this.deliver(s.event);
  }

  private deliver(e: BrokerEvent): void {
    this.delivered++;
    for (const l of [...this.listeners]) l(e);
  }

  /**
   * A random permutation in which the position reports of each contract keep their arrival order: shuffle freely,
   * then put each contract's reports back into the places its reports landed on, oldest first.
   */
  private shuffled(slots: readonly Slot[]): Slot[] {
    const keyed = slots.map((s) => ({ s, k: this.rnd() }));
    keyed.sort((a, b) => a.k - b.k);
    const out = keyed.map((x) => x.s);
    const places = new Map<string, number[]>();
    out.forEach((s, i) => {
      if (s.event.kind !== 'position') return;
      const key = contractKey(s.event.contract);
      const list = places.get(key) ?? [];
      list.push(i);
      places.set(key, list);
    });
    for (const idx of places.values()) {
      const inOrder = idx.map((i) => out[i]!).sort((a, b) => a.seq - b.seq);
      idx.forEach((i, j) => (out[i] = inOrder[j]!));
    }
    return out;
  }
}
