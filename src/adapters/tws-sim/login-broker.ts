import { LegguardError } from '../../core/errors.js';
import type { BrokerEvent } from '../../core/events.js';
import type { AccountId, BrokerOrderId } from '../../core/ids.js';
import type { OrderRequest } from '../../core/order.js';
import type { EpochMs } from '../../core/quantity.js';
import type { Contract } from '../../core/contract.js';
import type { BrokerPort, BrokerSnapshot, ExerciseAck, ExerciseRequest, PlaceAck, Quote, UnderlyingInfo } from '../../ports/broker.js';

/**
 * Several accounts behind one login, as the sim gateway serves them: one broker port per account (each simulated
 * account with its own positions, orders and executions, their ids in ranges of their own), seen as one. Events and
 * snapshots are the union (every position, execution and open order names its account); an order or exercise goes to
 * the account it names, a cancel to the account that took the order. Quotes come from the first account's broker
 * (the accounts share one market).
 *
 * @example
 *   const login = new LoginBroker([runA.broker, runB.broker]);
 *   login.accounts; // ['DU0000001', 'DU0000002']
 */
export class LoginBroker implements BrokerPort {
  readonly name: string;
  readonly account: AccountId;
  readonly accounts: readonly AccountId[];
  private readonly byAccount = new Map<string, BrokerPort>();
  /** Which account's broker took each order (by its broker order id). */
  private readonly owners = new Map<BrokerOrderId, BrokerPort>();

  constructor(private readonly brokers: readonly BrokerPort[]) {
    if (brokers.length === 0) throw new LegguardError('INVALID_INPUT', 'a login needs at least one account');
    for (const b of brokers) {
      if (this.byAccount.has(b.account)) throw new LegguardError('INVALID_INPUT', `account ${b.account} is served twice (one scenario per account)`);
      this.byAccount.set(b.account, b);
    }
    this.account = brokers[0]!.account;
    this.accounts = brokers.map((b) => b.account);
    this.name = brokers.length === 1 ? brokers[0]!.name : `login of ${this.accounts.join(', ')}`;
  }

  async connect(): Promise<void> {
    for (const b of this.brokers) if (!b.isConnected()) await b.connect();
  }

  async disconnect(): Promise<void> {
    for (const b of this.brokers) await b.disconnect();
  }

  isConnected(): boolean {
    return this.brokers.every((b) => b.isConnected());
  }

  subscribe(listener: (event: BrokerEvent) => void): () => void {
    const offs = this.brokers.map((b) => b.subscribe(listener));
    return () => {
      for (const off of offs) off();
    };
  }

  async snapshot(opts: { executionsSince: EpochMs | null }): Promise<BrokerSnapshot> {
    const snaps = await Promise.all(this.brokers.map((b) => b.snapshot(opts)));
    return {
      account: this.account,
      at: snaps[0]!.at,
      positions: snaps.flatMap((s) => s.positions),
      openOrders: snaps.flatMap((s) => s.openOrders),
      executions: snaps.flatMap((s) => s.executions),
    };
  }

  /** The broker of the account named (null: not one of this login's). */
  brokerOf(account: string): BrokerPort | null {
    return this.byAccount.get(account) ?? null;
  }

  async placeOrder(order: OrderRequest): Promise<PlaceAck> {
    const b = this.brokerOf(order.account);
    if (b === null) throw new LegguardError('INVALID_INPUT', `account ${order.account} is not managed by this login (${this.accounts.join(', ')})`);
    const ack = await b.placeOrder(order);
    this.owners.set(ack.orderId, b);
    return ack;
  }

  async cancelOrder(orderId: BrokerOrderId): Promise<void> {
    const b = this.owners.get(orderId);
    if (b === undefined) throw new LegguardError('INVALID_INPUT', `no order ${orderId} at this login`);
    await b.cancelOrder(orderId);
  }

  async exerciseOptions(request: ExerciseRequest): Promise<ExerciseAck> {
    const b = this.brokerOf(request.account);
    if (b === null) throw new LegguardError('INVALID_INPUT', `account ${request.account} is not managed by this login (${this.accounts.join(', ')})`);
    return b.exerciseOptions(request);
  }

  quote(contract: Contract): Promise<Quote | null> {
    return this.brokers[0]!.quote(contract);
  }

  underlying(symbol: string): Promise<UnderlyingInfo> {
    return this.brokers[0]!.underlying(symbol);
  }
}
