import { LegguardError } from '../core/errors.js';
import type { BrokerOrderId } from '../core/ids.js';
import type { OrderRequest } from '../core/order.js';
import type { Contract } from '../core/contract.js';
import type { BrokerEvent } from '../core/events.js';
import type { EpochMs } from '../core/quantity.js';
import type { BrokerPort, BrokerSnapshot, ExerciseAck, ExerciseRequest, PlaceAck, Quote, UnderlyingInfo } from '../ports/broker.js';

/**
 * The broker as the engine of a guard that may lose its leadership sees it: every command that acts at the broker
 * (place, cancel, exercise) first asks whether this guard leads. While it does, the command goes at once. While its
 * lease has lapsed and the store has not yet said whether anybody else took it, the command waits for that answer
 * (bounded: the lapse is decided within one renewal interval). One this guard may not send is not sent and rejects
 * with BROKER_DISCONNECTED (the order stays planned in the store, where the leader resumes it). Reads and events pass
 * through: a standby's book stays warm.
 */
export interface LeaderCheck {
  isLeader(): boolean;
  /** Resolves once this guard is known to lead (true) or not to (false). */
  whenLeading(): Promise<boolean>;
}

export class LeaderBroker implements BrokerPort {
  constructor(
    private readonly inner: BrokerPort,
    private readonly leader: LeaderCheck,
  ) {}

  get name(): string {
    return this.inner.name;
  }

  get account(): BrokerPort['account'] {
    return this.inner.account;
  }

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
    return this.inner.subscribe(listener);
  }

  snapshot(opts: { executionsSince: EpochMs | null }): Promise<BrokerSnapshot> {
    return this.inner.snapshot(opts);
  }

  placeOrder(order: OrderRequest): Promise<PlaceAck> {
    return this.asLeader(`order ${order.ref}`, () => this.inner.placeOrder(order));
  }

  cancelOrder(orderId: BrokerOrderId): Promise<void> {
    return this.asLeader(`the cancel of order ${orderId}`, () => this.inner.cancelOrder(orderId));
  }

  exerciseOptions(request: ExerciseRequest): Promise<ExerciseAck> {
    return this.asLeader(`the ${request.action} instruction ${request.ref}`, () => this.inner.exerciseOptions(request));
  }

  quote(contract: Contract): Promise<Quote | null> {
    return this.inner.quote(contract);
  }

  underlying(symbol: string): Promise<UnderlyingInfo> {
    return this.inner.underlying(symbol);
  }

  /** Sends at once while leading (the order of commands kept); during a lapse, once the store has answered. */
  private asLeader<T>(what: string, send: () => Promise<T>): Promise<T> {
    if (this.leader.isLeader()) return send();
    return this.leader.whenLeading().then((leading) => {
      if (leading && this.leader.isLeader()) return send();
      throw new LegguardError('BROKER_DISCONNECTED', `${what} not sent: this guard is not the account's leader (it steps down; the leader resumes it)`);
    });
  }
}
