import type { Contract, OptionContract } from '../../core/contract.js';
import type { AccountId } from '../../core/ids.js';
import type { EpochMs, Qty } from '../../core/quantity.js';
import type { FillModel } from './fill-model.js';

/**
 * The simulator's own handle: what a test or a scenario does to the simulated world, as opposed to what a broker
 * client can ask for (`BrokerPort`). The broker contract suite drives every broker under test through this handle on
 * the simulator behind it, so the same suite runs against the SimBroker directly and against the IB adapter talking
 * to the TWS-protocol gateway in front of a SimBroker.
 */
export interface SimControl {
  readonly account: AccountId;
  now(): EpochMs;
  /**
   * Moves simulated time forward by `ms`, running everything due on the way (fills, deliveries, the clearing house),
   * yielding to the real event loop between timers so that sockets in front of the simulator can flush.
   */
  advance(ms: number): Promise<void>;
  /** Sets the account's position in a contract, as a transfer would; reported as a position event. */
  setPosition(contract: Contract, qty: number, avgCost?: number): void;
  /** The account's true position now, whether or not a client has been told. */
  position(contract: Contract): Qty;
  setFillModel(spec: Partial<FillModel>): void;
  setPrice(symbol: string, price: number): void;
  /** Posts an assignment of `qty` of the account's short contracts now: position events, no execution. */
  postAssignment(contract: OptionContract, qty: number): void;
  /** Posts an exercise of `qty` of the account's long contracts now. */
  postExercise(contract: OptionContract, qty: number): void;
  /** A trade by the account holder outside legguard (TWS, the phone): an execution with no order id and no ref. */
  manualTrade(contract: Contract, signedQty: number): void;
  /** One combo order by the account holder outside legguard: every leg fills (or none), one permanent id for all. */
  manualCombo(legs: readonly { readonly contract: Contract; readonly qty: number }[]): void;
  /** The broker closes `qty` of a position (toward zero): an execution marked `liquidation`. */
  liquidate(contract: Contract, qty: number): void;
  /** The link to the broker goes down: a `connection` event, then nothing is delivered until it comes back. */
  dropConnection(reason?: string): void;
  restoreConnection(opts?: { dataLost?: boolean }): void;
}
