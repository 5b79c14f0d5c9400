import { LegguardError } from '../core/errors.js';
import type { BrokerOrderId } from '../core/ids.js';
import type { OrderRequest } from '../core/order.js';
import type { Contract } from '../core/contract.js';
import type { BrokerEvent } from '../core/events.js';
import type { EpochMs } from '../core/quantity.js';
import type { BrokerPort, BrokerSnapshot, ExerciseAck, ExerciseRequest, PlaceAck, Quote, UnderlyingInfo } from '../ports/broker.js';

/**
 * The broker as the engine of a guard that may lose its leadership sees it: every command that acts at the broker
 * (place, cancel, exercise) first asks `isLeader`, and one asked while this guard does not lead is not sent and
 * rejects with BROKER_DISCONNECTED (the order stays planned in the store, where the leader resumes it). Reads and
 * events pass through: a standby's book stays warm.
 */
export class LeaderBroker implements BrokerPort {
  constructor(
    private readonly inner: BrokerPort,
    private readonly isLeader: () => boolean,
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
    const refused = this.refusal(`order ${order.ref}`);
    return refused ? Promise.reject(refused) : this.inner.placeOrder(order);
  }

  cancelOrder(orderId: BrokerOrderId): Promise<void> {
    const refused = this.refusal(`the cancel of order ${orderId}`);
    return refused ? Promise.reject(refused) : this.inner.cancelOrder(orderId);
  }

  exerciseOptions(request: ExerciseRequest): Promise<ExerciseAck> {
    const refused = this.refusal(`the ${request.action} instruction ${request.ref}`);
    return refused ? Promise.reject(refused) : this.inner.exerciseOptions(request);
  }

  quote(contract: Contract): Promise<Quote | null> {
    return this.inner.quote(contract);
  }

  underlying(symbol: string): Promise<UnderlyingInfo> {
    return this.inner.underlying(symbol);
  }

  private refusal(what: string): LegguardError | null {
    if (this.isLeader()) return null;
    return new LegguardError('BROKER_DISCONNECTED', `${what} not sent: this guard is not the account's leader (it steps down; the leader resumes it)`);
  }
}
